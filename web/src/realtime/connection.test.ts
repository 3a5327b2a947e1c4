import { describe, expect, it } from "vitest";
import { type ConnectionDeps, RealtimeConnection, type SocketLike } from "./connection";
import type { ServerFrame } from "./frames";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: ServerFrame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const frames: ServerFrame[] = [];
  let synced = 0;
  let ended = 0;
  const deps: ConnectionDeps = {
    url: "ws://x/api/ws",
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    accessToken: async () => "token",
    refreshToken: async () => undefined,
    cursors: () => ({ "1": 5 }),
    onFrame: (f) => frames.push(f),
    onSynced: () => synced++,
    onSessionEnded: () => ended++,
    isNetworkOnline: () => true,
    timers: {
      setTimeout: (fn, ms) => {
        const t = { fn, ms };
        timers.push(t);
        return t;
      },
      clearTimeout: (h) => {
        const i = timers.indexOf(h as { fn: () => void; ms: number });
        if (i >= 0) timers.splice(i, 1);
      },
    },
    random: () => 0.5,
  };
  const conn = new RealtimeConnection(deps);
  return { conn, sockets, timers, frames, synced: () => synced, ended: () => ended };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("RealtimeConnection", () => {
  it("authenticates, resumes from the cursors, and is online after resumed", async () => {
    const { conn, sockets, synced } = setup();
    conn.start();
    await tick();
    const s = sockets[0]!;
    s.open();
    expect(s.sent).toEqual([{ type: "auth", token: "token" }]);
    s.receive({ type: "ready", user_id: 1, session_id: "s", heartbeat_s: 30 });
    expect(s.sent[1]).toEqual({ type: "resume", cursors: { "1": 5 } });
    expect(conn.getState().status).toBe("connecting");
    s.receive({ type: "resumed" });
    expect(conn.getState().status).toBe("online");
    expect(synced()).toBe(1);
  });

  it("reconnects with backoff after a drop and resumes again", async () => {
    const { conn, sockets, timers } = setup();
    conn.start();
    await tick();
    sockets[0]!.open();
    sockets[0]!.receive({ type: "ready", user_id: 1, session_id: "s" });
    sockets[0]!.receive({ type: "resumed" });
    sockets[0]!.drop();
    expect(conn.getState().status).toBe("reconnecting");
    const retry = timers.find((t) => t.ms > 0 && t.ms <= 1000);
    expect(retry).toBeDefined();
    retry!.fn();
    await tick();
    expect(sockets).toHaveLength(2);
  });

  it("stops for good when the server ends the session", async () => {
    const { conn, sockets, ended } = setup();
    conn.start();
    await tick();
    sockets[0]!.open();
    sockets[0]!.drop(4001);
    expect(conn.getState().status).toBe("stopped");
    expect(ended()).toBe(1);
  });

  it("sends nothing while not online", async () => {
    const { conn } = setup();
    expect(conn.send({ type: "ping" })).toBe(false);
  });

  it("passes other frames on", async () => {
    const { conn, sockets, frames } = setup();
    conn.start();
    await tick();
    sockets[0]!.open();
    sockets[0]!.receive({ type: "typing", room_id: 1, user_id: 2 });
    expect(frames).toEqual([{ type: "typing", room_id: 1, user_id: 2 }]);
  });
});
