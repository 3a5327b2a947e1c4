"""Bus topic names, shared by the services that publish and the gateway that subscribes."""

from __future__ import annotations


def room_topic(room_id: int) -> str:
    return f"room:{room_id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"
