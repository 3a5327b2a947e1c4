"""F13: a dependency of the files feature is down while people keep chatting.

- **clamd stopped**: a file sent meanwhile stays ``pending`` and is not downloadable by the
  other members (409 ``file_not_scanned``; fail closed), its scan job keeps failing and
  retrying, text chat goes on; clamd started again (same address) → the next retry scans the
  file clean and it is shared.
- **S3 down** (moto behind a proxy, so the bucket keeps its data): first refusing connections,
  then stalled (no answer at all, like a paused server). Creating and continuing uploads and
  downloading answer 503 ``storage_unavailable`` within the configured S3 timeouts (never a 500,
  never a hang beyond them), an upload's offset is still answered, text chat goes on; S3 back
  → the upload resumes where it stopped and every file downloads intact.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Iterator

import httpx
import pytest

from tests.e2e.faults.conftest import USER_PASSWORD, Cluster
from tests.e2e.faults.files import (
    MiB,
    attachments,
    download,
    eventually,
    file_cluster,
    file_node_env,
    send_files,
    sha256,
    tus_create,
    tus_offset,
    tus_patch,
    upload,
    upload_id_of,
    upload_rest,
)
from tests.e2e.faults.infra import Proxy
from tests.e2e.faults.scenario import Load, scenario
from tests.support.clamd import ClamdServer, start_clamd
from tests.support.motoserver import ACCESS_KEY_ID, SECRET_ACCESS_KEY, start_moto_server

pytestmark = pytest.mark.e2e

# S3 timeouts of the test node: a stalled S3 answers 503 after 2 tries of 3 s.
S3_READ_TIMEOUT_S = 3
S3_MAX_ATTEMPTS = 2
REFUSED_WITHIN_S = 10.0  # connection refused/reset: botocore's retries, then 503
STALLED_WITHIN_S = S3_READ_TIMEOUT_S * S3_MAX_ATTEMPTS + 10.0  # plus retry backoff and a busy CPU
# More requests waiting for a stalled S3 than the event loop's default executor has threads on a
# small machine (min(32, CPUs + 4)); a login must not wait for them (a password check takes
# about half a second; a request waiting for S3 S3_READ_TIMEOUT_S x S3_MAX_ATTEMPTS).
STALLED_DOWNLOADS = 16
LOGIN_WITHIN_S = 4.0


# --- clamd ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scanner_cluster() -> Iterator[tuple[Cluster, ClamdServer]]:
    clamd = start_clamd()
    try:
        env = file_node_env(
            SODAM_FILES__CLAMD_URL=clamd.tcp_address,
            SODAM_FILES__SCAN_RETRY_S="0.3",
            SODAM_FILES__SCAN_RETRY_MAX_S="1",
        )
        with file_cluster("files-f13-clamd", env) as cluster:
            yield cluster, clamd
    finally:
        clamd.close()


async def scan_failures(cluster: Cluster) -> float:
    metrics = await asyncio.to_thread(cluster.nodes[0].metrics)
    return metrics.get("sodam_jobs_failures_total", 0.0)


async def clamd_outage(cluster: Cluster, clamd: ClamdServer) -> dict[str, object]:
    owner, member, other = cluster.users[:3]
    async with scenario(cluster) as s:
        room = await s.room(owner, [member, other])
        for who in (owner, member, other):
            await s.client(who, node=0, rooms=[room])
        await s.all_live()
        load = Load([(s.clients[0], room), (s.clients[1], room)], rate=3)
        load.start()
        failed_before = await scan_failures(cluster)
        clamd.stop()
        data = os.urandom(MiB + 17)
        upload_id = await upload(s.rest, owner, data, "견적서.pdf")
        message = await send_files(s.rest, owner, room, [upload_id], "f13-clamd")
        aid = message["attachments"][0]["id"]

        async def retried() -> bool:
            return await scan_failures(cluster) >= failed_before + 2

        await eventually(retried, "the scan job failing and retrying while clamd is down")
        (stored,) = await attachments(s.rest, member, room, message["id"])
        assert (stored["scan_state"], stored["downloadable"]) == ("pending", False), stored
        for who in (member, other):  # fail closed
            got = await download(s.rest, who, aid)
            assert (got.status, got.code) == (409, "file_not_scanned"), got
        assert (await download(s.rest, owner, aid)).sha256 == sha256(data)  # the sender may
        chat = await s.clients[2].send(room, "백신 서버가 멈춰도 대화는 된다", within=10)
        assert chat is not None

        await asyncio.to_thread(clamd.restart)

        async def clean() -> bool:
            (a,) = await attachments(s.rest, member, room, message["id"])
            assert a["scan_state"] in ("pending", "clean"), a
            return bool(a["scan_state"] == "clean")

        took = await eventually(clean, "the file scanned clean once clamd is back")
        assert (await download(s.rest, member, aid)).sha256 == sha256(data)
        await load.stop()
        await s.converge(live_within=30)
        assert not s.rest.broken
        return {**s.report, "sent": load.sent, "clean_after_clamd_back_s": round(took, 2)}


def test_f13_clamd_down_files_stay_pending_and_chat_goes_on(
    scanner_cluster: tuple[Cluster, ClamdServer],
) -> None:
    cluster, clamd = scanner_cluster
    cluster.heal()
    try:
        report = asyncio.run(clamd_outage(cluster, clamd))
    finally:
        clamd.restart()
    print(f"F13-clamd {report}")  # noqa: T201 -- figures for the report (pytest -s)


# --- S3 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_cluster() -> Iterator[tuple[Cluster, Proxy]]:
    moto = start_moto_server()
    proxy = Proxy(int(moto.url.rsplit(":", 1)[1]))
    try:
        env = file_node_env(
            SODAM_S3__ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}",
            SODAM_S3__BUCKET="sodam-f13",
            SODAM_S3__ACCESS_KEY_ID=ACCESS_KEY_ID,
            SODAM_S3__SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
            SODAM_S3__CREATE_BUCKET="true",
            SODAM_S3__PART_SIZE_MB="5",
            SODAM_S3__CONNECT_TIMEOUT_S="2",
            SODAM_S3__READ_TIMEOUT_S=str(S3_READ_TIMEOUT_S),
            SODAM_S3__MAX_ATTEMPTS=str(S3_MAX_ATTEMPTS),
        )
        with file_cluster("files-f13-s3", env, users=2) as cluster:
            yield cluster, proxy
    finally:
        proxy.close()
        moto.stop()


async def s3_outage(cluster: Cluster, proxy: Proxy) -> dict[str, object]:
    owner, member = cluster.users[:2]
    loop = asyncio.get_running_loop()
    figures: dict[str, float] = {}
    async with scenario(cluster) as s:
        room = await s.room(owner, [member])
        for who in (owner, member):
            await s.client(who, node=0, rooms=[room])
        await s.all_live()
        load = Load([(s.clients[0], room), (s.clients[1], room)], rate=3)
        load.start()
        kept = os.urandom(6 * MiB + 123)  # one 5 MiB part and a tail
        message = await send_files(
            s.rest, owner, room, [await upload(s.rest, owner, kept, "기존.bin")], "f13-s3-kept"
        )
        kept_id = message["attachments"][0]["id"]
        assert (await download(s.rest, member, kept_id)).sha256 == sha256(kept)
        later = os.urandom(7 * MiB)
        later_id = upload_id_of(await tus_create(s.rest, owner, len(later), "나중.bin"))
        await upload_rest(s.rest, owner, later_id, later[: 2 * MiB])

        async def timed(name: str, call: Awaitable[httpx.Response | None]) -> None:
            start = loop.time()
            r = await call
            took = loop.time() - start
            figures[name] = round(took, 2)
            assert r is not None and r.status_code == 503, (name, r and r.text)
            assert r.json()["code"] == "storage_unavailable" and "Retry-After" in r.headers
            assert took < within_s[name.split("_", 1)[0]], (name, took)

        async def get_kept() -> httpx.Response:
            path = f"/api/files/{kept_id}"
            r = await s.rest.http.get(s.rest.urls[0] + path, headers=member.headers)
            s.rest.record("GET", path, r)
            return r

        async def unavailable(phase: str) -> None:
            """Every file operation answers 503 storage_unavailable in time, all at once, while
            a text message goes through; the database still knows the upload's offset."""
            chunk = later[2 * MiB : 4 * MiB]
            await asyncio.gather(
                timed(f"{phase}_create", tus_create(s.rest, owner, MiB, "새.bin")),
                timed(
                    f"{phase}_create_with_data",
                    tus_create(s.rest, owner, MiB, "새.bin", first=b"x" * 1000),
                ),
                timed(f"{phase}_patch", tus_patch(s.rest, owner, later_id, 2 * MiB, chunk)),
                timed(f"{phase}_download", get_kept()),
                chat(phase),
            )
            assert await tus_offset(s.rest, owner, later_id) == 2 * MiB

        async def chat(phase: str) -> None:
            start = loop.time()
            sent = await s.clients[1].send(room, f"S3가 {phase}여도 대화는 된다", within=10)
            assert sent is not None
            figures[f"{phase}_chat_ack_s"] = round(loop.time() - start, 2)

        within_s = {"refused": REFUSED_WITHIN_S, "stalled": STALLED_WITHIN_S}

        async def login_while_stalled() -> float:
            """Many downloads wait for the stalled S3 at once; a login (its password check runs
            on a thread) is answered meanwhile, not after them."""
            waiting = [asyncio.create_task(get_kept()) for _ in range(STALLED_DOWNLOADS)]
            try:

                async def all_waiting() -> bool:
                    return proxy.held >= STALLED_DOWNLOADS

                await eventually(all_waiting, "the downloads waiting for S3", within=30)
                start = loop.time()
                await s.rest.login(member.username, USER_PASSWORD)
                return round(loop.time() - start, 2)
            finally:
                answers = await asyncio.gather(*waiting)
                assert {r.status_code for r in answers} == {503}

        proxy.refuse()  # S3 is down: every connection is reset
        await unavailable("refused")
        proxy.heal()
        proxy.cut()  # S3 hangs: connections open, no answer ever comes
        await unavailable("stalled")
        login_s = await login_while_stalled()
        figures["login_while_stalled_s"] = login_s
        assert login_s < LOGIN_WITHIN_S, figures
        proxy.heal()

        offset = await tus_offset(s.rest, owner, later_id)
        assert offset == 2 * MiB
        await upload_rest(s.rest, owner, later_id, later, start=offset)
        message = await send_files(s.rest, owner, room, [later_id], "f13-s3-later")
        later_aid = message["attachments"][0]["id"]
        assert (await download(s.rest, member, later_aid)).sha256 == sha256(later)
        assert (await download(s.rest, member, kept_id)).sha256 == sha256(kept)
        await load.stop()
        await s.converge(live_within=30)
        assert not s.rest.broken
        return {**s.report, "sent": load.sent, **figures}


def test_f13_s3_down_answers_503_and_chat_goes_on(s3_cluster: tuple[Cluster, Proxy]) -> None:
    cluster, proxy = s3_cluster
    cluster.heal()
    try:
        report = asyncio.run(s3_outage(cluster, proxy))
    finally:
        proxy.heal()
    print(f"F13-s3 {report}")  # noqa: T201 -- figures for the report (pytest -s)
