/**
 * The picked files of file messages not yet accepted by the server, held in memory for as long as
 * the page lives. If the server refuses the send because an upload is gone (it expired before
 * the message went out: `upload_not_found`), the same files go back to the tray with the caption
 * and upload again, instead of the user finding and picking them again. After a reload the
 * browser no longer has them; the failed message then offers only 삭제.
 */
export interface HeldSend {
  files: File[];
  /** The caption as typed (with "@이름", not the server's mention tokens). */
  draft: string;
  /** The message it answered, if it was a reply. */
  replyToId: number | null;
}

export class SentFiles {
  private readonly held = new Map<string, HeldSend>();

  hold(clientMsgId: string, send: HeldSend): void {
    this.held.set(clientMsgId, send);
  }

  get(clientMsgId: string): HeldSend | null {
    return this.held.get(clientMsgId) ?? null;
  }

  /** Lets go of the files of messages that are no longer waiting (sent or deleted). */
  keepOnly(waiting: ReadonlySet<string>): void {
    for (const id of [...this.held.keys()]) if (!waiting.has(id)) this.held.delete(id);
  }
}
