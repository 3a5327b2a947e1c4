/** An error answer from the server: `{code, message, data}`; the UI translates by `code`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly data: Record<string, unknown>;

  constructor(status: number, code: string, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.data = data;
  }
}

/** The request never got an answer (offline, server down): safe to retry. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "NetworkError";
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof ApiError) {
    // send_conflict: the server could not store the message this time and asks for a retry.
    return error.status >= 500 || error.status === 429 || error.status === 408 || error.code === "send_conflict";
  }
  return false;
}

export async function apiErrorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (body && typeof body === "object" && "code" in body) {
    const b = body as { code: unknown; message?: unknown; data?: unknown };
    return new ApiError(
      response.status,
      String(b.code),
      typeof b.message === "string" ? b.message : response.statusText,
      b.data && typeof b.data === "object" ? (b.data as Record<string, unknown>) : {},
    );
  }
  return new ApiError(response.status, `http_${response.status}`, response.statusText);
}
