import { Store } from "../lib/store";
import { type ClientFrame, type ServerFrame, parseFrame } from "./frames";

export type ConnectionStatus = "connecting" | "online" | "reconnecting" | "offline" | "stopped";

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ConnectionDeps {
  url: string;
  createSocket(url: string): SocketLike;
  accessToken(): Promise<string | null>;
  refreshToken(): Promise<unknown>;
  /** Per-room event cursors to resume from once authenticated. */
  cursors(): Record<string, number>;
  onFrame(frame: ServerFrame): void;
  /** Called after every successful (re)connection, once the resume has been answered. */
  onSynced(): void;
  /** The server ended this session (logout elsewhere, revoked, deactivated): stop for good. */
  onSessionEnded(): void;
  isNetworkOnline(): boolean;
  timers: Timers;
  random(): number;
}

export interface ConnectionState {
  status: ConnectionStatus;
  attempt: number;
}

const OPEN = 1;
const MAX_BACKOFF_MS = 30_000;
// docs/protocol.md close codes.
const CLOSE_POLICY = 1008; // no, late or bad auth
const CLOSE_RESYNC = 4000; // fell behind: reconnect at once and resume
const CLOSE_SESSION_ENDED = 4001; // never reconnect with this session
const CLOSE_TOKEN_EXPIRED = 4003; // refresh, then reconnect and resume
const CLOSE_TOO_MANY = 4029; // too many connections: wait at least 30 s
const REAUTH_CHECK_MS = 20_000;

/**
 * One WebSocket to the server: authenticates, resumes from the room cursors, pings, detects a
 * silent death by heartbeat, and reconnects with exponential backoff and jitter.
 */
export class RealtimeConnection extends Store<ConnectionState> {
  private readonly deps: ConnectionDeps;
  private socket: SocketLike | null = null;
  private retryTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private watchdogTimer: unknown = null;
  private heartbeatMs = 25_000;
  private reauthTimer: unknown = null;
  /** Server limits from the ready frame (docs/protocol.md). */
  presenceWatchMax = 500;
  private sentToken: string | null = null;
  private stopped = true;
  private authFailures = 0;

  constructor(deps: ConnectionDeps) {
    super({ status: "stopped", attempt: 0 });
    this.deps = deps;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.open();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "bye");
    }
    this.setState({ status: "stopped", attempt: 0 });
  }

  /** The browser says the network is back: try at once instead of waiting for the backoff. */
  networkOnline(): void {
    if (this.stopped) return;
    const status = this.getState().status;
    if (status === "online" || status === "connecting") return;
    this.deps.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    void this.open();
  }

  networkOffline(): void {
    if (this.stopped) return;
    this.setState((s) => ({ ...s, status: "offline" }));
    this.socket?.close(4000, "offline");
  }

  send(frame: ClientFrame): boolean {
    if (this.getState().status !== "online" || !this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  get isOnline(): boolean {
    return this.getState().status === "online";
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.clearTimers();
    const attempt = this.getState().attempt;
    this.setState({ status: attempt === 0 ? "connecting" : "reconnecting", attempt });
    let token: string | null;
    try {
      token = await this.deps.accessToken();
    } catch {
      this.scheduleRetry();
      return;
    }
    if (this.stopped) return;
    if (!token) {
      this.stop();
      return;
    }
    let socket: SocketLike;
    try {
      socket = this.deps.createSocket(this.deps.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.sentToken = token;
      socket.send(JSON.stringify({ type: "auth", token } satisfies ClientFrame));
      this.armWatchdog();
    };
    socket.onmessage = (ev) => {
      if (socket !== this.socket) return;
      this.armWatchdog();
      const frame = parseFrame(ev.data);
      if (frame) this.handle(frame);
    };
    socket.onerror = () => {
      // onclose follows and schedules the retry.
    };
    socket.onclose = (ev) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.clearTimers();
      if (this.stopped) return;
      if (ev.code === CLOSE_SESSION_ENDED) {
        this.stop();
        this.deps.onSessionEnded();
        return;
      }
      if (ev.code === CLOSE_RESYNC) {
        void this.open();
        return;
      }
      if (ev.code === CLOSE_TOKEN_EXPIRED || ev.code === CLOSE_POLICY) {
        this.authFailures += 1;
        void this.deps
          .refreshToken()
          .catch(() => undefined)
          .finally(() => this.scheduleRetry());
        return;
      }
      this.scheduleRetry(ev.code === CLOSE_TOO_MANY ? MAX_BACKOFF_MS : 0);
    };
  }

  private handle(frame: ServerFrame): void {
    switch (frame.type) {
      case "ready":
        this.authFailures = 0;
        if (frame.heartbeat_s && frame.heartbeat_s > 0) this.heartbeatMs = frame.heartbeat_s * 1000;
        if (frame.limits?.presence_watch_max) this.presenceWatchMax = frame.limits.presence_watch_max;
        this.socket?.send(JSON.stringify({ type: "resume", cursors: this.deps.cursors() } satisfies ClientFrame));
        this.scheduleHeartbeat();
        this.scheduleReauth();
        return;
      case "resumed":
        this.setState({ status: "online", attempt: 0 });
        this.deps.onSynced();
        return;
      case "pong":
        return;
      default:
        this.deps.onFrame(frame);
    }
  }

  private scheduleRetry(minDelayMs = 0): void {
    if (this.stopped) return;
    const attempt = this.getState().attempt + 1;
    const offline = !this.deps.isNetworkOnline();
    this.setState({ status: offline ? "offline" : "reconnecting", attempt });
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt - 1, 6) * (1 + this.authFailures));
    const delay = Math.max(minDelayMs, Math.round(base / 2 + (this.deps.random() * base) / 2));
    this.retryTimer = this.deps.timers.setTimeout(() => {
      this.retryTimer = null;
      void this.open();
    }, delay);
  }

  private scheduleHeartbeat(): void {
    this.deps.timers.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.deps.timers.setTimeout(() => {
      this.socket?.send(JSON.stringify({ type: "ping" } satisfies ClientFrame));
      this.scheduleHeartbeat();
    }, this.heartbeatMs);
  }

  /** Hands the server a fresh access token before the one it holds expires. */
  private scheduleReauth(): void {
    this.deps.timers.clearTimeout(this.reauthTimer);
    this.reauthTimer = this.deps.timers.setTimeout(() => {
      void this.deps
        .accessToken()
        .then((token) => {
          if (token && token !== this.sentToken && this.socket?.readyState === OPEN) {
            this.sentToken = token;
            this.socket.send(JSON.stringify({ type: "auth", token } satisfies ClientFrame));
          }
        })
        .catch(() => undefined)
        .finally(() => {
          if (this.socket) this.scheduleReauth();
        });
    }, REAUTH_CHECK_MS);
  }

  /** Two heartbeat intervals without any frame: the connection is dead even without a FIN. */
  private armWatchdog(): void {
    this.deps.timers.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = this.deps.timers.setTimeout(() => {
      const socket = this.socket;
      if (!socket) return;
      this.socket = null;
      socket.onclose = null;
      socket.close(4000, "heartbeat timeout");
      this.clearTimers();
      this.scheduleRetry();
    }, this.heartbeatMs * 2 + 5_000);
  }

  private clearTimers(): void {
    this.deps.timers.clearTimeout(this.retryTimer);
    this.deps.timers.clearTimeout(this.heartbeatTimer);
    this.deps.timers.clearTimeout(this.watchdogTimer);
    this.deps.timers.clearTimeout(this.reauthTimer);
    this.reauthTimer = null;
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.watchdogTimer = null;
  }
}
