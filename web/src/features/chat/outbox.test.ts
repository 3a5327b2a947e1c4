import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { ApiError, NetworkError } from "../../lib/errors";
import type { Message } from "../../lib/model";
import { message } from "../../test/factories";
import { IdbPendingStorage } from "./idbPendingStorage";
import { MemoryPendingStorage, Outbox, type PendingMessage, type PendingStorage } from "./outbox";

function fakeServer() {
  const received: { client_msg_id: string; body: string }[] = [];
  const byClientId = new Map<string, Message>();
  let down = false;
  let seq = 0;
  return {
    received,
    setDown(v: boolean) {
      down = v;
    },
    async send(p: PendingMessage): Promise<Message> {
      if (down) throw new NetworkError("offline");
      if (p.body === "too long") throw new ApiError(413, "message_too_long", "too long");
      if (p.upload_ids?.includes("gone")) throw new ApiError(404, "upload_not_found", "No such upload.", { upload_id: "gone" });
      received.push({ client_msg_id: p.client_msg_id, body: p.body });
      const existing = byClientId.get(p.client_msg_id);
      if (existing) return existing;
      seq += 1;
      const m = message({ seq, body: p.body, client_msg_id: p.client_msg_id, room_id: p.room_id });
      byClientId.set(p.client_msg_id, m);
      return m;
    },
    messages: () => [...byClientId.values()],
  };
}

function makeOutbox(storage: PendingStorage, server: ReturnType<typeof fakeServer>, sent: Message[] = []) {
  let n = 0;
  return new Outbox({
    storage,
    send: (p) => server.send(p),
    onSent: (m) => sent.push(m),
    newId: () => `cmid-${String(++n).padStart(4, "0")}`,
    now: () => new Date(Date.UTC(2025, 0, 6, 0, 0, n)),
  });
}

describe("Outbox (pending queue)", () => {
  it("stores a message before showing it (a reload right after Enter keeps it), and shows it when it cannot be stored", async () => {
    const server = fakeServer();
    server.setDown(true);
    const storage = new MemoryPendingStorage();
    let shownWhenStored: boolean | null = null;
    const outbox = makeOutbox(
      {
        all: () => storage.all(),
        delete: (id) => storage.delete(id),
        put: async (m) => {
          shownWhenStored = outbox.getState().items.some((i) => i.client_msg_id === m.client_msg_id);
          await storage.put(m);
        },
      },
      server,
    );
    await outbox.enqueue(1, "저장 먼저");
    expect(shownWhenStored).toBe(false);
    expect(outbox.getState().items.map((i) => i.body)).toEqual(["저장 먼저"]);

    const broken = makeOutbox(
      { all: async () => [], delete: async () => undefined, put: async () => Promise.reject(new Error("QuotaExceededError")) },
      server,
    );
    await broken.enqueue(1, "저장 못 해도 보임");
    expect(broken.getState().items.map((i) => i.body)).toEqual(["저장 못 해도 보임"]);
  });

  it("sends in order and forgets a message once acknowledged", async () => {
    const server = fakeServer();
    const storage = new MemoryPendingStorage();
    const sent: Message[] = [];
    const outbox = makeOutbox(storage, server, sent);
    await outbox.enqueue(1, "하나");
    await outbox.enqueue(1, "둘");
    await outbox.flush();
    expect(sent.map((m) => m.body)).toEqual(["하나", "둘"]);
    expect(outbox.getState().items).toEqual([]);
    expect(storage.map.size).toBe(0);
  });

  it("keeps messages while offline and sends each exactly once, in order, when back", async () => {
    const server = fakeServer();
    server.setDown(true);
    const storage = new MemoryPendingStorage();
    const outbox = makeOutbox(storage, server);
    for (const body of ["첫째", "둘째", "셋째"]) await outbox.enqueue(1, body);
    await outbox.flush();
    expect(outbox.getState().items.map((i) => i.state)).toEqual(["pending", "pending", "pending"]);
    expect(storage.map.size).toBe(3);
    server.setDown(false);
    await outbox.flush();
    expect(server.messages().map((m) => m.body)).toEqual(["첫째", "둘째", "셋째"]);
    expect(outbox.getState().items).toEqual([]);
  });

  it("survives a reload: a new outbox over the same storage retries with the same client_msg_id", async () => {
    const server = fakeServer();
    const storage = new IdbPendingStorage(7);
    server.setDown(true);
    const first = makeOutbox(storage, server);
    const queued = await first.enqueue(3, "다시 보내기");
    await first.flush();

    server.setDown(false);
    const afterReload = makeOutbox(new IdbPendingStorage(7), server);
    await afterReload.load();
    expect(afterReload.getState().items.map((i) => i.client_msg_id)).toEqual([queued.client_msg_id]);
    await afterReload.flush();
    expect(server.received.map((r) => r.client_msg_id)).toEqual([queued.client_msg_id]);
    expect(await storage.all()).toEqual([]);
  });

  it("a retry after an unanswered send does not duplicate (the server dedupes by client_msg_id)", async () => {
    const server = fakeServer();
    const storage = new MemoryPendingStorage();
    const outbox = makeOutbox(storage, server);
    const item = await outbox.enqueue(1, "한 번만");
    await outbox.flush();
    // The answer was lost: the same message is tried again.
    await server.send(item);
    expect(server.messages()).toHaveLength(1);
  });

  it("marks a refused message failed, keeps going, and lets the user retry or discard it", async () => {
    const server = fakeServer();
    const storage = new MemoryPendingStorage();
    const outbox = makeOutbox(storage, server);
    const bad = await outbox.enqueue(1, "too long");
    await outbox.enqueue(1, "괜찮은 메시지");
    await outbox.flush();
    expect(outbox.getState().items).toMatchObject([{ client_msg_id: bad.client_msg_id, state: "failed", error_code: "message_too_long" }]);
    expect(server.messages().map((m) => m.body)).toEqual(["괜찮은 메시지"]);
    await outbox.discard(bad.client_msg_id);
    expect(outbox.getState().items).toEqual([]);
    expect(storage.map.size).toBe(0);
  });

  it("keeps a message the server asks to retry (send_conflict, 503) pending, not failed", async () => {
    let calls = 0;
    const storage = new MemoryPendingStorage();
    const outbox = new Outbox({
      storage,
      send: async (p) => {
        calls += 1;
        if (calls === 1) throw new ApiError(409, "send_conflict", "retry");
        if (calls === 2) throw new ApiError(503, "database_unavailable", "down");
        return message({ seq: 1, client_msg_id: p.client_msg_id });
      },
      onSent: () => undefined,
      newId: () => "cmid-retry-1",
      now: () => new Date(0),
    });
    await outbox.enqueue(1, "다시");
    await outbox.flush();
    expect(outbox.getState().items.map((i) => i.state)).toEqual(["pending"]);
    await outbox.flush();
    await outbox.flush();
    expect(outbox.getState().items).toEqual([]);
  });

  it("lists a room's pending messages", async () => {
    const server = fakeServer();
    server.setDown(true);
    const outbox = makeOutbox(new MemoryPendingStorage(), server);
    await outbox.enqueue(1, "a");
    await outbox.enqueue(2, "b");
    expect(outbox.forRoom(2).map((p) => p.body)).toEqual(["b"]);
  });

  it("keeps which upload the server could not find, and forgets it on a retry", async () => {
    const server = fakeServer();
    const storage = new MemoryPendingStorage();
    const outbox = makeOutbox(storage, server);
    await outbox.enqueue(1, "자료", null, { uploadIds: ["ok", "gone"], files: [] });
    await outbox.flush();
    const [failed] = outbox.getState().items;
    expect(failed).toMatchObject({ state: "failed", error_code: "upload_not_found", failed_upload_id: "gone" });
    expect((await storage.all())[0]?.failed_upload_id).toBe("gone");
    server.setDown(true);
    await outbox.retry(failed?.client_msg_id ?? "");
    expect(outbox.getState().items[0]).toMatchObject({ state: "pending", error_code: null });
    expect(outbox.getState().items[0]?.failed_upload_id).toBeUndefined();
  });
});
