import type { DetailedError, PreviousUpload, Upload, UploadOptions } from "tus-js-client";
import { ApiError } from "../../lib/errors";
import type { TokenSource } from "../../lib/http";
import { Store } from "../../lib/store";
import type { KeyValueStorage } from "../auth/authStore";
import { type FilesApi, uploadIdFromUrl } from "./filesApi";
import { MAX_UPLOADS_PER_MESSAGE } from "./types";

/**
 * `queued` waits for a slot; `interrupted` was cut off by a reload and needs the user to pick the
 * same file again (a page cannot reopen a file by itself); `failed` stopped on an error and can be
 * retried; `done` is on the server, waiting to be sent.
 */
export type UploadState = "queued" | "uploading" | "paused" | "interrupted" | "failed" | "done";

export interface UploadItem {
  localId: string;
  roomId: number;
  name: string;
  size: number;
  type: string;
  lastModified: number;
  state: UploadState;
  /** Bytes on the server (while uploading: sent so far). */
  sent: number;
  uploadUrl: string | null;
  /** For `upload_ids`, once done. */
  uploadId: string | null;
  errorCode: string | null;
  /**
   * The failure cannot pass on a retry (the server refused the file itself, e.g. a file type the
   * administrator disallowed): no Retry, and a waiting send is taken back until the file is removed.
   */
  permanent?: boolean;
  /** An object URL of a picked image, for the chip's preview (none after a reload). */
  previewUrl: string | null;
}

/** A send the user asked for while files were still uploading: it goes once they are all done. */
export interface ArmedSend {
  /** The caption as sent (mentions encoded); may be empty. */
  body: string;
  /** The caption as typed, to give back to the composer if the user takes the send back. */
  draft: string;
  replyToId: number | null;
}

export interface UploadsState {
  items: UploadItem[];
  armed: Record<number, ArmedSend>;
}

export type Rejection = { name: string; code: "too_large" | "too_many" | "folder" };

/** The part of tus-js-client the manager uses (loaded on the first upload, not with the app). */
export interface TusModule {
  Upload: typeof Upload;
  defaultOptions: UploadOptions;
}

export interface UploadDeps {
  userId: number;
  tokens: TokenSource;
  api: Pick<FilesApi, "probeUpload" | "terminateUpload">;
  storage: KeyValueStorage;
  loadTus(): Promise<TusModule>;
  endpoint: string;
  maxBytes(): number;
  newId(): string;
  isOnline(): boolean;
  /**
   * Every file of an armed room is done: send the message (the manager has let go of them).
   * `files` are the picked files in the same order when the page still holds every one of them
   * (not after a reload), so they can be attached again if the server refuses the send.
   */
  onReady(roomId: number, send: ArmedSend, items: UploadItem[], files: File[] | null): void;
  /** The last file of an armed room was cancelled: the caption goes back to the composer. */
  onAbandoned(roomId: number, send: ArmedSend): void;
  createPreview?(file: File): string | null;
  revokePreview?(url: string): void;
  /** Tests pass an HTTP stack and URL storage; the browser uses XHR and localStorage. */
  tusOptions?: Pick<UploadOptions, "httpStack" | "urlStorage">;
  chunkSize?: number;
  retryDelays?: number[];
  concurrency?: number;
}

/** 8 MiB: a 300 MB file in ~38 requests, and little to resend after a drop. */
const CHUNK_SIZE = 8 * 1024 * 1024;
/** Network drops and 5xx are retried on this schedule; it starts over whenever bytes get through. */
const RETRY_DELAYS = [0, 1_000, 3_000, 5_000, 10_000, 20_000, 30_000];
/** Progress is published in steps of 0.5% (a 300 MB upload would otherwise re-render per packet). */
const PROGRESS_STEPS = 200;

type Journal = { items: Omit<UploadItem, "previewUrl">[]; armed: Record<number, ArmedSend> };

/**
 * The files a user is sending, per room: resumable tus uploads (tus-js-client) with pause, resume
 * and cancel, kept across room switches (in memory) and reloads (a journal in localStorage, and
 * tus's own fingerprint store so the same file picked again continues where it stopped).
 */
export class UploadManager extends Store<UploadsState> {
  private readonly deps: UploadDeps;
  private readonly files = new Map<string, File>();
  private readonly uploads = new Map<string, Upload>();
  private readonly running = new Set<string>();
  /** The latest start of each item (see `start`). */
  private readonly starts = new Map<string, symbol>();
  private tus: Promise<TusModule> | null = null;
  private lastJournal = "";

  constructor(deps: UploadDeps) {
    super({ items: [], armed: {} });
    this.deps = deps;
  }

  forRoom(roomId: number): UploadItem[] {
    return this.getState().items.filter((i) => i.roomId === roomId);
  }

  get(localId: string): UploadItem | undefined {
    return this.getState().items.find((i) => i.localId === localId);
  }

  /**
   * Files picked, dropped or pasted into a room. A file matching an interrupted upload of the room
   * (same name, size, type and modification time) continues it; files over the size limit or past
   * the per-message count are refused.
   */
  add(roomId: number, files: readonly File[]): Rejection[] {
    const { rejected, resumed, fresh } = this.plan(roomId, files);
    for (const [waiting, file] of resumed) {
      this.files.set(waiting.localId, file);
      this.patch(waiting.localId, { state: "queued", errorCode: null, permanent: false, previewUrl: this.preview(file) });
    }
    for (const file of fresh) {
      const item: UploadItem = {
        localId: this.deps.newId(),
        roomId,
        name: file.name,
        size: file.size,
        type: file.type,
        lastModified: file.lastModified,
        state: "queued",
        sent: 0,
        uploadUrl: null,
        uploadId: null,
        errorCode: null,
        previewUrl: this.preview(file),
      };
      this.files.set(item.localId, file);
      this.setState((s) => ({ ...s, items: [...s.items, item] }));
    }
    this.persist();
    this.pump();
    return rejected;
  }

  /** What `add` would refuse, without adding anything. */
  wouldRefuse(roomId: number, files: readonly File[]): Rejection[] {
    return this.plan(roomId, files).rejected;
  }

  private plan(roomId: number, files: readonly File[]): { rejected: Rejection[]; resumed: [UploadItem, File][]; fresh: File[] } {
    const rejected: Rejection[] = [];
    const resumed: [UploadItem, File][] = [];
    const fresh: File[] = [];
    const max = this.deps.maxBytes();
    const items = this.forRoom(roomId);
    for (const file of files) {
      if (file.size > max) {
        rejected.push({ name: file.name, code: "too_large" });
        continue;
      }
      const waiting = items.find(
        (i) =>
          (i.state === "interrupted" || (i.state === "failed" && !this.files.has(i.localId))) &&
          sameFile(i, file) &&
          !resumed.some(([r]) => r.localId === i.localId),
      );
      if (waiting) {
        resumed.push([waiting, file]);
        continue;
      }
      if (items.length + fresh.length >= MAX_UPLOADS_PER_MESSAGE) {
        rejected.push({ name: file.name, code: "too_many" });
        continue;
      }
      fresh.push(file);
    }
    return { rejected, resumed, fresh };
  }

  pause(localId: string): void {
    const item = this.get(localId);
    if (!item || (item.state !== "uploading" && item.state !== "queued")) return;
    void this.uploads.get(localId)?.abort(false);
    this.release(localId);
    this.patch(localId, { state: "paused" });
    this.pump();
  }

  /** Continues a paused or failed upload (an interrupted one needs its file picked again). */
  resume(localId: string): void {
    const item = this.get(localId);
    if (!item || !this.files.has(localId)) return;
    if (item.state !== "paused" && item.state !== "failed") return;
    if (item.state === "failed" && item.permanent) return;
    this.patch(localId, { state: "queued", errorCode: null, permanent: false });
    this.pump();
  }

  /** Removes a file from the tray and deletes its upload on the server (tus termination). */
  async cancel(localId: string): Promise<void> {
    const item = this.get(localId);
    if (!item) return;
    const upload = this.uploads.get(localId);
    this.forgetLocal(localId);
    const roomId = item.roomId;
    const armed = this.getState().armed[roomId];
    if (armed && this.forRoom(roomId).length === 0) {
      this.disarm(roomId);
      this.deps.onAbandoned(roomId, armed);
    } else {
      this.checkArmed(roomId);
    }
    this.pump();
    try {
      if (upload) {
        await upload.abort(true);
      } else if (item.uploadUrl) {
        await this.deps.api.terminateUpload(item.uploadUrl);
        await this.forgetStoredUrl(item, item.uploadUrl);
      }
    } catch {
      // Unreachable now: the server expires unfinished uploads by itself.
    }
  }

  /**
   * Sends the room's files with this caption once every one of them is on the server (at once if
   * they already are). Returns false when the room has no files.
   */
  send(roomId: number, send: ArmedSend): boolean {
    if (this.forRoom(roomId).length === 0) return false;
    // A file that failed for good would hold the send forever: the user removes it first.
    if (blockingUploads(this.forRoom(roomId)).length > 0) return false;
    // Sending again while waiting adds to the caption instead of replacing it.
    const waiting = this.getState().armed[roomId];
    const next: ArmedSend = waiting
      ? {
          body: [waiting.body, send.body].filter(Boolean).join("\n"),
          draft: [waiting.draft, send.draft].filter(Boolean).join("\n"),
          replyToId: send.replyToId ?? waiting.replyToId,
        }
      : send;
    this.setState((s) => ({ ...s, armed: { ...s.armed, [roomId]: next } }));
    this.persist();
    this.checkArmed(roomId);
    return true;
  }

  /** Takes back a send that was waiting for uploads; the files stay in the tray. */
  disarm(roomId: number): ArmedSend | null {
    const armed = this.getState().armed[roomId] ?? null;
    if (!armed) return null;
    this.setState((s) => {
      const next = { ...s.armed };
      delete next[roomId];
      return { ...s, armed: next };
    });
    this.persist();
    return armed;
  }

  /**
   * After a reload: the journal's uploads come back. Finished ones can be sent; the others are
   * interrupted until their file is picked again, with the server's offset (tus HEAD) as progress.
   */
  async load(): Promise<void> {
    const journal = readJournal(this.deps.storage, this.key());
    if (!journal) return;
    const known = new Set(this.getState().items.map((i) => i.localId));
    const restored: UploadItem[] = journal.items
      .filter((i) => !known.has(i.localId))
      .map((i) => ({
        ...i,
        state: i.state === "done" ? "done" : "interrupted",
        sent: i.state === "done" ? i.size : 0,
        errorCode: null,
        permanent: false,
        previewUrl: null,
      }));
    this.setState((s) => ({ items: [...restored, ...s.items], armed: { ...journal.armed, ...s.armed } }));
    this.persist();
    await Promise.all(
      restored.filter((i) => i.state === "interrupted" && i.uploadUrl).map((i) => this.probe(i.localId, i.uploadUrl as string)),
    );
    for (const roomId of Object.keys(this.getState().armed)) this.checkArmed(Number(roomId));
  }

  /** The session ends (logout): uploads stop where they are, to be resumed another time. */
  stopAll(): void {
    for (const item of this.getState().items) {
      if (item.state === "uploading" || item.state === "queued") this.pause(item.localId);
    }
  }

  /** The network is back: uploads that stopped for lack of it continue. */
  networkOnline(): void {
    for (const item of this.getState().items) {
      if (item.state === "failed" && item.errorCode === "network_error") this.resume(item.localId);
    }
  }

  private async probe(localId: string, url: string): Promise<void> {
    let answer;
    try {
      answer = await this.deps.api.probeUpload(url);
    } catch {
      return; // unreachable now; the next attempt finds out
    }
    const item = this.get(localId);
    if (!item || item.state !== "interrupted") return;
    if (answer === null) {
      // The server no longer has it (expired): picking the file again starts over.
      this.patch(localId, { uploadUrl: null, sent: 0 });
    } else if (answer.offset >= answer.length && answer.length === item.size) {
      this.patch(localId, { state: "done", sent: item.size, uploadId: uploadIdFromUrl(url) });
    } else {
      this.patch(localId, { sent: answer.offset });
    }
  }

  private pump(): void {
    const limit = this.deps.concurrency ?? 2;
    for (const item of this.getState().items) {
      if (this.running.size >= limit) return;
      if (item.state === "queued" && this.files.has(item.localId) && !this.running.has(item.localId)) {
        this.running.add(item.localId);
        this.patch(item.localId, { state: "uploading" });
        void this.start(item.localId);
      }
    }
  }

  private async start(localId: string): Promise<void> {
    // A file moved or deleted since it was picked, or a folder, cannot be read: the browser's
    // upload would fail like a lost connection and be retried forever. Read a byte first.
    // A pause and resume while it reads start the item again: only the newest start goes on.
    const token = Symbol(localId);
    this.starts.set(localId, token);
    const current = () => this.starts.get(localId) === token && this.get(localId)?.state === "uploading";
    const picked = this.files.get(localId);
    const ok = picked ? await readable(picked) : true;
    if (!current()) return;
    if (!ok) {
      this.fail(localId, "file_unreadable", true);
      return;
    }
    let upload = this.uploads.get(localId);
    if (!upload) {
      let tus: TusModule;
      try {
        tus = await this.loadTus();
      } catch {
        this.fail(localId, "network_error");
        return;
      }
      const file = this.files.get(localId);
      const item = this.get(localId);
      if (!file || !item || !current()) return;
      const created = new tus.Upload(file, this.options(localId, file));
      let previous: PreviousUpload[] = [];
      try {
        previous = await created.findPreviousUploads();
      } catch {
        previous = [];
      }
      // Known only once it is set up to resume: a newer start meanwhile builds its own.
      if (!current()) return;
      const chosen = this.choosePrevious(localId, previous);
      if (chosen) created.resumeFromPreviousUpload(chosen);
      this.uploads.set(localId, created);
      upload = created;
    }
    // Paused, cancelled or started again while tus was loading.
    if (!current()) return;
    upload.start();
  }

  /**
   * The server upload to continue: this item's own (known from the journal), else the newest one
   * of the same file that no other item of the tray is using.
   */
  private choosePrevious(localId: string, previous: PreviousUpload[]): PreviousUpload | null {
    const item = this.get(localId);
    if (!item) return null;
    const inUse = new Set(
      this.getState()
        .items.filter((i) => i.localId !== localId && i.uploadUrl)
        .map((i) => i.uploadUrl as string),
    );
    const usable = previous.filter((p) => p.uploadUrl && !inUse.has(p.uploadUrl));
    const own = item.uploadUrl ? usable.find((p) => p.uploadUrl === item.uploadUrl) : undefined;
    if (own) return own;
    if (item.uploadUrl && !inUse.has(item.uploadUrl)) {
      // Known from the journal but not in tus's store: resume by URL; tus stores it afresh.
      return { uploadUrl: item.uploadUrl, urlStorageKey: null, size: item.size, metadata: {}, creationTime: "", parallelUploadUrls: null } as unknown as PreviousUpload;
    }
    const newest = [...usable].sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
    return newest ?? null;
  }

  private options(localId: string, file: File): UploadOptions {
    let refreshFirst = false;
    let authRetries = 0;
    let step = -1;
    const size = file.size;
    const upload = () => this.uploads.get(localId);
    return {
      endpoint: this.deps.endpoint,
      chunkSize: this.deps.chunkSize ?? CHUNK_SIZE,
      retryDelays: this.deps.retryDelays ?? RETRY_DELAYS,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
      fingerprint: async (f: File) => fingerprintOf(this.deps.userId, f),
      onBeforeRequest: async (req) => {
        if (refreshFirst) {
          refreshFirst = false;
          await this.deps.tokens.refresh().catch(() => null);
        }
        const token = await this.deps.tokens.accessToken();
        if (token) req.setHeader("Authorization", `Bearer ${token}`);
      },
      onAfterResponse: (_req, res) => {
        if (res.getStatus() !== 401) authRetries = 0;
      },
      onShouldRetry: (error) => {
        const status = error.originalResponse?.getStatus() ?? 0;
        if (status === 401) {
          // The access token expired or was rotated: refresh once, then give up.
          if (authRetries >= 1) return false;
          authRetries += 1;
          refreshFirst = true;
          return true;
        }
        if (status === 0) return this.deps.isOnline();
        // 409: our offset was stale (tus asks the server with HEAD and continues); 423: locked.
        if (status === 408 || status === 409 || status === 423) return true;
        // 507 (storage full) will not pass by itself.
        return status >= 500 && status !== 507;
      },
      onUploadUrlAvailable: () => {
        const url = upload()?.url ?? null;
        if (url) this.patch(localId, { uploadUrl: url });
      },
      onProgress: (sent) => {
        const next = size > 0 ? Math.floor((sent / size) * PROGRESS_STEPS) : PROGRESS_STEPS;
        if (next === step) return;
        step = next;
        if (this.get(localId)?.state === "uploading") this.patch(localId, { sent });
      },
      onSuccess: () => {
        const url = upload()?.url ?? this.get(localId)?.uploadUrl ?? null;
        this.release(localId);
        // The File stays until the item leaves the tray: it goes along with the send (onReady).
        this.uploads.delete(localId);
        if (!url) {
          this.fail(localId, "upload_failed");
          return;
        }
        const item = this.get(localId);
        this.patch(localId, { state: "done", sent: size, uploadUrl: url, uploadId: uploadIdFromUrl(url), errorCode: null });
        this.pump();
        if (item) this.checkArmed(item.roomId);
      },
      onError: (error) => {
        const code = uploadErrorCode(error);
        if (code === "session_expired") this.deps.tokens.end("session_expired");
        // A 4xx other than the ones retried above: this server upload is unusable; a retry
        // creates a new one (tus asks for the old one's offset first and drops it on a 4xx).
        // Some 4xx refuse the file itself (type, size, quota): those never pass on a retry.
        this.fail(localId, code, isPermanentUploadFailure(uploadErrorStatus(error)));
      },
      ...this.deps.tusOptions,
    };
  }

  private fail(localId: string, code: string, permanent = false): void {
    this.release(localId);
    const item = this.get(localId);
    if (item) this.patch(localId, { state: "failed", errorCode: code, permanent });
    this.pump();
    // A send waiting for this file would wait forever: the caption goes back to the composer,
    // and sending again is refused until the file is removed (see `blockingUploads`).
    if (item && permanent) {
      const armed = this.disarm(item.roomId);
      if (armed) this.deps.onAbandoned(item.roomId, armed);
    }
  }

  private checkArmed(roomId: number): void {
    const armed = this.getState().armed[roomId];
    const items = this.forRoom(roomId);
    if (!armed || items.length === 0 || !items.every((i) => i.state === "done")) return;
    const held = items.map((i) => this.files.get(i.localId));
    const files = held.every((f): f is File => f !== undefined) ? held : null;
    for (const item of items) this.forgetLocal(item.localId);
    this.disarm(roomId);
    this.deps.onReady(roomId, armed, items, files);
  }

  private forgetLocal(localId: string): void {
    const item = this.get(localId);
    if (item?.previewUrl) this.deps.revokePreview?.(item.previewUrl);
    this.release(localId);
    this.files.delete(localId);
    this.uploads.delete(localId);
    this.starts.delete(localId);
    this.setState((s) => ({ ...s, items: s.items.filter((i) => i.localId !== localId) }));
    this.persist();
  }

  /** Drops tus's stored URL for an upload deleted without its File (after a reload). */
  private async forgetStoredUrl(item: UploadItem, url: string): Promise<void> {
    const tus = await this.loadTus();
    const storage = this.deps.tusOptions?.urlStorage ?? tus.defaultOptions.urlStorage;
    if (!storage) return;
    const fingerprint = fingerprintOf(this.deps.userId, item);
    for (const stored of await storage.findUploadsByFingerprint(fingerprint)) {
      if (stored.uploadUrl === url) await storage.removeUpload(stored.urlStorageKey);
    }
  }

  private release(localId: string): void {
    this.running.delete(localId);
  }

  private preview(file: File): string | null {
    return file.type.startsWith("image/") ? (this.deps.createPreview?.(file) ?? null) : null;
  }

  private loadTus(): Promise<TusModule> {
    if (!this.tus) {
      this.tus = this.deps.loadTus().catch((error: unknown) => {
        this.tus = null;
        throw error;
      });
    }
    return this.tus;
  }

  private patch(localId: string, changes: Partial<UploadItem>): void {
    this.setState((s) => {
      const index = s.items.findIndex((i) => i.localId === localId);
      const current = s.items[index];
      if (!current) return s;
      const items = s.items.slice();
      items[index] = { ...current, ...changes };
      return { ...s, items };
    });
    if (!("sent" in changes && Object.keys(changes).length === 1)) this.persist();
  }

  private key(): string {
    return `sodam.uploads.${this.deps.userId}`;
  }

  /** Writes the journal when something other than progress changed. */
  private persist(): void {
    const s = this.getState();
    const journal: Journal = {
      items: s.items.map(({ previewUrl: _preview, ...rest }) => ({ ...rest, sent: rest.state === "done" ? rest.size : 0 })),
      armed: s.armed,
    };
    const text = JSON.stringify(journal);
    if (text === this.lastJournal) return;
    this.lastJournal = text;
    try {
      if (journal.items.length === 0 && Object.keys(journal.armed).length === 0) this.deps.storage.removeItem(this.key());
      else this.deps.storage.setItem(this.key(), text);
    } catch {
      // Storage full or unavailable: uploads still work, only the reload recovery is lost.
    }
  }
}

/**
 * Identifies "the same file" for resuming: who picked it, its name, type, size and modification
 * time (the browser gives nothing stronger without reading the whole file).
 */
export function fingerprintOf(userId: number, file: { name: string; type: string; size: number; lastModified: number }): string {
  return ["sodam", userId, file.name, file.type, file.size, file.lastModified].join("/");
}

function sameFile(item: UploadItem, file: File): boolean {
  return item.name === file.name && item.size === file.size && item.lastModified === file.lastModified && item.type === file.type;
}

const STATUS_CODES: Record<number, string> = {
  401: "session_expired",
  404: "upload_not_found",
  409: "upload_offset_mismatch",
  413: "file_too_large",
  415: "unsupported_media_type",
  429: "too_many_pending_uploads",
  503: "storage_unavailable",
  507: "storage_full",
};

/**
 * Whether a failed upload cannot pass on a retry: a 4xx other than 408 (timeout), 409 (stale
 * offset), 423 (locked) and 429 (too many at once), which pass with time, and other than 401
 * (the session is refreshed or ends) and 404 (the server forgot the upload: a retry starts a new one).
 */
export function isPermanentUploadFailure(status: number): boolean {
  if (status < 400 || status >= 500) return false;
  return ![401, 404, 408, 409, 423, 429].includes(status);
}

/** Whether the browser can read the file's bytes (it cannot for a folder or a file gone from disk). */
async function readable(file: Blob): Promise<boolean> {
  try {
    await file.slice(0, 1).arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** The HTTP status of a tus or API failure (0 when there was no answer). */
export function uploadErrorStatus(error: unknown): number {
  if (error instanceof ApiError) return error.status;
  return (error as Partial<DetailedError> | null)?.originalResponse?.getStatus() ?? 0;
}

/** The files that failed for good: a send with them can never go until they are removed. */
export function blockingUploads(items: readonly UploadItem[]): UploadItem[] {
  return items.filter((i) => i.state === "failed" && i.permanent === true);
}

/** The server's error code from a tus failure ({code, message} body), or one from the status. */
export function uploadErrorCode(error: unknown): string {
  if (error instanceof ApiError) return error.code;
  const response = (error as Partial<DetailedError> | null)?.originalResponse ?? null;
  if (!response) return (error as Partial<DetailedError> | null)?.originalRequest ? "network_error" : "upload_failed";
  const status = response.getStatus();
  if (status === 401) return "session_expired";
  try {
    const body = JSON.parse(response.getBody()) as { code?: unknown };
    if (typeof body.code === "string") return body.code;
  } catch {
    // not JSON
  }
  return STATUS_CODES[status] ?? (status >= 500 ? "unavailable" : "upload_failed");
}

function readJournal(storage: KeyValueStorage, key: string): Journal | null {
  try {
    const raw = storage.getItem(key);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<Journal>;
    if (!Array.isArray(value.items)) return null;
    const items = value.items.filter(
      (i): i is Journal["items"][number] =>
        !!i && typeof i.localId === "string" && typeof i.roomId === "number" && typeof i.name === "string" && typeof i.size === "number",
    );
    return { items, armed: value.armed && typeof value.armed === "object" ? value.armed : {} };
  } catch {
    return null;
  }
}
