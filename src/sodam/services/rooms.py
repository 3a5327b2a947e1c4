"""Rooms and membership (product.md M1, R1, R4, R5): 1:1 and group rooms, 나와의 채팅, invite,
leave quietly or with a notice, kick, owner (방장) hand-over, per-member settings, the room list.

``get_room_for_member_txn`` is the authorisation choke point every room-scoped use case goes
through: a room the caller is not in answers NotFound, exactly like a room that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa

from sodam.bus.base import Bus
from sodam.db import files as files_repo
from sodam.db import rooms as rooms_repo
from sodam.db import users as users_repo
from sodam.db.engine import Database
from sodam.domain.attachments import Attachment
from sodam.domain.clock import Clock
from sodam.domain.ids import MessageId, RoomId, UserId
from sodam.domain.messages import Message, MessageView
from sodam.domain.rooms import GROUP_MAX_MEMBERS, Membership, Room, RoomSummary, direct_key
from sodam.domain.unread import room_unread
from sodam.errors import Forbidden, InvalidInput, NotFound
from sodam.services.context import Principal
from sodam.services.roomlog import Outgoing, append_event_txn
from sodam.services.systemmessages import post_system_message_txn

ROOM_NOT_FOUND = ("room_not_found", "No such room.")


def get_room_for_member_txn(
    conn: sa.Connection, room_id: RoomId, user_id: UserId
) -> tuple[Room, Membership]:
    """The room and the caller's membership, or NotFound (never revealing the room exists)."""
    found = rooms_repo.select_room_and_membership(conn, room_id, user_id)
    if found is None:
        raise NotFound(*ROOM_NOT_FOUND)
    return found


def require_moderator(membership: Membership) -> None:
    if not membership.can_moderate():
        raise Forbidden("room_permission_denied", "Only the room owner or an admin can do this.")


def check_users_txn(conn: sa.Connection, user_ids: list[UserId]) -> None:
    """NotFound unless every user exists and is active (one statement)."""
    active = users_repo.select_active_user_ids(conn, set(user_ids))
    for user_id in user_ids:
        if user_id not in active:
            raise NotFound("user_not_found", "No such user.", {"user_id": user_id})


def join_txn(
    conn: sa.Connection,
    out: Outgoing,
    room_id: RoomId,
    user_id: UserId,
    *,
    role: str,
    actor: UserId,
    now: dt.datetime,
    history: str,
) -> bool:
    """Adds a member at the room's current position; False when already a member."""
    current = rooms_repo.select_room(conn, room_id)
    assert current is not None  # noqa: S101 -- the caller holds the room
    if not rooms_repo.insert_member(
        conn,
        room_id=room_id,
        user_id=user_id,
        role=role,
        now=now,
        joined_seq=current.last_seq,
        joined_event_seq=current.last_event_seq,
        visible_from_seq=0 if history == "all" else current.last_seq + 1,
    ):
        return False
    rooms_repo.refresh_member_count(conn, room_id)
    append_event_txn(
        conn,
        out,
        room_id=room_id,
        kind="member.joined",
        now=now,
        actor_id=actor,
        subject_user_id=user_id,
        payload={"user_id": user_id, "role": role, "by": actor},
    )
    out.to_user(user_id, {"type": "room.added", "room_id": room_id})
    return True


class RoomService:
    def __init__(
        self, db: Database, clock: Clock, bus: Bus, *, requires_clean: bool = True
    ) -> None:
        self._db = db
        self._clock = clock
        self._bus = bus
        self._requires_clean = requires_clean  # files.download_requires_clean

    # --- creating rooms ----------------------------------------------------------------------

    async def open_direct(self, principal: Principal, peer_id: UserId) -> RoomSummary:
        """The 1:1 room with ``peer_id`` (or 나와의 채팅 when it is the caller), created once and
        reused; whoever had left it is brought back, seeing only what comes next."""
        me = principal.user.id
        kind: Literal["direct", "self"] = "self" if peer_id == me else "direct"
        key = direct_key(me, peer_id)
        now = self._clock.now()
        out = Outgoing()

        def open_txn(conn: sa.Connection) -> RoomId:
            check_users_txn(conn, [peer_id])
            room_id = rooms_repo.select_room_id_by_direct_key(conn, key)
            if room_id is None:
                room_id = rooms_repo.insert_room(
                    conn,
                    kind=kind,
                    name=None,
                    topic=None,
                    direct_key=key,
                    history_visibility="all",
                    created_by=me,
                    now=now,
                ) or rooms_repo.select_room_id_by_direct_key(conn, key)
            assert room_id is not None  # noqa: S101 -- inserted, or created concurrently
            room = rooms_repo.select_room(conn, room_id)
            assert room is not None  # noqa: S101
            history = "joined" if room.last_seq else "all"
            for user_id in sorted({me, peer_id}):
                join_txn(
                    conn, out, room_id, user_id, role="member", actor=me, now=now, history=history
                )
            return room_id

        room_id = await self._db.write(open_txn)
        await out.publish(self._bus)
        return await self.get_summary(principal, room_id)

    async def create_group(
        self,
        principal: Principal,
        *,
        name: str,
        topic: str | None,
        member_ids: list[int],
        history_visibility: Literal["all", "joined"] = "joined",
    ) -> RoomSummary:
        """A group room owned (방장) by the caller, with the given members."""
        name = name.strip()
        if not name:
            raise InvalidInput("room_name_empty", "A group room needs a name.")
        me = principal.user.id
        invitees = sorted({UserId(u) for u in member_ids} - {me})
        if len(invitees) + 1 > GROUP_MAX_MEMBERS:
            raise InvalidInput(
                "room_too_large", "Too many members.", {"max_members": GROUP_MAX_MEMBERS}
            )
        now = self._clock.now()
        out = Outgoing()

        def create_txn(conn: sa.Connection) -> RoomId:
            check_users_txn(conn, invitees)
            room_id = rooms_repo.insert_room(
                conn,
                kind="group",
                name=name[:100],
                topic=topic or None,
                direct_key=None,
                history_visibility=history_visibility,
                created_by=me,
                now=now,
            )
            assert room_id is not None  # noqa: S101 -- groups have no unique key to race on
            join_txn(conn, out, room_id, me, role="owner", actor=me, now=now, history="all")
            for user_id in invitees:
                join_txn(
                    conn, out, room_id, user_id, role="member", actor=me, now=now, history="all"
                )
            return room_id

        room_id = await self._db.write(create_txn)
        await out.publish(self._bus)
        return await self.get_summary(principal, room_id)

    # --- membership --------------------------------------------------------------------------

    async def invite(
        self, principal: Principal, room_id: RoomId, user_ids: list[int]
    ) -> list[UserId]:
        """Adds people to a group room; they see history per the room's policy."""
        me = principal.user.id
        candidates = sorted({UserId(u) for u in user_ids})
        now = self._clock.now()
        out = Outgoing()

        def invite_txn(conn: sa.Connection) -> list[UserId]:
            room, membership = get_room_for_member_txn(conn, room_id, me)
            if room.kind != "group":
                raise InvalidInput("room_kind_invalid", "Only group rooms take invitations.")
            if not room.members_can_invite:
                require_moderator(membership)
            if room.member_count + len(candidates) > GROUP_MAX_MEMBERS:
                raise InvalidInput(
                    "room_too_large", "Too many members.", {"max_members": GROUP_MAX_MEMBERS}
                )
            check_users_txn(conn, candidates)
            added = [
                user_id
                for user_id in candidates
                if join_txn(
                    conn,
                    out,
                    room_id,
                    user_id,
                    role="member",
                    actor=me,
                    now=now,
                    history=room.history_visibility,
                )
            ]
            if added:
                post_system_message_txn(
                    conn,
                    out,
                    room_id,
                    {"event": "invited", "actor_id": me, "user_ids": added},
                    now,
                )
            return added

        added = await self._db.write(invite_txn)
        await out.publish(self._bus)
        return added

    async def leave(self, principal: Principal, room_id: RoomId, *, quiet: bool) -> None:
        """Leaves a room: quietly (조용히 나가기: no notice for others) or with a notice."""
        await self._remove(principal, room_id, principal.user.id, reason="left", quiet=quiet)

    async def kick(self, principal: Principal, room_id: RoomId, user_id: UserId) -> None:
        """Removes a member (owner and admins; an admin cannot remove the owner or an admin)."""
        await self._remove(principal, room_id, user_id, reason="kicked", quiet=False)

    async def _remove(
        self,
        principal: Principal,
        room_id: RoomId,
        user_id: UserId,
        *,
        reason: Literal["left", "kicked"],
        quiet: bool,
    ) -> None:
        me = principal.user.id
        now = self._clock.now()
        out = Outgoing()

        def remove_txn(conn: sa.Connection) -> None:
            room, membership = get_room_for_member_txn(conn, room_id, me)
            target = membership
            if reason == "kicked":
                require_moderator(membership)
                if user_id == me:
                    raise InvalidInput("cannot_kick_self", "Leave the room instead.")
                found = rooms_repo.select_room_and_membership(conn, room_id, user_id)
                if found is None:
                    raise NotFound("member_not_found", "That person is not in this room.")
                target = found[1]
                if target.is_owner or (target.can_moderate() and not membership.is_owner):
                    raise Forbidden(
                        "room_permission_denied", "You cannot remove the owner or another admin."
                    )
            rooms_repo.delete_member(conn, room_id, user_id)
            rooms_repo.refresh_member_count(conn, room_id)
            append_event_txn(
                conn,
                out,
                room_id=room_id,
                kind="member.left",
                now=now,
                actor_id=me,
                subject_user_id=user_id,
                payload={"user_id": user_id, "reason": reason, "quiet": quiet, "by": me},
            )
            if target.is_owner:
                self._hand_over_on_leave_txn(conn, out, room_id, user_id, now)
            if not quiet and room.kind == "group":
                post_system_message_txn(
                    conn,
                    out,
                    room_id,
                    {"event": reason, "actor_id": me, "user_id": user_id},
                    now,
                )
            out.to_user(user_id, {"type": "room.removed", "room_id": room_id, "reason": reason})

        await self._db.write(remove_txn)
        await out.publish(self._bus)

    @staticmethod
    def _hand_over_on_leave_txn(
        conn: sa.Connection, out: Outgoing, room_id: RoomId, leaving: UserId, now: dt.datetime
    ) -> None:
        successor = rooms_repo.select_oldest_other_member(conn, room_id, leaving)
        if successor is None:
            return
        rooms_repo.update_member_fields(conn, room_id, successor, {"role": "owner"})
        append_event_txn(
            conn,
            out,
            room_id=room_id,
            kind="member.role_changed",
            now=now,
            subject_user_id=successor,
            payload={"user_id": successor, "role": "owner"},
        )

    async def transfer_owner(self, principal: Principal, room_id: RoomId, user_id: UserId) -> None:
        """Hands 방장 over to another member; the previous owner becomes a member."""
        me = principal.user.id
        now = self._clock.now()
        out = Outgoing()

        def transfer_txn(conn: sa.Connection) -> None:
            _room, membership = get_room_for_member_txn(conn, room_id, me)
            if not membership.is_owner:
                raise Forbidden("room_permission_denied", "Only the room owner can do this.")
            if rooms_repo.select_room_and_membership(conn, room_id, user_id) is None:
                raise NotFound("member_not_found", "That person is not in this room.")
            if user_id == me:
                return
            rooms_repo.update_member_fields(conn, room_id, user_id, {"role": "owner"})
            rooms_repo.update_member_fields(conn, room_id, me, {"role": "member"})
            for subject, role in ((user_id, "owner"), (me, "member")):
                append_event_txn(
                    conn,
                    out,
                    room_id=room_id,
                    kind="member.role_changed",
                    now=now,
                    actor_id=me,
                    subject_user_id=subject,
                    payload={"user_id": subject, "role": role},
                )

        await self._db.write(transfer_txn)
        await out.publish(self._bus)

    async def update_room(
        self, principal: Principal, room_id: RoomId, changes: dict[str, Any]
    ) -> RoomSummary:
        """Rename, change the topic, the history policy or whether members may invite (owner
        and admins; groups only)."""
        fields = ("name", "topic", "history_visibility", "members_can_invite")
        allowed = {k: v for k, v in changes.items() if k in fields}
        if "name" in allowed:
            allowed["name"] = (allowed["name"] or "").strip()[:100]
            if not allowed["name"]:
                raise InvalidInput("room_name_empty", "A group room needs a name.")
        now = self._clock.now()
        out = Outgoing()

        def update_txn(conn: sa.Connection) -> None:
            room, membership = get_room_for_member_txn(conn, room_id, principal.user.id)
            if room.kind != "group":
                raise InvalidInput("room_kind_invalid", "Only group rooms have these settings.")
            require_moderator(membership)
            if allowed:
                rooms_repo.update_room_fields(conn, room_id, allowed)
                append_event_txn(
                    conn,
                    out,
                    room_id=room_id,
                    kind="room.updated",
                    now=now,
                    actor_id=principal.user.id,
                    payload={"changes": allowed},
                )

        await self._db.write(update_txn)
        await out.publish(self._bus)
        return await self.get_summary(principal, room_id)

    async def update_settings(
        self, principal: Principal, room_id: RoomId, changes: dict[str, bool]
    ) -> RoomSummary:
        """The caller's own mute, favourite and archive flags, synced to their other devices."""
        values = {k: bool(v) for k, v in changes.items() if k in ("muted", "favourite", "archived")}

        def settings_txn(conn: sa.Connection) -> None:
            get_room_for_member_txn(conn, room_id, principal.user.id)
            if values:
                rooms_repo.update_member_fields(conn, room_id, principal.user.id, values)

        await self._db.write(settings_txn)
        if values:
            out = Outgoing()
            out.to_user(principal.user.id, {"type": "room.settings", "room_id": room_id, **values})
            await out.publish(self._bus)
        return await self.get_summary(principal, room_id)

    # --- reading -----------------------------------------------------------------------------

    async def list_rooms(
        self, principal: Principal, room_id: RoomId | None = None
    ) -> tuple[list[RoomSummary], int]:
        """The caller's rooms by last activity, and the total unread for the app badge
        (muted rooms excluded). One statement whatever the number of rooms, and one more for
        the files of last messages that have some (the list's preview says "사진", "파일: …")."""

        def list_txn(
            conn: sa.Connection,
        ) -> tuple[list[Any], dict[MessageId, tuple[Attachment, ...]]]:
            rows = rooms_repo.select_room_list(conn, principal.user.id, room_id)
            file_ids = [
                r.last_message.id
                for r in rows
                if r.last_message is not None
                and r.last_message.kind == "file"
                and not r.last_message.is_unsent
            ]
            files = files_repo.select_attachments_for_messages(conn, file_ids) if file_ids else {}
            return rows, files

        rows, files = await self._db.read(list_txn)
        summaries = [
            _summary(
                r.room,
                r.membership,
                r.peer_user_id,
                r.peer_name,
                r.last_message,
                r.unread_mentions,
                files.get(r.last_message.id, ()) if r.last_message is not None else (),
                self._requires_clean,
            )
            for r in rows
        ]
        total = sum(s.unread_count for s in summaries if not s.membership.muted)
        return summaries, total

    async def get_summary(self, principal: Principal, room_id: RoomId) -> RoomSummary:
        rooms, _ = await self.list_rooms(principal, room_id)
        if not rooms:
            raise NotFound(*ROOM_NOT_FOUND)
        return rooms[0]

    async def list_members(
        self, principal: Principal, room_id: RoomId, *, after_user_id: int = 0, limit: int = 1000
    ) -> list[rooms_repo.MemberRow]:
        def members_txn(conn: sa.Connection) -> list[rooms_repo.MemberRow]:
            get_room_for_member_txn(conn, room_id, principal.user.id)
            return rooms_repo.select_members(
                conn, room_id, after_user_id=after_user_id, limit=limit
            )

        return await self._db.read(members_txn)

    async def list_member_room_heads(self, user_id: UserId) -> dict[RoomId, int]:
        """The user's rooms with each room's newest event_seq (the gateway's starting points)."""
        return await self._db.read(lambda conn: rooms_repo.select_member_room_heads(conn, user_id))

    async def room_heads(self, room_ids: set[int]) -> dict[RoomId, int]:
        """The newest event_seq of each room (the gateway checks for lost bus messages)."""
        return await self._db.read(lambda conn: rooms_repo.select_room_heads(conn, room_ids))

    async def list_member_room_ids(self, user_id: UserId) -> list[RoomId]:
        """Rooms a user is in (the gateway's subscriptions)."""
        return await self._db.read(lambda conn: rooms_repo.select_member_room_ids(conn, user_id))


def _summary(
    room: Room,
    membership: Membership,
    peer_user_id: UserId | None,
    peer_name: str | None,
    last: Message | None,
    unread_mentions: int,
    last_files: tuple[Attachment, ...] = (),
    requires_clean: bool = True,
) -> RoomSummary:
    if room.kind == "group":
        name = room.name
    elif room.kind == "self":
        name = None  # clients show "나와의 채팅"
    else:
        name = peer_name
    last_wire = None
    if last is not None and last.seq >= membership.visible_from_seq:
        last_wire = MessageView(
            message=last, attachments=last_files, requires_clean=requires_clean
        ).to_wire()
    return RoomSummary(
        room=room,
        membership=membership,
        display_name=name,
        peer_user_id=peer_user_id,
        last_message=last_wire,
        unread_count=room_unread(room.last_seq, membership.last_read_seq),
        unread_mentions=unread_mentions,
    )
