import { isRetryable, ApiError } from "../../lib/errors";
import type { Message } from "../../lib/model";
import { Store } from "../../lib/store";

/** A file going with a pending message (for showing it until the server has the message). */
export interface PendingFile {
  name: string;
  size: number;
  type: string;
}

export interface PendingMessage {
  client_msg_id: string;
  room_id: number;
  /** The text, or the caption of files (may be empty then). */
  body: string;
  reply_to_id: number | null;
  /** Finished uploads that become the message's attachments (docs/files.md). */
  upload_ids?: string[];
  files?: PendingFile[];
  created_at: string;
  /** `pending` is queued or in flight; `failed` was refused by the server and waits for the user. */
  state: "pending" | "failed";
  error_code: string | null;
  /** The upload the server named in its refusal (`upload_not_found`, `upload_not_finished`). */
  failed_upload_id?: string;
}

/** Where pending messages survive a reload (IndexedDB in the browser, memory in tests). */
export interface PendingStorage {
  all(): Promise<PendingMessage[]>;
  put(message: PendingMessage): Promise<void>;
  delete(clientMsgId: string): Promise<void>;
}

export interface OutboxDeps {
  storage: PendingStorage;
  send(message: PendingMessage): Promise<Message>;
  onSent(message: Message, pending: PendingMessage): void;
  newId(): string;
  now(): Date;
}

export interface OutboxState {
  items: PendingMessage[];
  loaded: boolean;
}

/**
 * Never lose a message: every send is written to storage before it is tried, tried in order with
 * its client_msg_id (the server returns the original on a repeat), kept while the network is
 * down, and removed only once the server has acknowledged it.
 */
export class Outbox extends Store<OutboxState> {
  private readonly deps: OutboxDeps;
  private flushing: Promise<void> | null = null;
  private again = false;

  constructor(deps: OutboxDeps) {
    super({ items: [], loaded: false });
    this.deps = deps;
  }

  async load(): Promise<void> {
    const stored = await this.deps.storage.all();
    stored.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    const known = new Set(this.getState().items.map((i) => i.client_msg_id));
    this.setState((s) => ({
      items: [...stored.filter((i) => !known.has(i.client_msg_id)), ...s.items],
      loaded: true,
    }));
  }

  forRoom(roomId: number): PendingMessage[] {
    return this.getState().items.filter((i) => i.room_id === roomId);
  }

  async enqueue(
    roomId: number,
    body: string,
    replyToId: number | null = null,
    uploads?: { uploadIds: string[]; files: PendingFile[] },
  ): Promise<PendingMessage> {
    const item: PendingMessage = {
      client_msg_id: this.deps.newId(),
      room_id: roomId,
      body,
      reply_to_id: replyToId,
      ...(uploads && uploads.uploadIds.length > 0 ? { upload_ids: uploads.uploadIds, files: uploads.files } : {}),
      created_at: this.deps.now().toISOString(),
      state: "pending",
      error_code: null,
    };
    // Stored first, then shown: a message shown as pending survives a reload or a closed tab
    // right after Enter (an IndexedDB write takes a few ms). If the browser cannot store it, it
    // is shown and sent all the same; it only lives as long as the page then.
    try {
      await this.deps.storage.put(item);
    } catch {
      // no persistent storage (private mode, quota): keep going in memory
    }
    this.setState((s) => ({ ...s, items: [...s.items, item] }));
    void this.flush();
    return item;
  }

  /** Sends what is pending, one at a time and in order; stops at the first network failure. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.run().finally(() => {
      this.flushing = null;
      if (this.again) {
        this.again = false;
        void this.flush();
      }
    });
    return this.flushing;
  }

  async retry(clientMsgId: string): Promise<void> {
    const item = this.getState().items.find((i) => i.client_msg_id === clientMsgId);
    if (!item) return;
    const { failed_upload_id: _named, ...rest } = item;
    const next: PendingMessage = { ...rest, state: "pending", error_code: null };
    this.replace(next);
    await this.deps.storage.put(next);
    await this.flush();
  }

  async discard(clientMsgId: string): Promise<void> {
    this.setState((s) => ({ ...s, items: s.items.filter((i) => i.client_msg_id !== clientMsgId) }));
    await this.deps.storage.delete(clientMsgId);
  }

  private async run(): Promise<void> {
    for (;;) {
      const item = this.getState().items.find((i) => i.state === "pending");
      if (!item) return;
      let message: Message;
      try {
        message = await this.deps.send(item);
      } catch (error) {
        if (isRetryable(error)) return; // kept; flushed again on reconnect
        const named = error instanceof ApiError ? error.data.upload_id : undefined;
        const failed: PendingMessage = {
          ...item,
          state: "failed",
          error_code: error instanceof ApiError ? error.code : "unknown",
          ...(typeof named === "string" ? { failed_upload_id: named } : {}),
        };
        this.replace(failed);
        await this.deps.storage.put(failed);
        continue;
      }
      this.setState((s) => ({ ...s, items: s.items.filter((i) => i.client_msg_id !== item.client_msg_id) }));
      this.deps.onSent(message, item);
      await this.deps.storage.delete(item.client_msg_id);
    }
  }

  private replace(item: PendingMessage): void {
    this.setState((s) => ({
      ...s,
      items: s.items.map((i) => (i.client_msg_id === item.client_msg_id ? item : i)),
    }));
  }
}

export class MemoryPendingStorage implements PendingStorage {
  readonly map = new Map<string, PendingMessage>();
  async all(): Promise<PendingMessage[]> {
    return [...this.map.values()];
  }
  async put(message: PendingMessage): Promise<void> {
    this.map.set(message.client_msg_id, message);
  }
  async delete(clientMsgId: string): Promise<void> {
    this.map.delete(clientMsgId);
  }
}
