import type { PresenceStatus } from "../../lib/model";
import { Store } from "../../lib/store";

export interface PresenceEntry {
  status: PresenceStatus;
  lastSeenAt: string | null;
}

export interface PresenceState {
  users: Record<number, PresenceEntry>;
}

export class PresenceStore extends Store<PresenceState> {
  constructor() {
    super({ users: {} });
  }

  set(userId: number, status: string, lastSeenAt: string | null = null): void {
    const normalised: PresenceStatus = status === "online" || status === "away" ? status : "offline";
    this.setState((s) => {
      const current = s.users[userId];
      if (current && current.status === normalised && current.lastSeenAt === lastSeenAt) return s;
      return { users: { ...s.users, [userId]: { status: normalised, lastSeenAt } } };
    });
  }

  status(userId: number): PresenceStatus {
    return this.getState().users[userId]?.status ?? "offline";
  }
}
