/**
 * Every call the client makes to the files endpoints (docs/files.md). The drawer and the send go
 * through the generated OpenAPI client, so their types follow the server; the tus traffic is
 * protocol headers rather than JSON: tus-js-client sends POST/PATCH itself (uploads.ts) and the
 * HEAD/DELETE below are plain requests through the authed fetch.
 */
import type { components } from "../../api/schema.gen";
import { NetworkError, apiErrorFrom } from "../../lib/errors";
import { type ApiClient, type FetchLike, unwrap } from "../../lib/http";
import type { DrawerKind, DrawerPage } from "./types";

export const UPLOADS_ENDPOINT = "/api/uploads";
const TUS_VERSION = "1.0.0";

/** The send body with `upload_ids` (a caption in `body` is optional). */
export type SendWithUploads = components["schemas"]["SendIn"] & { upload_ids: string[] };
export type SendAnswer = components["schemas"]["SendOut"];

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
  sendWithUploads(roomId: number, body: SendWithUploads): Promise<SendAnswer>;
  /** tus HEAD: how far an unfinished upload got, or null when the server no longer has it. */
  probeUpload(url: string): Promise<UploadProgress | null>;
  /** tus DELETE (termination); an upload the server no longer has counts as deleted. */
  terminateUpload(url: string): Promise<void>;
}

export function createFilesApi(client: ApiClient, fetchImpl: FetchLike): FilesApi {
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
    drawer: (roomId, query) =>
      unwrap(
        client.GET("/api/rooms/{room_id}/files", {
          params: { path: { room_id: roomId }, query: { limit: 50, ...query } },
        }),
      ),
    sendWithUploads: (roomId, body) =>
      unwrap(client.POST("/api/rooms/{room_id}/messages", { params: { path: { room_id: roomId } }, body })),
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
