import createClient, { type Client } from "openapi-fetch";
import type { paths } from "../api/schema.gen";
import { ApiError, NetworkError, apiErrorFrom } from "./errors";

export interface TokenSource {
  accessToken(): Promise<string | null>;
  refresh(): Promise<unknown>;
  end(reason: string | null): void;
}

export type FetchLike = (input: Request) => Promise<Response>;

/**
 * A fetch that sends the Bearer token, refreshes it once on a 401 and retries, and ends the
 * session when the server still says 401 (revoked session, deactivated account).
 */
export function authedFetch(tokens: TokenSource, baseFetch: FetchLike): FetchLike {
  return async (request: Request): Promise<Response> => {
    const retry = request.clone();
    const first = await send(request, await tokens.accessToken());
    if (first.status !== 401) return first;
    await tokens.refresh();
    const token = await tokens.accessToken();
    if (!token) return first;
    const second = await send(retry, token);
    if (second.status === 401) tokens.end("session_expired");
    return second;
  };

  async function send(request: Request, token: string | null): Promise<Response> {
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    try {
      return await baseFetch(request);
    } catch (error) {
      throw new NetworkError(error);
    }
  }
}

export type ApiClient = Client<paths>;

export function createApiClient(fetchImpl: FetchLike, baseUrl = ""): ApiClient {
  const origin = baseUrl || (typeof location !== "undefined" ? location.origin : "http://localhost");
  return createClient<paths>({ baseUrl: origin, fetch: fetchImpl });
}

/** Unwraps an openapi-fetch answer: the data, or an ApiError carrying the server's code. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    if (error instanceof NetworkError || error instanceof ApiError) throw error;
    throw new NetworkError(error);
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  if (error && typeof error === "object" && "code" in error) {
    const e = error as { code: string; message?: string; data?: Record<string, unknown> };
    throw new ApiError(response.status, e.code, e.message ?? "", e.data ?? {});
  }
  throw await apiErrorFrom(response);
}
