import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../lib/errors";
import { FakeTusServer, MemoryStorage, MemoryUrlStorage } from "../../test/fakeTusServer";
import {
  type ArmedSend,
  type UploadDeps,
  type UploadItem,
  UploadManager,
  blockingUploads,
  fingerprintOf,
  isPermanentUploadFailure,
  uploadErrorCode,
} from "./uploads";

const CHUNK = 1024;

function bytes(n: number, seed = 7): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function fileOf(data: Uint8Array<ArrayBuffer>, name = "회의록 2026.pdf", type = "application/pdf"): File {
  return new File([data], name, { type, lastModified: 1_700_000_000_000 });
}

interface World {
  server: FakeTusServer;
  urls: MemoryUrlStorage;
  storage: MemoryStorage;
  refreshes: number;
  ended: (string | null)[];
  ready: { roomId: number; send: ArmedSend; items: UploadItem[]; files: File[] | null }[];
  abandoned: { roomId: number; send: ArmedSend }[];
}

function world(): World {
  return { server: new FakeTusServer(), urls: new MemoryUrlStorage(), storage: new MemoryStorage(), refreshes: 0, ended: [], ready: [], abandoned: [] };
}

function manager(w: World, overrides: Partial<UploadDeps> = {}): UploadManager {
  let n = 0;
  let token = w.server.validToken;
  return new UploadManager({
    userId: 5,
    tokens: {
      accessToken: async () => token,
      refresh: async () => {
        w.refreshes += 1;
        token = w.server.validToken;
        return null;
      },
      end: (reason) => w.ended.push(reason),
    },
    api: { probeUpload: (url) => w.server.head(url), terminateUpload: (url) => w.server.delete(url) },
    storage: w.storage,
    loadTus: () => import("tus-js-client"),
    endpoint: `${w.server.origin}/api/uploads`,
    maxBytes: () => 64 * 1024,
    newId: () => `local-${++n}`,
    isOnline: () => true,
    onReady: (roomId, send, items, files) => w.ready.push({ roomId, send, items, files }),
    onAbandoned: (roomId, send) => w.abandoned.push({ roomId, send }),
    tusOptions: { httpStack: w.server, urlStorage: w.urls },
    chunkSize: CHUNK,
    retryDelays: [0, 0, 0],
    ...overrides,
  });
}

/** Resolves when the store reaches a state (checked on every change, no timers). */
function until(m: UploadManager, predicate: () => boolean): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = m.subscribe(() => {
      if (predicate()) {
        stop();
        resolve();
      }
    });
  });
}

const item = (m: UploadManager, id = "local-1") => m.get(id);

/** An upload of 4 chunks paused after 2 by a first page (which then goes away, as on a reload). */
async function pausedHalfway(): Promise<{ w: World; data: Uint8Array<ArrayBuffer> }> {
  const w = world();
  const first = manager(w);
  const data = bytes(4 * CHUNK);
  w.server.hooks.afterPatch = (u) => {
    if (u.offset === 2 * CHUNK) first.pause("local-1");
  };
  first.add(7, [fileOf(data)]);
  await until(first, () => item(first)?.state === "paused");
  w.server.hooks = {};
  return { w, data };
}

describe("UploadManager (tus over a fake server)", () => {
  it("uploads a file in chunks and ends with the server's upload id", async () => {
    const w = world();
    const m = manager(w);
    const data = bytes(3 * CHUNK + 100);
    expect(m.add(7, [fileOf(data)])).toEqual([]);
    await until(m, () => item(m)?.state === "done");

    const done = item(m)!;
    expect(done.uploadId).toBe("up1");
    expect(done.sent).toBe(data.length);
    expect(w.server.bytesOf("up1")).toEqual(data);
    // One creation, then PATCHes of the chunk size, each with the bearer token and tus headers.
    expect(w.server.log.map((e) => e.method)).toEqual(["POST", "PATCH", "PATCH", "PATCH", "PATCH"]);
    expect(w.server.log.every((e) => e.headers.Authorization === "Bearer token-1" && e.headers["Tus-Resumable"] === "1.0.0")).toBe(true);
    expect(w.server.log[1]?.bodySize).toBe(CHUNK);
    // The file name travels UTF-8 in base64, as tus requires.
    const meta = w.server.uploads.get("up1")!.metadata;
    const filename = meta.split(",").find((p) => p.startsWith("filename "))!.split(" ")[1]!;
    expect(new TextDecoder().decode(Uint8Array.from(atob(filename), (c) => c.charCodeAt(0)))).toBe("회의록 2026.pdf");
    // removeFingerprintOnSuccess: nothing left to resume.
    expect(w.urls.entries.size).toBe(0);
  });

  it("pauses between chunks and resumes from the server's offset", async () => {
    const w = world();
    const m = manager(w);
    const data = bytes(4 * CHUNK);
    w.server.hooks.afterPatch = (u) => {
      if (u.offset === CHUNK) m.pause("local-1");
    };
    m.add(7, [fileOf(data)]);
    await until(m, () => item(m)?.state === "paused");
    w.server.hooks = {};
    const before = w.server.log.length;

    m.resume("local-1");
    await until(m, () => item(m)?.state === "done");
    // Resuming asks the server where it stands (HEAD), then sends only what is missing.
    const after = w.server.log.slice(before);
    expect(after[0]).toMatchObject({ method: "HEAD", status: 200 });
    expect(after.filter((e) => e.method === "PATCH").map((e) => e.headers["Upload-Offset"])).toEqual([
      String(CHUNK),
      String(2 * CHUNK),
      String(3 * CHUNK),
    ]);
    expect(w.server.uploads.size).toBe(1);
    expect(w.server.bytesOf("up1")).toEqual(data);
  });

  it("keeps the bytes of a dropped request and continues after it (network drop)", async () => {
    const w = world();
    const m = manager(w);
    const data = bytes(3 * CHUNK);
    let dropped = false;
    w.server.hooks.intercept = (req) => {
      if (req.method === "PATCH" && req.headers["Upload-Offset"] === String(CHUNK) && !dropped) {
        dropped = true;
        return { drop: true, keep: 300 };
      }
      return null;
    };
    m.add(7, [fileOf(data)]);
    await until(m, () => item(m)?.state === "done");
    const patches = w.server.log.filter((e) => e.method === "PATCH");
    expect(patches.map((e) => [e.headers["Upload-Offset"], e.status])).toEqual([
      ["0", 204],
      [String(CHUNK), "dropped"],
      [String(CHUNK + 300), 204],
      [String(2 * CHUNK + 300), 204],
    ]);
    expect(w.server.bytesOf("up1")).toEqual(data);
  });

  it("continues an upload after a reload when the same file is picked again", async () => {
    const { w, data } = await pausedHalfway();

    // The page reloads: a new manager over the same storage. The File object is gone.
    const second = manager(w);
    await second.load();
    expect(second.forRoom(7)).toMatchObject([{ localId: "local-1", state: "interrupted", sent: 2 * CHUNK, name: "회의록 2026.pdf" }]);
    expect(second.forRoom(8)).toEqual([]);

    const before = w.server.log.length;
    expect(second.add(7, [fileOf(data)])).toEqual([]);
    await until(second, () => item(second)?.state === "done");
    const after = w.server.log.slice(before);
    expect(after.map((e) => e.method)).toEqual(["HEAD", "PATCH", "PATCH"]);
    expect(after[1]?.headers["Upload-Offset"]).toBe(String(2 * CHUNK));
    expect(w.server.uploads.size).toBe(1);
    expect(w.server.bytesOf("up1")).toEqual(data);
    expect(second.forRoom(7)).toHaveLength(1);
  });

  it("a pause and resume while tus looks for the upload to continue still continues it", async () => {
    const { w, data } = await pausedHalfway();

    // After a reload, the lookup of stored uploads is slow; the user pauses and resumes meanwhile.
    const lookups: (() => void)[] = [];
    const find = w.urls.findUploadsByFingerprint.bind(w.urls);
    w.urls.findUploadsByFingerprint = (fp) => new Promise<void>((resolve) => lookups.push(resolve)).then(() => find(fp));
    const second = manager(w);
    await second.load();
    const before = w.server.log.length;
    second.add(7, [fileOf(data)]);
    await vi.waitFor(() => expect(lookups).toHaveLength(1));
    second.pause("local-1");
    second.resume("local-1");
    await vi.waitFor(() => expect(lookups).toHaveLength(2));
    for (const release of lookups) release();
    await until(second, () => item(second)?.state === "done");
    // Continued from the server's offset by one upload: no new upload was created.
    expect(w.server.log.slice(before).map((e) => e.method)).toEqual(["HEAD", "PATCH", "PATCH"]);
    expect(w.server.uploads.size).toBe(1);
    expect(w.server.bytesOf("up1")).toEqual(data);
  });

  it("after a reload, an upload the server finished is ready and one it forgot starts over", async () => {
    const w = world();
    w.storage.setItem(
      "sodam.uploads.5",
      JSON.stringify({
        items: [
          { localId: "a", roomId: 7, name: "a.bin", size: 10, type: "", lastModified: 1, state: "uploading", sent: 0, uploadUrl: `${w.server.origin}/api/uploads/upA`, uploadId: null, errorCode: null },
          { localId: "b", roomId: 7, name: "b.bin", size: 10, type: "", lastModified: 1, state: "paused", sent: 0, uploadUrl: `${w.server.origin}/api/uploads/gone`, uploadId: null, errorCode: null },
        ],
        armed: {},
      }),
    );
    w.server.uploads.set("upA", { id: "upA", length: 10, offset: 10, metadata: "", chunks: [bytes(10)] });
    const m = manager(w);
    await m.load();
    expect(m.get("a")).toMatchObject({ state: "done", uploadId: "upA" });
    expect(m.get("b")).toMatchObject({ state: "interrupted", uploadUrl: null, sent: 0 });
    // The finished one is sent without its file: the page no longer holds it.
    await m.cancel("b");
    expect(m.send(7, { body: "", draft: "", replyToId: null })).toBe(true);
    expect(w.ready).toHaveLength(1);
    expect(w.ready[0]?.items.map((i) => i.uploadId)).toEqual(["upA"]);
    expect(w.ready[0]?.files).toBeNull();
  });

  it("refreshes the access token once on a 401 and carries on", async () => {
    const w = world();
    const m = manager(w);
    w.server.validToken = "token-2"; // the token the client holds has just been rotated
    m.add(7, [fileOf(bytes(CHUNK))]);
    await until(m, () => item(m)?.state === "done");
    expect(w.refreshes).toBe(1);
    expect(w.server.log.map((e) => [e.method, e.status])).toEqual([
      ["POST", 401],
      ["POST", 201],
      ["PATCH", 204],
    ]);
    expect(w.ended).toEqual([]);
  });

  it("ends the session when the server still says 401 after a refresh", async () => {
    const w = world();
    const m = manager(w, {
      tokens: { accessToken: async () => "revoked", refresh: async () => null, end: (r) => w.ended.push(r) },
    });
    m.add(7, [fileOf(bytes(10))]);
    await until(m, () => item(m)?.state === "failed");
    expect(item(m)?.errorCode).toBe("session_expired");
    expect(w.ended).toEqual(["session_expired"]);
  });

  it("refuses files over the limit before sending a byte, and more than ten per message", () => {
    const w = world();
    const m = manager(w);
    const rejected = m.add(7, [fileOf(bytes(64 * 1024 + 1), "big.zip")]);
    expect(rejected).toEqual([{ name: "big.zip", code: "too_large" }]);
    const many = Array.from({ length: 11 }, (_, i) => fileOf(bytes(10), `f${i}.txt`, "text/plain"));
    const more = m.add(7, many);
    expect(more).toEqual([{ name: "f10.txt", code: "too_many" }]);
    expect(m.forRoom(7)).toHaveLength(10);
    expect(w.server.log.filter((e) => e.method === "POST" && e.headers["Upload-Length"] === String(64 * 1024 + 1))).toEqual([]);
  });

  it("shows the server's error code and does not retry what will not pass (507 storage full)", async () => {
    const w = world();
    const m = manager(w);
    w.server.hooks.intercept = (req) =>
      req.method === "POST" ? { status: 507, body: JSON.stringify({ code: "storage_full", message: "", data: {} }) } : null;
    m.add(7, [fileOf(bytes(10))]);
    await until(m, () => item(m)?.state === "failed");
    expect(item(m)?.errorCode).toBe("storage_full");
    expect(w.server.log).toHaveLength(1);
  });

  it("a file type the administrator disallowed fails for good: no retry, and a waiting send is taken back", async () => {
    const w = world();
    const m = manager(w);
    const refuse = (req: { method: string }) =>
      req.method === "POST" ? { status: 400, body: JSON.stringify({ code: "file_type_not_allowed", message: "", data: {} }) } : null;
    w.server.hooks.intercept = refuse;
    m.add(7, [fileOf(bytes(10), "setup.exe", "application/x-msdownload")]);
    m.send(7, { body: "설치 파일", draft: "설치 파일", replyToId: null });
    await until(m, () => item(m)?.state === "failed");
    expect(item(m)).toMatchObject({ errorCode: "file_type_not_allowed", permanent: true });
    expect(w.server.log).toHaveLength(1);
    // The send would have waited forever: the caption goes back to the composer.
    expect(m.getState().armed).toEqual({});
    expect(w.abandoned).toEqual([{ roomId: 7, send: { body: "설치 파일", draft: "설치 파일", replyToId: null } }]);
    expect(blockingUploads(m.forRoom(7))).toHaveLength(1);
    // Retry does nothing, and a new send is refused while the file is in the tray.
    m.resume("local-1");
    expect(item(m)?.state).toBe("failed");
    expect(w.server.log).toHaveLength(1);
    expect(m.send(7, { body: "다시", draft: "다시", replyToId: null })).toBe(false);
    expect(m.getState().armed).toEqual({});
    // Once it is removed, the room's other files send as usual.
    w.server.hooks = {};
    await m.cancel("local-1");
    m.add(7, [fileOf(bytes(10), "ok.pdf")]);
    expect(m.send(7, { body: "자료", draft: "자료", replyToId: null })).toBe(true);
    await until(m, () => m.forRoom(7).length === 0);
    expect(w.ready.map((r) => r.send.body)).toEqual(["자료"]);
  });

  it("a file the browser cannot read (a folder, a file gone from disk) fails for good before any request", async () => {
    const w = world();
    const m = manager(w);
    const gone = fileOf(bytes(10), "지워진 파일.pdf");
    gone.slice = () => {
      const blob = new Blob([]);
      blob.arrayBuffer = () => Promise.reject(new DOMException("gone", "NotFoundError"));
      return blob;
    };
    m.add(7, [gone]);
    m.send(7, { body: "자료", draft: "자료", replyToId: null });
    await until(m, () => item(m)?.state === "failed");
    expect(item(m)).toMatchObject({ errorCode: "file_unreadable", permanent: true });
    expect(w.server.log).toEqual([]);
    // Not sent, and the caption goes back to the composer.
    expect(m.getState().armed).toEqual({});
    expect(w.abandoned.map((a) => a.send.draft)).toEqual(["자료"]);
  });

  it("a pause and resume while the file is being checked starts one upload, not two", async () => {
    const w = world();
    const m = manager(w);
    const file = fileOf(bytes(10), "느린 디스크.pdf");
    const reads: (() => void)[] = [];
    const slice = file.slice.bind(file);
    file.slice = (...args: Parameters<File["slice"]>) => {
      const part = slice(...args);
      const read = part.arrayBuffer.bind(part);
      // The checks wait until released; tus's own reads later go through at once.
      if (reads.length < 2) part.arrayBuffer = () => new Promise<void>((resolve) => reads.push(resolve)).then(read);
      return part;
    };
    m.add(7, [file]);
    expect(reads).toHaveLength(1);
    m.pause("local-1");
    m.resume("local-1");
    expect(reads).toHaveLength(2);
    for (const release of reads) release();
    await until(m, () => item(m)?.state === "done");
    expect(w.server.log.filter((e) => e.method === "POST")).toHaveLength(1);
  });

  it("a failure that can pass later keeps Retry (5xx, 429, 404)", async () => {
    const w = world();
    const m = manager(w);
    w.server.hooks.intercept = (req) =>
      req.method === "POST" ? { status: 507, body: JSON.stringify({ code: "storage_full", message: "", data: {} }) } : null;
    m.add(7, [fileOf(bytes(10))]);
    m.send(7, { body: "캡션", draft: "캡션", replyToId: null });
    await until(m, () => item(m)?.state === "failed");
    expect(item(m)?.permanent).toBe(false);
    expect(m.getState().armed[7]?.body).toBe("캡션");
    w.server.hooks = {};
    m.resume("local-1");
    await until(m, () => m.forRoom(7).length === 0);
    expect(w.ready).toHaveLength(1);
  });

  it("classifies statuses: 4xx other than 401/404/408/409/423/429 cannot pass on a retry", () => {
    for (const status of [400, 403, 413, 415, 422]) expect(isPermanentUploadFailure(status)).toBe(true);
    for (const status of [0, 401, 404, 408, 409, 423, 429, 500, 503, 507]) expect(isPermanentUploadFailure(status)).toBe(false);
  });

  it("cancel deletes the upload on the server (tus termination)", async () => {
    const w = world();
    const m = manager(w);
    w.server.hooks.afterPatch = (u) => {
      if (u.offset === CHUNK) m.pause("local-1");
    };
    m.add(7, [fileOf(bytes(3 * CHUNK))]);
    await until(m, () => item(m)?.state === "paused");
    expect(w.server.uploads.size).toBe(1);
    await m.cancel("local-1");
    expect(m.forRoom(7)).toEqual([]);
    expect(w.server.log[w.server.log.length - 1]).toMatchObject({ method: "DELETE", status: 204 });
    expect(w.server.uploads.size).toBe(0);
    expect(w.urls.entries.size).toBe(0);
    expect(w.storage.getItem("sodam.uploads.5")).toBeNull();
  });

  it("a send asked for during the upload goes once every file is done, with all upload ids", async () => {
    const w = world();
    const m = manager(w);
    const picked = [fileOf(bytes(2 * CHUNK), "a.pdf"), fileOf(bytes(CHUNK, 3), "b.pdf")];
    m.add(7, picked);
    expect(m.send(7, { body: "자료입니다", draft: "자료입니다", replyToId: null })).toBe(true);
    expect(w.ready).toEqual([]);
    await until(m, () => m.forRoom(7).length === 0);
    expect(w.ready).toHaveLength(1);
    const [sent] = w.ready;
    expect(sent?.roomId).toBe(7);
    expect(sent?.send.body).toBe("자료입니다");
    expect(sent?.items.map((i) => i.uploadId).sort()).toEqual(["up1", "up2"]);
    // The picked files go along, in the items' order, to be attached again if the send is refused.
    expect(sent?.files).toEqual(picked);
    expect(sent?.files?.map((f) => f.name)).toEqual(sent?.items.map((i) => i.name));
    expect(m.forRoom(7)).toEqual([]);
    expect(m.getState().armed).toEqual({});
  });

  it("a second send while waiting adds to the caption", async () => {
    const w = world();
    const m = manager(w);
    w.server.hooks.afterPatch = () => m.pause("local-1");
    m.add(7, [fileOf(bytes(3 * CHUNK))]);
    await until(m, () => item(m)?.state === "paused");
    m.send(7, { body: "첫 줄", draft: "첫 줄", replyToId: null });
    m.send(7, { body: "<@3> 둘째 줄", draft: "@이영희 둘째 줄", replyToId: 12 });
    expect(m.getState().armed[7]).toEqual({ body: "첫 줄\n<@3> 둘째 줄", draft: "첫 줄\n@이영희 둘째 줄", replyToId: 12 });
    w.server.hooks = {};
    m.resume("local-1");
    await until(m, () => m.forRoom(7).length === 0);
    expect(w.ready[0]?.send.body).toBe("첫 줄\n<@3> 둘째 줄");
  });

  it("cancelling the last file of a waiting send gives the caption back", async () => {
    const w = world();
    const m = manager(w);
    w.server.hooks.afterPatch = () => m.pause("local-1");
    m.add(7, [fileOf(bytes(3 * CHUNK))]);
    await until(m, () => item(m)?.state === "paused");
    m.send(7, { body: "캡션", draft: "캡션", replyToId: null });
    await m.cancel("local-1");
    expect(w.abandoned).toEqual([{ roomId: 7, send: { body: "캡션", draft: "캡션", replyToId: null } }]);
    expect(w.ready).toEqual([]);
  });

  it("says what it would refuse without adding anything (a file put back must not be lost)", () => {
    const w = world();
    const m = manager(w);
    m.add(7, Array.from({ length: 9 }, (_, i) => fileOf(bytes(10, i), `f${i}.pdf`)));
    const back = [fileOf(bytes(10), "a.pdf"), fileOf(bytes(10), "b.pdf")];
    expect(m.wouldRefuse(7, back)).toEqual([{ name: "b.pdf", code: "too_many" }]);
    expect(m.wouldRefuse(7, [fileOf(bytes(64 * 1024 + 1), "big.bin")])).toEqual([{ name: "big.bin", code: "too_large" }]);
    expect(m.wouldRefuse(8, back)).toEqual([]);
    expect(m.forRoom(7)).toHaveLength(9);
    expect(m.forRoom(8)).toHaveLength(0);
  });

  it("the fingerprint is per user and per file", () => {
    const f = { name: "a.png", type: "image/png", size: 3, lastModified: 9 };
    expect(fingerprintOf(1, f)).not.toBe(fingerprintOf(2, f));
    expect(fingerprintOf(1, f)).toBe(fingerprintOf(1, { ...f }));
  });

  it("maps failures to error codes", () => {
    const response = (status: number, body = "") => ({
      originalRequest: {},
      originalResponse: { getStatus: () => status, getBody: () => body },
    });
    expect(uploadErrorCode(response(413, JSON.stringify({ code: "quota_exceeded" })))).toBe("quota_exceeded");
    expect(uploadErrorCode(response(429))).toBe("too_many_pending_uploads");
    expect(uploadErrorCode(response(502, "<html>"))).toBe("unavailable");
    expect(uploadErrorCode({ originalRequest: {}, originalResponse: null })).toBe("network_error");
    expect(uploadErrorCode(new Error("x"))).toBe("upload_failed");
    expect(uploadErrorCode(new ApiError(404, "upload_not_found", ""))).toBe("upload_not_found");
  });
});
