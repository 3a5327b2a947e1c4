import type { Message, RoomSummary } from "../../lib/model";

export interface NotifierDeps {
  enabled(): boolean;
  isHidden(): boolean;
  room(roomId: number): RoomSummary | undefined;
  title(room: RoomSummary, message: Message): string;
  body(message: Message): string;
  show(title: string, options: NotificationOptions & { data: { roomId: number } }): void;
}

/**
 * Desktop notifications for new messages while the tab is hidden, never for muted rooms (a
 * mention in a muted room still notifies, as in KakaoTalk's "mentions only" behaviour).
 */
export function shouldNotify(deps: Pick<NotifierDeps, "enabled" | "isHidden" | "room">, message: Message, myUserId: number): boolean {
  if (!deps.enabled() || !deps.isHidden()) return false;
  if (message.sender_id === myUserId || message.kind !== "text" || message.deleted_at) return false;
  const room = deps.room(message.room_id);
  if (!room) return false;
  if (room.muted) return message.mentions.includes(myUserId);
  return true;
}

export function createNotifier(deps: NotifierDeps, myUserId: number): (message: Message) => void {
  return (message) => {
    if (!shouldNotify(deps, message, myUserId)) return;
    const room = deps.room(message.room_id);
    if (!room) return;
    deps.show(deps.title(room, message), {
      body: deps.body(message),
      tag: `room-${message.room_id}`,
      data: { roomId: message.room_id },
    });
  };
}
