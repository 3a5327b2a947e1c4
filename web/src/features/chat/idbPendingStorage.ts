import { openDB, type IDBPDatabase } from "idb";
import type { PendingMessage, PendingStorage } from "./outbox";

const STORE = "pending";

/** Pending messages in IndexedDB, one database per user so accounts on a shared PC stay apart. */
export class IdbPendingStorage implements PendingStorage {
  private readonly db: Promise<IDBPDatabase>;

  constructor(userId: number, factory?: IDBFactory) {
    if (factory) {
      // Tests pass fake-indexeddb; the browser uses the global.
      (globalThis as { indexedDB?: IDBFactory }).indexedDB ??= factory;
    }
    this.db = openDB(`sodam-outbox-${userId}`, 1, {
      upgrade(db) {
        db.createObjectStore(STORE, { keyPath: "client_msg_id" });
      },
    });
  }

  async all(): Promise<PendingMessage[]> {
    return (await (await this.db).getAll(STORE)) as PendingMessage[];
  }

  async put(message: PendingMessage): Promise<void> {
    await (await this.db).put(STORE, message);
  }

  async delete(clientMsgId: string): Promise<void> {
    await (await this.db).delete(STORE, clientMsgId);
  }
}
