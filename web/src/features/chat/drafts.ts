import type { KeyValueStorage } from "../auth/authStore";

/** One draft per room per user, kept in localStorage so it survives switching rooms and reloads. */
export class Drafts {
  private readonly storage: KeyValueStorage;
  private readonly prefix: string;

  constructor(storage: KeyValueStorage, userId: number) {
    this.storage = storage;
    this.prefix = `sodam.draft.${userId}.`;
  }

  get(roomId: number): string {
    return this.storage.getItem(this.prefix + roomId) ?? "";
  }

  set(roomId: number, text: string): void {
    if (text) this.storage.setItem(this.prefix + roomId, text);
    else this.storage.removeItem(this.prefix + roomId);
  }
}
