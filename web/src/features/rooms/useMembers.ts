import { useEffect, useState } from "react";
import type { Member } from "../../lib/model";
import type { MessagingApi } from "./roomsApi";

/** A room's members, refetched when the member count or the room changes. */
export function useMembers(api: Pick<MessagingApi, "members">, roomId: number, version: number): Member[] {
  const [members, setMembers] = useState<Member[]>([]);
  useEffect(() => {
    let alive = true;
    api
      .members(roomId)
      .then((m) => alive && setMembers(m))
      .catch(() => undefined);
    return () => {
      alive = false;
    };
  }, [api, roomId, version]);
  return members;
}
