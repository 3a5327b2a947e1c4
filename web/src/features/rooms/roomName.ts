import type { RoomSummary } from "../../lib/model";

/** The name a room is shown with: the group's name, the peer's name, or "나와의 채팅". */
export function roomName(
  room: RoomSummary,
  nameOf: (userId: number) => string | null,
  t: (key: string, opts?: Record<string, unknown>) => string,
): string {
  if (room.kind === "self") return t("rooms.self");
  if (room.kind === "direct") {
    return (room.peer_user_id !== null ? nameOf(room.peer_user_id) : null) ?? room.name ?? t("rooms.unknownPerson");
  }
  return room.name ?? t("rooms.unnamed", { count: room.member_count });
}
