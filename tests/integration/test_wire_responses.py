"""The room list and history pages are written straight from the domain's wire dicts
(``sodam.api.wire.WireJSON``), past FastAPI's response validation. Their bodies must be exactly
what the documented response models (the OpenAPI contract) would have produced: no field
missing, none extra, every value of the declared type. Checked on rooms and messages of every
kind, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from sodam.api.messages import HistoryOut
from sodam.api.rooms import RoomListOut
from tests.support.factories import LoggedIn, create_user
from tests.support.files import png_bytes, send_file
from tests.support.messaging import (
    edit,
    invite,
    make_group,
    open_direct,
    react,
    send,
    unsend,
)


def assert_is_model_output(model: type[BaseModel], body: Any) -> None:
    assert model.model_validate(body).model_dump(mode="json") == body


async def test_room_list_and_history_bodies_are_what_their_models_produce(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    alice, bob = await create_user(client, admin), await create_user(client, admin)
    group = await make_group(client, alice, [bob], topic="주간 회의")
    gid = int(group["id"])
    first = await send(client, alice, gid, "첫 메시지 <@all>")
    await send(client, bob, gid, f"답장 <@{alice.user_id}>", reply_to_id=first["id"])
    await send(client, bob, gid, "전달", forward_of_id=first["id"])
    edited = await send(client, alice, gid, "고치기 전")
    assert (await edit(client, alice, gid, edited["id"], "고친 뒤")).status_code == 200
    assert (await react(client, bob, gid, edited["id"], "like")).status_code in (200, 204)
    gone = await send(client, alice, gid, "보내기 취소")
    assert (await unsend(client, alice, gid, gone["id"])).status_code in (200, 204)
    await send_file(client, alice, gid, png_bytes(), "사진.png")
    await invite(client, alice, gid, await create_user(client, admin))  # a system message
    direct = await open_direct(client, alice, bob)
    await send(client, bob, int(direct["id"]), "1:1 메시지")
    r = await client.post("/api/rooms", json={"kind": "self"}, headers=alice.headers)
    assert r.status_code == 201, r.text  # 나와의 채팅, no message yet

    r = await client.get("/api/rooms", headers=alice.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert len(body["rooms"]) == 3
    assert_is_model_output(RoomListOut, body)

    for params in ({}, {"limit": 2}, {"before": 3}, {"around": 2}):
        r = await client.get(f"/api/rooms/{gid}/messages", params=params, headers=bob.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["messages"]
        assert_is_model_output(HistoryOut, page)
    kinds = {
        m["kind"]
        for m in (await client.get(f"/api/rooms/{gid}/messages", headers=bob.headers)).json()[
            "messages"
        ]
    }
    assert {"text", "system", "file"} <= kinds
