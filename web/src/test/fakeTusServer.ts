import type { HttpRequest, HttpResponse, HttpStack, PreviousUpload, UrlStorage } from "tus-js-client";

/**
 * A tus 1.0.0 server (docs/files.md, "tus endpoint") behind tus-js-client's HTTP stack interface:
 * the client code under test sends real protocol requests and gets the answers the Sodam server
 * gives, including an interrupted PATCH keeping the bytes that arrived.
 */
export interface StoredUpload {
  id: string;
  length: number;
  offset: number;
  metadata: string;
  chunks: Uint8Array[];
}

export interface Exchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  bodySize: number;
  status: number | "dropped";
}

type Answer = { status: number; headers?: Record<string, string>; body?: string };

/** Hooks a test uses to act at a precise point of the protocol, instead of waiting for time. */
export interface FakeTusHooks {
  /** Before answering; return "drop" (after keeping `keep` bytes of a PATCH) or a status to fail with. */
  intercept?(req: { method: string; url: string; headers: Record<string, string> }): { drop: true; keep?: number } | Answer | null;
  /** After a PATCH stored its bytes, before the answer goes back. */
  afterPatch?(upload: StoredUpload): void;
}

export class FakeTusServer implements HttpStack {
  readonly origin = "http://sodam.test";
  readonly uploads = new Map<string, StoredUpload>();
  readonly log: Exchange[] = [];
  hooks: FakeTusHooks = {};
  maxSize = 300 * 1024 * 1024;
  /** The bearer token the server accepts (a refresh changes it). */
  validToken = "token-1";
  private next = 0;

  createRequest(method: string, url: string): HttpRequest {
    return new FakeRequest(this, method, url);
  }

  getName(): string {
    return "FakeTusServer";
  }

  bytesOf(id: string): Uint8Array {
    const upload = this.uploads.get(id);
    if (!upload) throw new Error(`no upload ${id}`);
    const out = new Uint8Array(upload.offset);
    let at = 0;
    for (const c of upload.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** The HEAD and DELETE that the client sends outside tus-js-client (FilesApi). */
  async head(url: string): Promise<{ offset: number; length: number } | null> {
    const answer = await this.handle("HEAD", url, { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${this.validToken}` }, null);
    if (answer.status === 404) return null;
    return { offset: Number(answer.headers?.["Upload-Offset"]), length: Number(answer.headers?.["Upload-Length"]) };
  }

  async delete(url: string): Promise<void> {
    await this.handle("DELETE", url, { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${this.validToken}` }, null);
  }

  async handle(method: string, url: string, headers: Record<string, string>, body: Blob | null, onProgress?: (n: number) => void): Promise<Answer> {
    const exchange: Exchange = { method, url, headers, bodySize: body?.size ?? 0, status: 0 };
    this.log.push(exchange);
    const answer = await this.answer(method, url, headers, body, onProgress);
    exchange.status = answer === "dropped" ? "dropped" : answer.status;
    if (answer === "dropped") throw new Error("connection reset");
    return answer;
  }

  private async answer(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: Blob | null,
    onProgress?: (n: number) => void,
  ): Promise<Answer | "dropped"> {
    const intercepted = this.hooks.intercept?.({ method, url, headers }) ?? null;
    if (intercepted && !("drop" in intercepted)) return intercepted;
    if (headers["Tus-Resumable"] !== "1.0.0") return { status: 412 };
    if (headers.Authorization !== `Bearer ${this.validToken}`) return json(401, "token_expired");
    const path = new URL(url).pathname;
    if (method === "POST" && path === "/api/uploads") {
      const length = Number(headers["Upload-Length"]);
      if (length > this.maxSize) return json(413, "file_too_large");
      const id = `up${++this.next}`;
      this.uploads.set(id, { id, length, offset: 0, metadata: headers["Upload-Metadata"] ?? "", chunks: [] });
      return { status: 201, headers: { Location: `${this.origin}/api/uploads/${id}`, "Upload-Offset": "0", "Tus-Resumable": "1.0.0" } };
    }
    const id = /^\/api\/uploads\/([^/]+)$/u.exec(path)?.[1];
    const upload = id ? this.uploads.get(id) : undefined;
    if (!upload) return json(404, "upload_not_found");
    switch (method) {
      case "HEAD":
        return {
          status: 200,
          headers: { "Upload-Offset": String(upload.offset), "Upload-Length": String(upload.length), "Cache-Control": "no-store" },
        };
      case "DELETE":
        this.uploads.delete(upload.id);
        return { status: 204 };
      case "PATCH": {
        if (headers["Content-Type"] !== "application/offset+octet-stream") return json(415, "unsupported_media_type");
        if (Number(headers["Upload-Offset"]) !== upload.offset) return json(409, "upload_offset_mismatch");
        const bytes = new Uint8Array(body ? await body.arrayBuffer() : new ArrayBuffer(0));
        if (upload.offset + bytes.length > upload.length) return json(413, "file_too_large");
        if (intercepted && "drop" in intercepted) {
          // The connection broke mid-request: what arrived is kept.
          const kept = bytes.slice(0, intercepted.keep ?? 0);
          upload.chunks.push(kept);
          upload.offset += kept.length;
          return "dropped";
        }
        upload.chunks.push(bytes);
        upload.offset += bytes.length;
        onProgress?.(bytes.length);
        this.hooks.afterPatch?.(upload);
        return { status: 204, headers: { "Upload-Offset": String(upload.offset), "Tus-Resumable": "1.0.0" } };
      }
      default:
        return { status: 405 };
    }
  }
}

function json(status: number, code: string): Answer {
  return { status, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code, message: code, data: {} }) };
}

class FakeRequest implements HttpRequest {
  private readonly headers: Record<string, string> = {};
  private progress: ((n: number) => void) | undefined;
  private rejectPending: ((e: Error) => void) | null = null;

  constructor(
    private readonly server: FakeTusServer,
    private readonly method: string,
    private readonly url: string,
  ) {}

  getMethod(): string {
    return this.method;
  }
  getURL(): string {
    return this.url;
  }
  setHeader(header: string, value: string): void {
    this.headers[header] = value;
  }
  getHeader(header: string): string | undefined {
    return this.headers[header];
  }
  setProgressHandler(handler: (bytesSent: number) => void): void {
    this.progress = handler;
  }

  send(body: Blob | null = null): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      this.rejectPending = reject;
      this.server.handle(this.method, this.url, { ...this.headers }, body, this.progress).then(
        (answer) => resolve(new FakeResponse(answer)),
        (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  async abort(): Promise<void> {
    this.rejectPending?.(new Error("aborted"));
  }

  getUnderlyingObject(): unknown {
    return null;
  }
}

class FakeResponse implements HttpResponse {
  constructor(private readonly answer: Answer) {}
  getStatus(): number {
    return this.answer.status;
  }
  getHeader(header: string): string | undefined {
    const entry = Object.entries(this.answer.headers ?? {}).find(([k]) => k.toLowerCase() === header.toLowerCase());
    return entry?.[1];
  }
  getBody(): string {
    return this.answer.body ?? "";
  }
  getUnderlyingObject(): unknown {
    return null;
  }
}

/** tus-js-client's URL store (localStorage in the browser) kept in memory. */
export class MemoryUrlStorage implements UrlStorage {
  readonly entries = new Map<string, PreviousUpload & { fingerprint: string }>();
  private next = 0;

  async findAllUploads(): Promise<PreviousUpload[]> {
    return [...this.entries.values()];
  }
  async findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return [...this.entries.values()].filter((e) => e.fingerprint === fingerprint);
  }
  async removeUpload(urlStorageKey: string): Promise<void> {
    this.entries.delete(urlStorageKey);
  }
  async addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    const key = `tus::${fingerprint}::${++this.next}`;
    this.entries.set(key, { ...upload, urlStorageKey: key, fingerprint });
    return key;
  }
}

/** localStorage in memory. */
export class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}
