"""KakaoTalk's unread count, from each member's last-read position.

The count beside message ``seq`` is the number of current members whose ``last_read_seq`` is below
``seq``, not counting the sender. A member who joins is given ``last_read_seq`` = the room's
``last_seq`` at that moment, so earlier messages never count them; a member who leaves no longer has
a position and is not counted. Only members behind the newest message of a page matter, so
callers pass just those "laggards".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence


def unread_count(seq: int, sender_id: int | None, laggards: Sequence[tuple[int, int]]) -> int:
    """Members (user_id, last_read_seq) who have not read ``seq``, excluding its sender."""
    return sum(1 for user_id, last_read in laggards if last_read < seq and user_id != sender_id)


def unread_counts(
    messages: Iterable[tuple[int, int | None]], laggards: Sequence[tuple[int, int]]
) -> dict[int, int]:
    """``{seq: count}`` for many (seq, sender_id) at once, in O((m + n) log n)."""
    positions = sorted(last_read for _, last_read in laggards)
    by_user = dict(laggards)
    out: dict[int, int] = {}
    for seq, sender_id in messages:
        behind = bisect_right(positions, seq - 1)  # members with last_read_seq < seq
        sender_pos = by_user.get(sender_id) if sender_id is not None else None
        if sender_pos is not None and sender_pos < seq:
            behind -= 1
        out[seq] = behind
    return out


def room_unread(last_seq: int, last_read_seq: int) -> int:
    """A member's badge for a room: messages after their read position."""
    return max(0, last_seq - last_read_seq)
