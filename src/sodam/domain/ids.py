"""Typed ids, so a room id is never passed where a user id is expected."""

from __future__ import annotations

from typing import NewType

UserId = NewType("UserId", int)
RoomId = NewType("RoomId", int)
MessageId = NewType("MessageId", int)
SessionId = NewType("SessionId", str)
OrgUnitId = NewType("OrgUnitId", int)
AttachmentId = NewType("AttachmentId", int)
