"""F2: ``kill -9`` of the server during a virus scan and during thumbnailing (failpoints,
docs/fault-tests.md). One node with a real clamd, on SQLite (and on PostgreSQL for one scan
case: there a job whose lease expired is claimed with ``FOR UPDATE SKIP LOCKED``); job leases of
3 s, so the restarted node takes the killed jobs again soon after it is back.

- **scan**: a clean file and an EICAR file are sent together; the node dies while streaming the
  first of them to clamd, or after clamd's verdict but before it is stored. Meanwhile and after
  the restart, neither is ever downloadable by another member (409 ``file_not_scanned``) until
  its scan is stored; the retried jobs end with the clean file clean (its bytes intact) and the
  EICAR file infected and blocked for everyone (403 ``file_blocked``), never clean; each scan is
  one room event.
- **thumbnail**: the node dies after the thumbnails are stored but before they are recorded, or
  after they are recorded but before the job is done. After the restart the image's thumbnails
  are ready and served, and their state change is one room event (the retried job is idempotent).

kill -9 during an *upload* is covered by tests/e2e/test_uploads_serve.py (tuspy resumes).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.faults.conftest import Cluster
from tests.e2e.faults.files import (
    MiB,
    attachments,
    download,
    eventually,
    file_cluster,
    file_node_env,
    send_files,
    sha256,
    upload,
    wait_exit,
)
from tests.e2e.faults.rest import Rest
from tests.e2e.faults.scenario import scenario
from tests.support.clamd import EICAR, ClamdServer, start_clamd
from tests.support.files import png_bytes
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]


@pytest.fixture(scope="module")
def f2_clamd() -> Iterator[ClamdServer]:
    clamd = start_clamd()
    try:
        yield clamd
    finally:
        clamd.close()


@pytest.fixture(scope="module")
def f2_sqlite(f2_clamd: ClamdServer) -> Iterator[Cluster]:
    env = file_node_env(SODAM_FILES__CLAMD_URL=f2_clamd.tcp_address)
    with file_cluster("files-f2", env) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def f2_postgresql(f2_clamd: ClamdServer, postgres_server: PostgresServer) -> Iterator[Cluster]:
    name = postgres_server.create_database()
    try:
        env = file_node_env(
            SODAM_FILES__CLAMD_URL=f2_clamd.tcp_address,
            SODAM_DATABASE__URL=postgres_server.url(name),
        )
        with file_cluster("files-f2-pg", env) as cluster:
            yield cluster
    finally:
        postgres_server.drop_database(name)


def healed(request: pytest.FixtureRequest, engine: str) -> Cluster:
    cluster: Cluster = request.getfixturevalue(f"f2_{engine}")
    cluster.heal()
    request.addfinalizer(cluster.heal)
    return cluster


async def file_events(rest: Rest, cluster: Cluster, room_id: int, message_id: int) -> list[JSON]:
    """The room's ``message.updated`` events of one message, in order."""
    frames, _too_far = await rest.events(cluster.users[0], room_id)
    return [
        f["event"]
        for f in frames
        if f["event"]["kind"] == "message.updated" and f["event"]["message"]["id"] == message_id
    ]


async def kill_mid_scan(cluster: Cluster, point: str) -> dict[str, object]:
    node = cluster.nodes[0]
    owner, member, other = cluster.users[:3]
    async with scenario(cluster) as s:
        room = await s.room(owner, [member, other])
        for who in (owner, member, other):
            await s.client(who, node=0, rooms=[room])
        await s.all_live()
        clean = os.urandom(3 * MiB)  # several chunks: the stream is cut after the first
        infected = os.urandom(2 * MiB) + EICAR  # the signature comes after the cut
        ids = [
            await upload(s.rest, owner, clean, "보고서.bin"),
            await upload(s.rest, owner, infected, "첨부.bin"),
        ]
        node.arm(f"files.scan.{point}=kill")
        sending = asyncio.create_task(send_files(s.rest, owner, room, ids, f"f2-scan-{point}"))
        await wait_exit(node)
        # Back without a job runner (the failpoint disarmed): the scans cannot finish, so what
        # members get for files whose scan was cut off is seen for certain.
        await asyncio.to_thread(node.start, {"SODAM_EMBEDDED_WORKERS": "false"})
        message = await sending
        good, bad = (a["id"] for a in message["attachments"])
        for aid in (good, bad):
            for who in (member, other):
                got = await download(s.rest, who, aid)
                assert (got.status, got.code) == (409, "file_not_scanned"), got
        stored = await attachments(s.rest, member, room, message["id"])
        assert {a["scan_state"] for a in stored} == {"pending"}, stored
        # Back with its runner: the killed jobs are taken again once their leases expire.
        await asyncio.to_thread(node.stop)
        await asyncio.to_thread(node.start)
        seen: dict[int, list[tuple[int, str | None]]] = {good: [], bad: []}

        async def scanned() -> bool:
            for aid in (good, bad):
                got = await download(s.rest, member, aid)
                seen[aid].append((got.status, got.code))
                if got.status == 200:  # only ever the clean file, once its scan is stored
                    state = {
                        a["id"]: a for a in await attachments(s.rest, member, room, message["id"])
                    }
                    assert aid == good and state[aid]["scan_state"] == "clean", state[aid]
                    assert got.sha256 == sha256(clean)
            final = {
                a["id"]: a["scan_state"]
                for a in await attachments(s.rest, member, room, message["id"])
            }
            assert final[bad] in ("pending", "infected"), final  # never clean
            return final == {good: "clean", bad: "infected"}

        took = await eventually(scanned, "both files scanned after the restart")
        assert set(seen[good]) <= {(409, "file_not_scanned"), (200, None)}, seen[good]
        assert set(seen[bad]) <= {(409, "file_not_scanned"), (403, "file_blocked")}, seen[bad]
        assert (await download(s.rest, member, good)).sha256 == sha256(clean)
        for who in (owner, member, other):  # blocked for everyone, the sender too
            blocked = await download(s.rest, who, bad)
            assert (blocked.status, blocked.code) == (403, "file_blocked")
        events = await file_events(s.rest, cluster, room, message["id"])
        assert len(events) == 2, events  # one per scan, however often a scan ran
        await s.converge(live_within=30)
        assert not s.rest.broken
        return {**s.report, "point": point, "final_after_restart_s": round(took, 2)}


async def kill_mid_thumbnail(cluster: Cluster, point: str) -> dict[str, object]:
    node = cluster.nodes[0]
    owner, member = cluster.users[:2]
    async with scenario(cluster) as s:
        room = await s.room(owner, [member])
        for who in (owner, member):
            await s.client(who, node=0, rooms=[room])
        await s.all_live()
        image = png_bytes(1600, 1200)
        upload_id = await upload(s.rest, owner, image, "사진.png")
        node.arm(f"files.thumbnail.{point}=kill")
        sending = asyncio.create_task(
            send_files(s.rest, owner, room, [upload_id], f"f2-thumb-{point}")
        )
        await wait_exit(node)
        await asyncio.to_thread(node.ensure_running)
        message = await sending
        aid = message["attachments"][0]["id"]

        async def ready() -> bool:
            (a,) = await attachments(s.rest, member, room, message["id"])
            assert a["thumbnail"] in ("pending", "ready"), a
            return bool(a["thumbnail"] == "ready" and a["scan_state"] == "clean")

        took = await eventually(ready, "thumbnails ready after the restart")
        for size in ("small", "large"):
            got = await download(s.rest, member, aid, f"/thumbnail?size={size}")
            assert (got.status, got.content_type) == (200, "image/webp"), got
        assert (await download(s.rest, member, aid)).sha256 == sha256(image)
        events = await file_events(s.rest, cluster, room, message["id"])
        thumbs = [e["message"]["attachments"][0]["thumbnail"] for e in events]
        # One event for the scan, one for the thumbnails: never a second "became ready".
        assert len(events) == 2 and thumbs[-1] == "ready", thumbs
        await s.converge(live_within=30)
        assert not s.rest.broken
        return {**s.report, "point": point, "ready_after_restart_s": round(took, 2)}


@pytest.mark.parametrize(
    ("engine", "point"),
    [
        ("sqlite", "streaming"),
        ("sqlite", "before_verdict"),
        pytest.param("postgresql", "before_verdict", marks=pytest.mark.postgres),
    ],
)
def test_f2_kill_during_a_scan_never_shares_an_unscanned_file(
    request: pytest.FixtureRequest, engine: str, point: str
) -> None:
    report = asyncio.run(kill_mid_scan(healed(request, engine), point))
    print(f"F2-scan {engine} {report}")  # noqa: T201 -- figures for the report (pytest -s)


@pytest.mark.parametrize("point", ["before_commit", "after_commit"])
def test_f2_kill_during_thumbnailing_makes_them_once(
    request: pytest.FixtureRequest, point: str
) -> None:
    report = asyncio.run(kill_mid_thumbnail(healed(request, "sqlite"), point))
    print(f"F2-thumbnail {report}")  # noqa: T201 -- figures for the report (pytest -s)
