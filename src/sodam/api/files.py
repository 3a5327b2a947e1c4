"""File downloads, thumbnails and the room drawer (docs/files.md).

Downloads accept the ``Authorization`` header (apps) or the ``sodam_media`` cookie (browsers:
``<img src>`` cannot carry a header). Every answer is ``nosniff`` with a sandboxing CSP; only an
allowlist of types is shown inline, everything else downloads.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from sodam.api.auth import MEDIA_COOKIE
from sodam.api.deps import CurrentPrincipal, auth_service, bearer_scheme, get_services
from sodam.api.rooms import MAX_ID, RoomIdPath
from sodam.api.schemas import AttachmentOut
from sodam.domain.attachments import INLINE_TYPES, attachment_wire
from sodam.domain.files import content_disposition
from sodam.domain.ids import RoomId
from sodam.errors import NotFound, Unauthenticated
from sodam.observability.context import user_id_var
from sodam.services.context import Principal
from sodam.services.files import ChunkReader, FileAccess, FileService

router = APIRouter(tags=["files"])

FILE_CSP = (
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"
)
_RANGE_RE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")


async def _files(request: Request) -> FileService:
    return get_services(request).files


Files = Annotated[FileService, Depends(_files)]


async def media_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller, from the Authorization header or else the ``sodam_media`` cookie."""
    auth = auth_service(request)
    if credentials is not None and credentials.scheme.lower() == "bearer":
        principal = await auth.authenticate(credentials.credentials)
    else:
        cookie = request.cookies.get(MEDIA_COOKIE)
        if not cookie:
            raise Unauthenticated("unauthenticated", "An access token is required.")
        principal = await auth.authenticate(cookie, typ="media")
    user_id_var.set(principal.user.id)
    return principal


MediaPrincipal = Annotated[Principal, Depends(media_principal)]


def parse_range(header: str | None, size: int) -> tuple[int, int] | Literal[False] | None:
    """One byte range [start, end) from a Range header; None = the whole file (no header, or a
    form we answer in full, like several ranges); False = unsatisfiable (416)."""
    if not header:
        return None
    match = _RANGE_RE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0:
            return False
        if size == 0:
            return None  # nothing to cut: the whole (empty) file
        return (max(0, size - suffix), size)
    start = int(first)
    if last != "" and int(last) < start:
        return None  # an invalid range is ignored (RFC 9110 14.1.1): the whole file
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size:
        return False
    return (start, end)


def _file_headers(access: FileAccess, *, thumbnail: bool) -> dict[str, str]:
    a = access.attachment
    content_type = "image/webp" if thumbnail else a.content_type
    inline = thumbnail or content_type in INLINE_TYPES
    name = a.file_name if not thumbnail else a.file_name.rsplit(".", 1)[0] + ".webp"
    headers = {
        "Content-Type": content_type + ("; charset=utf-8" if content_type == "text/plain" else ""),
        "Content-Disposition": content_disposition(name, inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP,
        "Accept-Ranges": "bytes",
        # cached, but revalidated (access is checked again; unchanged files answer 304)
        "Cache-Control": "private, no-cache",
    }
    if a.sha256 and not thumbnail:
        headers["ETag"] = f'"{a.sha256}"'
    return headers


async def _serve(
    request: Request, files: FileService, access: FileAccess, *, thumbnail: bool
) -> Response:
    headers = _file_headers(access, thumbnail=thumbnail)
    etag = headers.get("ETag")
    if etag is not None and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    size = access.size
    wanted = parse_range(request.headers.get("range"), size)
    if wanted is False:
        return Response(
            status_code=416,
            headers={**headers, "Content-Range": f"bytes */{size}", "Content-Length": "0"},
        )
    if_range = request.headers.get("if-range")
    if wanted is not None and if_range is not None and if_range != etag:
        wanted = None  # the file changed since the client's partial copy (RFC 9110 13.1.5)
    start, end = wanted if wanted is not None else (0, size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if request.method == "HEAD" or end == start:
        return Response(status_code=status, headers=headers)
    # Opened before the status line goes out: a store that is down is a 503, not a 200 whose
    # body breaks off (a failure later, mid-body, can only cut the connection).
    reader = await files.open_chunks(access.key, start, end)
    return StreamingResponse(_stream(files, reader), status_code=status, headers=headers)


async def _stream(files: FileService, reader: ChunkReader) -> AsyncIterator[bytes]:
    """The blob's bytes, read on the blob threads chunk by chunk; the reader (a file or an S3
    connection) is closed however the response ends, also when the client goes away."""
    try:
        while (chunk := await files.next_chunk(reader)) is not None:
            yield chunk
    finally:
        await files.close_reader(reader)


# GET and HEAD are two routes because an OpenAPI operation id names one method: one route with
# methods=["GET", "HEAD"] gives both the same id, which the generated web client refuses.
_DOWNLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The file"},
    206: {"description": "A byte range of the file"},
    302: {"description": "S3 with presigned downloads: a short-lived URL"},
    403: {"description": "file_blocked (a virus was found)"},
    404: {"description": "file_not_found"},
    409: {"description": "file_not_scanned"},
    416: {"description": "Range not satisfiable"},
    503: {"description": "storage_unavailable"},
}


@router.get(
    "/api/files/{attachment_id}", operation_id="files_download", responses=_DOWNLOAD_RESPONSES
)
@router.head("/api/files/{attachment_id}", operation_id="files_head", responses=_DOWNLOAD_RESPONSES)
async def download(
    attachment_id: int,
    request: Request,
    principal: MediaPrincipal,
    files: Files,
) -> Response:
    """Download a file of a room the caller is in (Range supported)."""
    _check_id(attachment_id)
    access = await files.open_file(principal, attachment_id)
    settings = request.app.state.settings
    if settings.s3.presigned_downloads and request.method == "GET":
        inline = access.attachment.content_type in INLINE_TYPES
        url = await asyncio.to_thread(
            files.presigned_url, access, inline=inline, expires_s=settings.s3.presign_expiry_s
        )
        if url is not None:
            return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    return await _serve(request, files, access, thumbnail=False)


_THUMBNAIL_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"image/webp": {}}, "description": "The thumbnail (WebP)"},
    404: {"description": "file_not_found, thumbnail_not_found"},
    503: {"description": "storage_unavailable"},
}


@router.get(
    "/api/files/{attachment_id}/thumbnail",
    operation_id="files_thumbnail",
    responses=_THUMBNAIL_RESPONSES,
)
@router.head(
    "/api/files/{attachment_id}/thumbnail",
    operation_id="files_thumbnail_head",
    responses=_THUMBNAIL_RESPONSES,
)
async def thumbnail(
    attachment_id: int,
    request: Request,
    principal: MediaPrincipal,
    files: Files,
    size: Annotated[Literal["small", "large"], Query()] = "small",
) -> Response:
    """An image's or video's preview: small (≤ 320 px) or large (≤ 1280 px), no metadata."""
    _check_id(attachment_id)
    access = await files.open_thumbnail(principal, attachment_id, size)
    return await _serve(request, files, access, thumbnail=True)


def _check_id(attachment_id: int) -> None:
    if not 1 <= attachment_id <= MAX_ID:
        raise NotFound("file_not_found", "No such file.")


class DrawerFileOut(AttachmentOut):
    message_id: int
    sender_id: int | None
    created_at: str


class DrawerOut(BaseModel):
    files: list[DrawerFileOut] = Field(description="Newest first")
    has_more: bool


@router.get(
    "/api/rooms/{room_id}/files",
    operation_id="rooms_files",
    response_model=DrawerOut,
    tags=["rooms"],
)
async def drawer(
    room_id: RoomIdPath,
    principal: CurrentPrincipal,
    files: Files,
    kind: Annotated[
        Literal["media", "image", "video", "audio", "file", "all"],
        Query(
            description="media: images and videos; image, video, audio, file: attachments of "
            "that kind only; all: every file"
        ),
    ] = "all",
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DrawerOut:
    """The room's files and media (서랍), newest first; page with ``before``."""
    items, more = await files.drawer(
        principal, RoomId(room_id), kind=kind, before_id=before, limit=limit
    )
    return DrawerOut(
        files=[
            DrawerFileOut(
                **attachment_wire(i.attachment, requires_clean=files.requires_clean),
                message_id=i.attachment.message_id or 0,
                sender_id=i.sender_id,
                created_at=i.created_at.isoformat(),
            )
            for i in items
        ],
        has_more=more,
    )
