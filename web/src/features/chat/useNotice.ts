import { useEffect, useState } from "react";
import type { Message } from "../../lib/model";
import type { MessagingApi } from "../rooms/roomsApi";

/** The room's notice (공지), fetched whenever the notice id changes. */
export function useNotice(api: Pick<MessagingApi, "notice">, roomId: number, noticeId: number | null): Message | null {
  const [notice, setNotice] = useState<Message | null>(null);
  useEffect(() => {
    let alive = true;
    if (noticeId === null) {
      setNotice(null);
      return;
    }
    api
      .notice(roomId)
      .then((n) => alive && setNotice(n))
      .catch(() => undefined);
    return () => {
      alive = false;
    };
  }, [api, roomId, noticeId]);
  return notice;
}
