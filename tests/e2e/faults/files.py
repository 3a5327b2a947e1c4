"""Files in the fault tests (F2, F12, F13): a one-node deployment (``sodam serve`` on SQLite
with the in-memory bus) started with the settings a test needs (a clamd, an S3 endpoint, a small
disk), tus uploads and downloads over REST, and waiting for an attachment's state.

Every answer goes through ``Rest.record``, so a 500 (or a 503/507 with an unexpected code) fails
the test like in the other fault tests.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.faults.conftest import ADMIN_PASSWORD, SECRET, Cluster, _make_users
from tests.e2e.faults.infra import pid_alive
from tests.e2e.faults.nodes import Node
from tests.e2e.faults.rest import Account, Rest

JSON = dict[str, Any]
MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"
STATE_DEADLINE_S = 60.0


def file_node_env(**extra: str | None) -> dict[str, str | None]:
    """A node whose job runner polls often and whose leases expire fast: a job whose node was
    killed is taken again about 3 s after its claim (F2)."""
    return {
        "SODAM_SECRET_KEY": SECRET,
        "SODAM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SODAM_AUTH__ACCESS_TOKEN_TTL_S": "7200",
        "SODAM_REALTIME__HEADS_CHECK_S": "1",
        "SODAM_JOBS__POLL_S": "0.2",
        "SODAM_JOBS__LEASE_S": "3",
        **extra,
    }


@contextlib.contextmanager
def file_cluster(
    name: str, env: dict[str, str | None], *, users: int = 3, root: Path | None = None
) -> Iterator[Cluster]:
    """One node with ``env`` and ``users`` users; its data directory is ``root/data`` (the
    caller may prepare ``root``, e.g. mount a small disk at ``root/data/files``)."""
    own_root = root is None
    base = root or Path(tempfile.mkdtemp(prefix=f"sodam-faults-{name}-"))
    node = Node(name, base / "data", env)
    try:
        node.start()
        admin, accounts = _make_users(node.url, count=users)
        cluster = Cluster(None, None, None, [node], admin, accounts)
        cluster.fds = {node.name: node.open_fds()}
        yield cluster
    finally:
        node.stop()
        if own_root:
            shutil.rmtree(base, ignore_errors=True)
        assert not [p for p in node.pids if pid_alive(p)], "I6: a node was left behind"


# --- tus ------------------------------------------------------------------------------------------


async def _tus(
    rest: Rest, method: str, path: str, who: Account, headers: dict[str, str], **kw: Any
) -> httpx.Response | None:
    """One request to the node; None when it does not answer (killed, restarting)."""
    try:
        r = await rest.http.request(
            method, rest.urls[0] + path, headers={**who.headers, **TUS, **headers}, **kw
        )
    except httpx.TransportError:
        return None
    rest.record(method, path, r)
    return r


async def tus_create(
    rest: Rest, who: Account, length: int, name: str, first: bytes | None = None
) -> httpx.Response | None:
    """POST /api/uploads (creation-with-upload when ``first`` is given)."""
    headers = {
        "Upload-Length": str(length),
        "Upload-Metadata": "filename " + base64.b64encode(name.encode()).decode(),
    }
    if first is None:
        return await _tus(rest, "POST", "/api/uploads", who, headers)
    return await _tus(
        rest, "POST", "/api/uploads", who, {**headers, "Content-Type": OFFSET_TYPE}, content=first
    )


def upload_id_of(r: httpx.Response | None) -> str:
    assert r is not None and r.status_code == 201, r and r.text
    return r.headers["location"].rsplit("/", 1)[-1]


async def tus_patch(
    rest: Rest, who: Account, upload_id: str, offset: int, data: bytes
) -> httpx.Response | None:
    return await _tus(
        rest,
        "PATCH",
        f"/api/uploads/{upload_id}",
        who,
        {"Upload-Offset": str(offset), "Content-Type": OFFSET_TYPE},
        content=data,
    )


async def tus_offset(rest: Rest, who: Account, upload_id: str) -> int:
    r = await _tus(rest, "HEAD", f"/api/uploads/{upload_id}", who, {})
    assert r is not None and r.status_code == 200, r and r.status_code
    return int(r.headers["upload-offset"])


async def upload(
    rest: Rest, who: Account, data: bytes, name: str, chunk: int = 2 * MiB, start: int = 0
) -> str:
    """A whole tus upload in PATCHes of ``chunk`` bytes (or the rest of one from ``start``)."""
    upload_id = upload_id_of(await tus_create(rest, who, len(data), name))
    await upload_rest(rest, who, upload_id, data, chunk, start)
    return upload_id


async def upload_rest(
    rest: Rest, who: Account, upload_id: str, data: bytes, chunk: int = 2 * MiB, start: int = 0
) -> None:
    offset = start
    while offset < len(data):
        r = await tus_patch(rest, who, upload_id, offset, data[offset : offset + chunk])
        assert r is not None and r.status_code == 204, r and r.text
        offset = int(r.headers["upload-offset"])


# --- messages and files ---------------------------------------------------------------------------


async def send_files(
    rest: Rest, who: Account, room_id: int, upload_ids: list[str], cmid: str, within: float = 90
) -> JSON:
    """Sends the uploads as one message, retried (same client_msg_id) until the node answers."""
    body = {"client_msg_id": cmid, "upload_ids": upload_ids}
    answer = await rest.must("POST", f"/api/rooms/{room_id}/messages", who, within, json=body)
    message: JSON = answer["message"]
    return message


async def attachments(rest: Rest, who: Account, room_id: int, message_id: int) -> list[JSON]:
    message = await rest.must("GET", f"/api/rooms/{room_id}/messages/{message_id}", who)
    found: list[JSON] = message["attachments"]
    return found


@dataclass(frozen=True)
class Fetched:
    status: int
    code: str | None  # the error code of a 4xx/5xx
    sha256: str | None  # of the body of a 200
    content_type: str | None = None


async def download(rest: Rest, who: Account, attachment_id: int, suffix: str = "") -> Fetched:
    """GET /api/files/{id}{suffix} as ``who``; the body's sha256 when it is a 200."""
    path = f"/api/files/{attachment_id}{suffix}"
    r = await rest.http.get(rest.urls[0] + path, headers=who.headers)
    rest.record("GET", path, r)
    if r.status_code == 200:
        return Fetched(200, None, hashlib.sha256(r.content).hexdigest(), r.headers["content-type"])
    code = (
        r.json().get("code")
        if r.headers.get("content-type", "").startswith("application/json")
        else None
    )
    return Fetched(r.status_code, code, None)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, within: float = STATE_DEADLINE_S
) -> float:
    """Polls ``check`` until it holds; returns how long that took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not await check():
        if loop.time() - start > within:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(0.1)  # polling the server's state, not synchronising with it
    return loop.time() - start


async def wait_exit(node: Node, within: float = 60) -> None:
    """Waits for a node to die at its failpoint (``kill``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while node.running:
        if loop.time() > deadline:
            raise AssertionError(f"{node.name} did not die at its failpoint")
        await asyncio.sleep(0.05)  # polling for the process to die
    node.reap()
