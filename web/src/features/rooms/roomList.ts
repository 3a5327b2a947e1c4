import type { RoomSummary } from "../../lib/model";

/** Favourites first, then by last activity (newest first), then by id for a stable order. */
export function sortRooms(rooms: readonly RoomSummary[]): RoomSummary[] {
  return [...rooms].sort((a, b) => {
    if (a.favourite !== b.favourite) return a.favourite ? -1 : 1;
    const ta = a.last_message_at ?? "";
    const tb = b.last_message_at ?? "";
    if (ta !== tb) return ta < tb ? 1 : -1;
    return b.id - a.id;
  });
}

/** Case-insensitive match on the room's shown name, topic and last message. */
export function filterRooms(
  rooms: readonly RoomSummary[],
  query: string,
  nameOf: (room: RoomSummary) => string,
): RoomSummary[] {
  const q = query.trim().toLocaleLowerCase();
  if (!q) return rooms as RoomSummary[];
  return rooms.filter((r) =>
    [nameOf(r), r.topic ?? ""].some((text) => text.toLocaleLowerCase().includes(q)),
  );
}

/** The app badge: unread messages in rooms that are not muted. */
export function totalUnread(rooms: readonly RoomSummary[]): number {
  let total = 0;
  for (const r of rooms) if (!r.muted && !r.archived) total += r.unread_count;
  return total;
}
