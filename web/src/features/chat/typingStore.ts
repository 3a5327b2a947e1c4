import { Store } from "../../lib/store";

export interface TypingState {
  /** room id → user id → epoch ms until which they count as typing */
  rooms: Record<number, Record<number, number>>;
}

const TYPING_TTL_MS = 6_000;

/** Who is typing where; entries expire by themselves (the server sends no "stopped typing"). */
export class TypingStore extends Store<TypingState> {
  private readonly now: () => number;

  constructor(now: () => number) {
    super({ rooms: {} });
    this.now = now;
  }

  typing(roomId: number, userId: number): void {
    this.setState((s) => ({
      rooms: { ...s.rooms, [roomId]: { ...(s.rooms[roomId] ?? {}), [userId]: this.now() + TYPING_TTL_MS } },
    }));
  }

  /** A message from them ends their typing at once. */
  stopped(roomId: number, userId: number): void {
    const room = this.getState().rooms[roomId];
    if (!room || room[userId] === undefined) return;
    const next = { ...room };
    delete next[userId];
    this.setState((s) => ({ rooms: { ...s.rooms, [roomId]: next } }));
  }

  /** Drops expired entries; the UI calls this on a timer. */
  sweep(): void {
    const now = this.now();
    let changed = false;
    const rooms: TypingState["rooms"] = {};
    for (const [roomId, users] of Object.entries(this.getState().rooms)) {
      const kept: Record<number, number> = {};
      for (const [userId, until] of Object.entries(users)) {
        if (until > now) kept[Number(userId)] = until;
        else changed = true;
      }
      rooms[Number(roomId)] = kept;
    }
    if (changed) this.setState({ rooms });
  }

  typingIn(roomId: number, exceptUserId: number): number[] {
    const now = this.now();
    return Object.entries(this.getState().rooms[roomId] ?? {})
      .filter(([userId, until]) => until > now && Number(userId) !== exceptUserId)
      .map(([userId]) => Number(userId));
  }
}
