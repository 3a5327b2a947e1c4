"""The oracle: after a fault has healed, checks reliability.md §1 against the database (read over
REST by a member of each room), every client's final view and the log of acknowledged sends.

- I1 every acknowledged send is stored (same id, seq, sender, client_msg_id) and is in the final
  view of every client of every member;
- I2 per (room, sender, client_msg_id) at most one message, and every ack of one client_msg_id
  named the same message and seq;
- I3 each room's seqs are 1..N without gaps or repeats and every client shows them in that order;
  no socket ever repeated or skipped an event_seq (clients record that while they run);
- I4 each client's messages (text, edits, unsends, 가리기, reactions) and unread badge equal a
  fresh REST fetch by that client's user (the unread number beside each message is left out: it
  changes with other people's reads, which are ephemeral frames);
- I5 no client received an event of a room at an event_seq where its user was not a member;
- I6 is checked by ``assert_idle`` on the nodes' gauges, file descriptors and processes.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.faults.clients import Client
from tests.e2e.faults.nodes import Node
from tests.e2e.faults.rest import Account, Rest

JSON = dict[str, Any]
CONVERGE_DEADLINE_S = 60.0
IDLE_DEADLINE_S = 30.0
VOLATILE = ("unread_count",)  # changes with other people's reads (ephemeral frames)


@dataclass
class Rooms:
    """Every room the session created, with a member who stays in it (reads its log)."""

    owners: dict[int, Account] = field(default_factory=dict)


def normalise(message: JSON) -> JSON:
    return {k: v for k, v in message.items() if k not in VOLATILE}


async def heads(rest: Rest, rooms: Rooms, room_ids: Iterable[int]) -> dict[int, int]:
    return {r: (await rest.room(rooms.owners[r], r))["last_event_seq"] for r in room_ids}


async def wait_live_convergence(
    clients: list[Client], rest: Rest, rooms: Rooms, room_ids: list[int], within: float
) -> float:
    """Waits until every client's live view reached each room's head, with no resume and no
    client action beyond the protocol's gap rule; returns how long it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    target = await heads(rest, rooms, room_ids)
    while True:
        behind = [
            (c.name, r, c.rooms[r].cursor, head)
            for c in clients
            for r, head in target.items()
            if r in c.rooms and not c.rooms[r].removed and c.rooms[r].cursor < head
        ]
        if not behind:
            return loop.time() - start
        if loop.time() - start > within:
            raise AssertionError(f"live views did not converge within {within}s: {behind[:10]}")
        await asyncio.sleep(0.1)  # polling the clients' state, not synchronising with a server


async def final_resume(clients: list[Client], prefer: int | None = None) -> None:
    """Every client drops its socket and resumes from its cursors (its final view)."""
    for client in clients:
        await client.reconnect(prefer)
    await asyncio.gather(*(c.wait_live(CONVERGE_DEADLINE_S) for c in clients))
    await asyncio.gather(*(c.settle() for c in clients))


async def check_invariants(
    rest: Rest, rooms: Rooms, room_ids: list[int], clients: list[Client]
) -> dict[str, int]:
    """I1–I5 over these rooms (I5 over every room any client heard of). Returns counts."""
    reads: dict[tuple[int, int], int] = {}
    for client in clients:
        await client.settle()
        for room_id in room_ids:  # read.self is not replayed: refetched after a resume
            view = client.rooms.get(room_id)
            if view is None or view.removed:
                continue
            key = (client.who.user_id, room_id)
            if key not in reads:
                reads[key] = (await rest.room(client.who, room_id))["last_read_seq"]
            view.last_read_seq = reads[key]
    problems: list[str] = [v for c in clients for v in c.violations] + list(rest.broken)
    stored: dict[int, list[JSON]] = {}
    for room_id in room_ids:
        stored[room_id] = await rest.messages(rooms.owners[room_id], room_id)
        problems += _check_room_log(room_id, stored[room_id])
    problems += _check_acks(clients, stored)
    fresh: dict[tuple[int, int], tuple[list[JSON], JSON]] = {}  # (user, room): one fetch each
    for client in clients:
        problems += await _check_view(rest, client, room_ids, fresh)
    problems += await _check_exposure(rest, rooms, clients)
    assert not problems, "invariants broken:\n" + "\n".join(problems[:40])
    return {
        "messages": sum(len(v) for v in stored.values()),
        "acks": sum(len(c.acks) for c in clients),
        "client_gap_fills": sum(c.client_gaps for c in clients),
        "sockets": sum(len(c.sockets) for c in clients),
    }


def _check_room_log(room_id: int, messages: list[JSON]) -> list[str]:
    out: list[str] = []
    seqs = [m["seq"] for m in messages]
    if seqs != list(range(1, len(seqs) + 1)):
        out.append(f"I3 room {room_id}: seqs are not 1..N: {seqs[:50]}")
    keys: dict[tuple[Any, Any], int] = defaultdict(int)
    for m in messages:
        if m.get("client_msg_id") is not None:
            keys[(m["sender_id"], m["client_msg_id"])] += 1
    out += [f"I2 room {room_id}: {k} stored {n} times" for k, n in keys.items() if n > 1]
    return out


def _check_acks(clients: list[Client], stored: dict[int, list[JSON]]) -> list[str]:
    out: list[str] = []
    by_id = {m["id"]: m for msgs in stored.values() for m in msgs}
    seen: dict[tuple[int, str], tuple[int, int]] = {}
    for client in clients:
        for ack in client.acks:
            if ack["room_id"] not in stored:
                continue
            key = (ack["room_id"], ack["client_msg_id"])
            named = (ack["id"], ack["seq"])
            if seen.setdefault(key, named) != named:
                out.append(f"I2 {key}: acked as {named} and as {seen[key]}")
            row = by_id.get(ack["id"])
            if row is None:
                out.append(f"I1 acked message {named} ({key}) is not stored")
            elif (row["seq"], row["room_id"]) != (ack["seq"], ack["room_id"]) or (
                row["deleted_at"] is None
                and (row["sender_id"], row["client_msg_id"]) != (ack["sender_id"], key[1])
            ):
                out.append(f"I1 acked {named} ({key}) is stored differently: {row}")
    return out


async def _check_view(
    rest: Rest,
    client: Client,
    room_ids: list[int],
    cache: dict[tuple[int, int], tuple[list[JSON], JSON]],
) -> list[str]:
    out: list[str] = []
    for room_id in room_ids:
        view = client.rooms.get(room_id)
        if view is None or view.removed:
            continue
        key = (client.who.user_id, room_id)
        if key not in cache:
            cache[key] = (
                await rest.messages(client.who, room_id),
                await rest.room(client.who, room_id),
            )
        fresh, summary = cache[key]
        mine = sorted(view.messages.values(), key=lambda m: m["seq"])
        if [m["id"] for m in mine] != [m["id"] for m in fresh]:
            missing = sorted({m["id"] for m in fresh} - set(view.messages))
            extra = sorted(set(view.messages) - {m["id"] for m in fresh})
            out.append(f"I1/I3 {client.name} room {room_id}: missing {missing} extra {extra}")
            continue
        for have, want in zip(mine, fresh, strict=True):
            if normalise(have) != normalise(want):
                out.append(
                    f"I4 {client.name} room {room_id} message {want['id']}: {have} != {want}"
                )
                break
        last_seq = max((m["seq"] for m in mine), default=0)
        badge = max(0, last_seq - view.last_read_seq)
        if badge != summary["unread_count"] or view.cursor != summary["last_event_seq"]:
            out.append(
                f"I4 {client.name} room {room_id}: badge {badge} cursor {view.cursor}, "
                f"server {summary['unread_count']} / {summary['last_event_seq']}"
            )
    return out


async def _check_exposure(rest: Rest, rooms: Rooms, clients: list[Client]) -> list[str]:
    """I5: for every event frame received, its user was a member at that event_seq."""
    out: list[str] = []
    logs: dict[int, list[JSON]] = {}
    for client in clients:
        for room_id, seq in set(client.received):
            if room_id not in rooms.owners:
                out.append(f"I5 {client.name} got room {room_id}, which no test created")
                continue
            if room_id not in logs:
                logs[room_id], _ = await rest.events(rooms.owners[room_id], room_id)
            if not _member_at(logs[room_id], client.who.user_id, seq):
                out.append(f"I5 {client.name} got room {room_id} event {seq} as a non-member")
    return out


def _member_at(log: list[JSON], user_id: int, seq: int) -> bool:
    member = False
    for frame in log:
        if frame["event_seq"] > seq:
            break
        event = frame["event"]
        if event.get("user_id") == user_id and event["kind"] == "member.joined":
            member = True
        elif event.get("user_id") == user_id and event["kind"] == "member.left":
            member = frame["event_seq"] == seq  # the leaver is told, then nothing more
    return member


async def assert_idle(nodes: Iterable[Node], fds_before: dict[str, int] | None = None) -> None:
    """I6: the nodes' connections, queues, tracked rooms and tasks are back to zero, and their
    open file descriptors back near where they were (pooled DB and Redis sockets may differ)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + IDLE_DEADLINE_S
    wanted = ("sodam_websocket_connections", "sodam_ws_queued_frames", "sodam_ws_rooms_tracked")
    for node in nodes:
        while True:
            metrics = await asyncio.to_thread(node.metrics)
            busy = {k: metrics.get(k) for k in (*wanted, "sodam_ws_background_tasks")}
            if all(v == 0 for v in busy.values()):
                break
            if loop.time() > deadline:
                raise AssertionError(f"I6 {node.name} not idle: {busy}")
            await asyncio.sleep(0.2)  # polling a gauge
        if fds_before and node.name in fds_before:
            fds = node.open_fds()
            assert fds <= fds_before[node.name] + 25, f"I6 {node.name}: {fds} open fds"
