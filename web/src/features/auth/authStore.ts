import { Store } from "../../lib/store";

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
  sessionId: string;
  userId: number;
}

export interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  session_id: string;
  user_id: number;
}

/** The unauthenticated endpoints the store needs; the app passes the generated client's calls. */
export interface AuthTransport {
  login(username: string, password: string, deviceName: string): Promise<TokenAnswer>;
  refresh(refreshToken: string): Promise<TokenAnswer>;
  logout(accessToken: string): Promise<void>;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Serialises refreshes across tabs (a refresh token works once; two tabs must not both use it). */
export type LockRunner = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

export interface AuthDeps {
  transport: AuthTransport;
  storage: KeyValueStorage;
  now: () => number;
  lock?: LockRunner;
}

export interface AuthState {
  tokens: Tokens | null;
  /** Why the last session ended, for the login screen (an i18n error code). */
  endedReason: string | null;
}

const KEY = "sodam.auth";
const REFRESH_MARGIN_MS = 60_000; // docs/protocol.md: refresh when less than a minute is left

export class AuthStore extends Store<AuthState> {
  private readonly deps: AuthDeps;
  private refreshing: Promise<Tokens | null> | null = null;

  constructor(deps: AuthDeps) {
    super({ tokens: readTokens(deps.storage), endedReason: null });
    this.deps = deps;
  }

  get userId(): number | null {
    return this.getState().tokens?.userId ?? null;
  }

  async login(username: string, password: string, deviceName: string): Promise<void> {
    const answer = await this.deps.transport.login(username, password, deviceName);
    this.save(toTokens(answer, this.deps.now()));
  }

  /** A valid access token, refreshed first when it is about to expire; null when logged out. */
  async accessToken(): Promise<string | null> {
    const tokens = this.getState().tokens;
    if (!tokens) return null;
    if (tokens.expiresAt - REFRESH_MARGIN_MS > this.deps.now()) return tokens.accessToken;
    const fresh = await this.refresh();
    return fresh?.accessToken ?? null;
  }

  /** Refreshes once even when many callers ask at the same time. */
  refresh(): Promise<Tokens | null> {
    if (!this.refreshing) {
      const used = this.getState().tokens;
      const run = async (): Promise<Tokens | null> => {
        // Another tab may have refreshed already: its tokens are in storage.
        const stored = readTokens(this.deps.storage);
        if (stored && used && stored.refreshToken !== used.refreshToken) {
          this.save(stored);
          return stored;
        }
        const current = stored ?? used;
        if (!current) return null;
        try {
          const answer = await this.deps.transport.refresh(current.refreshToken);
          const tokens = toTokens(answer, this.deps.now());
          this.save(tokens);
          return tokens;
        } catch (error) {
          if (isAuthFailure(error)) {
            this.end("session_expired");
            return null;
          }
          throw error;
        }
      };
      const lock = this.deps.lock ?? ((_name, fn) => fn());
      this.refreshing = lock("sodam-auth-refresh", run).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  async logout(): Promise<void> {
    const tokens = this.getState().tokens;
    this.end(null);
    if (tokens) {
      try {
        await this.deps.transport.logout(tokens.accessToken);
      } catch {
        // The session is gone locally either way; the server expires it.
      }
    }
  }

  /** The server refused our credentials (revoked session, deactivated user). */
  end(reason: string | null): void {
    this.deps.storage.removeItem(KEY);
    this.setState({ tokens: null, endedReason: reason });
  }

  /** Another tab logged in, refreshed or logged out. */
  syncFromStorage(): void {
    const stored = readTokens(this.deps.storage);
    const current = this.getState().tokens;
    if (stored?.refreshToken === current?.refreshToken) return;
    this.setState({ tokens: stored, endedReason: null });
  }

  private save(tokens: Tokens): void {
    this.deps.storage.setItem(KEY, JSON.stringify(tokens));
    this.setState({ tokens, endedReason: null });
  }
}

function toTokens(answer: TokenAnswer, now: number): Tokens {
  return {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expiresAt: now + answer.expires_in * 1000,
    sessionId: answer.session_id,
    userId: answer.user_id,
  };
}

function readTokens(storage: KeyValueStorage): Tokens | null {
  const raw = storage.getItem(KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<Tokens>;
    if (
      typeof value.accessToken === "string" &&
      typeof value.refreshToken === "string" &&
      typeof value.expiresAt === "number" &&
      typeof value.sessionId === "string" &&
      typeof value.userId === "number"
    ) {
      return value as Tokens;
    }
  } catch {
    // fall through
  }
  return null;
}

function isAuthFailure(error: unknown): boolean {
  return typeof error === "object" && error !== null && "status" in error && (error as { status: number }).status === 401;
}
