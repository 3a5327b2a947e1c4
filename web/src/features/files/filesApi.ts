/**
 * Every call the client makes to the files endpoints (docs/files.md) except the tus PATCH/POST
 * traffic, which tus-js-client sends itself (uploads.ts). When the OpenAPI document carries these
 * endpoints, only this module moves to the generated client.
 */
import { NetworkError, apiErrorFrom } from "../../lib/errors";
import { type FetchLike, requestJson } from "../../lib/http";
import type { Message } from "../../lib/model";
import type { DrawerKind, DrawerPage } from "./types";

export const UPLOADS_ENDPOINT = "/api/uploads";
const TUS_VERSION = "1.0.0";

export interface SendWithUploads {
  client_msg_id: string;
  /** The caption; omitted when empty. */
  body?: string;
  reply_to_id?: number;
  upload_ids: string[];
}

export interface DrawerQuery {
  kind: DrawerKind;
  before?: number;
  limit?: number;
}

export interface UploadProgress {
  offset: number;
  length: number;
}

export interface FilesApi {
  /** GET /api/rooms/{room_id}/files: newest first, paged with `before` (an attachment id). */
  drawer(roomId: number, query: DrawerQuery): Promise<DrawerPage>;
  /** POST /api/rooms/{room_id}/messages with `upload_ids`: a `kind: "file"` message. */
  sendWithUploads(roomId: number, body: SendWithUploads): Promise<{ message: Message; duplicate: boolean }>;
  /** tus HEAD: how far an unfinished upload got, or null when the server no longer has it. */
  probeUpload(url: string): Promise<UploadProgress | null>;
  /** tus DELETE (termination); an upload the server no longer has counts as deleted. */
  terminateUpload(url: string): Promise<void>;
}

export function createFilesApi(fetchImpl: FetchLike): FilesApi {
  const origin = typeof location !== "undefined" ? location.origin : "http://localhost";
  const absolute = (url: string) => new URL(url, origin).toString();

  async function tus(method: "HEAD" | "DELETE", url: string): Promise<Response> {
    const request = new Request(absolute(url), { method, headers: { "Tus-Resumable": TUS_VERSION } });
    try {
      return await fetchImpl(request);
    } catch (error) {
      throw error instanceof NetworkError ? error : new NetworkError(error);
    }
  }

  return {
    drawer: (roomId, query) => {
      const params = new URLSearchParams({ kind: query.kind, limit: String(query.limit ?? 50) });
      if (query.before !== undefined) params.set("before", String(query.before));
      return requestJson<DrawerPage>(fetchImpl, "GET", `/api/rooms/${roomId}/files?${params.toString()}`);
    },
    sendWithUploads: (roomId, body) =>
      requestJson<{ message: Message; duplicate: boolean }>(fetchImpl, "POST", `/api/rooms/${roomId}/messages`, body),
    probeUpload: async (url) => {
      const response = await tus("HEAD", url);
      if (response.status === 404 || response.status === 410) return null;
      if (!response.ok) throw await apiErrorFrom(response);
      const offset = Number.parseInt(response.headers.get("Upload-Offset") ?? "", 10);
      const length = Number.parseInt(response.headers.get("Upload-Length") ?? "", 10);
      if (Number.isNaN(offset) || Number.isNaN(length)) return null;
      return { offset, length };
    },
    terminateUpload: async (url) => {
      const response = await tus("DELETE", url);
      if (response.ok || response.status === 404 || response.status === 410) return;
      throw await apiErrorFrom(response);
    },
  };
}

/** The upload id that `upload_ids` takes: the last path segment of the tus upload URL. */
export function uploadIdFromUrl(url: string): string {
  const path = url.split(/[?#]/u)[0] ?? "";
  const segments = path.split("/").filter(Boolean);
  return decodeURIComponent(segments[segments.length - 1] ?? "");
}
