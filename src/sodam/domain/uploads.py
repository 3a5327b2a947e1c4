"""Unfinished and finished resumable uploads (tus 1.0.0), before they become attachments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sodam.domain.ids import UserId


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    user_id: UserId
    length: int
    offset: int
    file_name: str
    # client metadata we keep (file name) plus, once finished: content_type, kind, sha256
    metadata: dict[str, Any]
    storage_key: str
    store_state: dict[str, Any] = field(default_factory=dict)  # files.base.UploadState JSON
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None

    @property
    def finished(self) -> bool:
        return self.completed_at is not None
