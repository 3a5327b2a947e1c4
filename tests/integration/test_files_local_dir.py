"""``SODAM_FILES__LOCAL_DIR``: file bodies kept on local disk somewhere other than the data
directory (a disk of their own, docs/storage.md), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from sodam.config import Settings
from tests.support.factories import LoggedIn, create_user
from tests.support.files import send_file, sha256
from tests.support.messaging import make_group


@pytest.fixture
def settings(settings: Settings, database_url: str, tmp_path: Path) -> Settings:
    """conftest's settings (the data dir under ``tmp_path / "var"``), with the files elsewhere.
    ``database_url`` is named so that pytest parametrises this module over both engines (it does
    not see the parameter through an overridden fixture)."""
    files = settings.files.model_copy(update={"local_dir": tmp_path / "files-disk"})
    return settings.model_copy(update={"embedded_workers": False, "files": files})


async def test_uploads_and_files_live_in_the_configured_directory(
    client: httpx.AsyncClient, admin: LoggedIn, settings: Settings, tmp_path: Path
) -> None:
    alice, bob = await create_user(client, admin), await create_user(client, admin)
    room = await make_group(client, alice, [bob])
    data = os.urandom(3 * 1024 * 1024 + 5)
    message = await send_file(client, alice, room["id"], data, "분기 보고서.pdf")
    file = message["attachments"][0]
    assert file["sha256"] == sha256(data)

    stored = [p for p in (tmp_path / "files-disk").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [data]
    assert stored[0].is_relative_to(tmp_path / "files-disk" / "blobs")
    assert not (settings.data_dir / "files").exists()

    r = await client.get(f"/api/files/{file['id']}", headers=bob.headers)
    assert r.status_code == 200
    assert r.content == data
