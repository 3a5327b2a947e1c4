"""Two ``sodam serve`` processes on one PostgreSQL and one Redis behave as one server (issue 4,
item 1): a client on node A sees what a client on node B does — messages, edits, reactions, read
positions, typing, presence, profile changes — and a removal on one node unsubscribes the user's
socket on the other."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.rest import Rest
from tests.support.ws import ws_session

pytestmark = pytest.mark.e2e
WITHIN = 20.0  # generous: a noisy machine


def send(room: int, cmid: str, body: str) -> dict[str, object]:
    return {"type": "send", "room_id": room, "client_msg_id": cmid, "body": body}


async def one_server(cluster: Cluster) -> None:
    a, b = cluster.urls
    owner, peer = cluster.users[14], cluster.users[15]
    async with httpx.AsyncClient(timeout=30) as http:
        rest = Rest(cluster.urls, http)
        body = {"kind": "group", "name": "두 노드", "member_ids": [peer.user_id]}
        room = int((await rest.must("POST", "/api/rooms", owner, json=body))["id"])
        cluster.rooms.owners[room] = owner
        head = (await rest.room(owner, room))["last_event_seq"]
        at = {room: head}
        async with (
            ws_session(a, owner.token, cursors=at) as on_a,
            ws_session(b, peer.token, cursors=at) as on_b,
            ws_session(a, peer.token, cursors=at) as peer_on_a,
        ):
            await on_a.request({"type": "presence.watch", "user_ids": [peer.user_id]})
            await on_a.expect("presence", user_id=peer.user_id, status="online", within=WITHIN)

            ack = await on_b.request(send(room, "nodes-0001", "B에서 보냄"), within=WITHIN)
            got = await on_a.expect("event", event_seq=ack["message"]["event_seq"], within=WITHIN)
            assert got["event"]["message"]["body"] == "B에서 보냄"

            path = f"/api/rooms/{room}/messages/{ack['message']['id']}"
            await rest.must("PATCH", path, peer, prefer=1, json={"body": "B에서 고침"})
            edited = await on_a.expect("event", room_id=room, within=WITHIN)
            assert edited["event"]["kind"] == "message.updated"
            assert edited["event"]["message"]["body"] == "B에서 고침"
            await rest.must("PUT", f"{path}/reaction", owner, prefer=0, json={"reaction": "like"})
            reacted = await on_b.expect("event", room_id=room, event_seq=edited["event_seq"] + 1)
            assert reacted["event"]["reactions"][0]["user_ids"] == [owner.user_id]

            await on_b.request({"type": "typing", "room_id": room})
            await on_a.expect("typing", room_id=room, user_id=peer.user_id, within=WITHIN)

            ack2 = await on_a.request(send(room, "nodes-0002", "A에서 보냄"), within=WITHIN)
            await on_b.request({"type": "read", "room_id": room, "seq": ack2["message"]["seq"]})
            moved = await on_a.expect("read", room_id=room, within=WITHIN)
            assert {"user_id": peer.user_id, "last_read_seq": ack2["message"]["seq"]} in moved[
                "reads"
            ]
            own = await peer_on_a.expect("read.self", room_id=room, within=WITHIN)
            assert own["unread_count"] == 0

            await rest.must(
                "PATCH", "/api/me/profile", peer, prefer=1, json={"work_status": "meeting"}
            )
            changed = await on_a.expect("profile.updated", user_id=peer.user_id, within=WITHIN)
            assert changed["work_status"] == "meeting"

            await on_b.request({"type": "presence", "status": "away"})
            await peer_on_a.request({"type": "presence", "status": "away"})
            await on_a.expect("presence", user_id=peer.user_id, status="away", within=WITHIN)

            kick = f"/api/rooms/{room}/members/{peer.user_id}"
            await rest.must("DELETE", kick, owner, prefer=0)
            await on_b.expect("room.removed", room_id=room, within=WITHIN)
            await peer_on_a.expect("room.removed", room_id=room, within=WITHIN)
            after = await on_a.request(send(room, "nodes-0003", "나간 뒤"), within=WITHIN)
            await on_b.send({"type": "ping"})
            await on_b.expect("pong", within=WITHIN)
            seq = after["message"]["event_seq"]
            assert all(f.get("event_seq") != seq for f in on_b.frames + peer_on_a.frames)


def test_two_nodes_behave_as_one_server(cluster: Cluster) -> None:
    asyncio.run(one_server(cluster))
