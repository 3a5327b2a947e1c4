"""The tus 1.0.0 endpoint at /api/uploads: core, creation, creation-with-upload, termination and
expiration (docs/files.md). Authenticated with ``Authorization: Bearer`` like the rest of the API.

tus speaks in headers, so these handlers read and write headers themselves; errors keep the API's
``{"code", "message", "data"}`` body and add ``Tus-Resumable``.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from sodam.api.deps import CurrentPrincipal, get_services
from sodam.api.errors import error_response
from sodam.domain.uploads import Upload
from sodam.errors import AppError, InvalidInput
from sodam.services.uploads import UploadService

router = APIRouter(prefix="/api/uploads", tags=["uploads"])

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
UploadIdPath = Annotated[str, Path(max_length=64, description="The upload's id")]


async def _uploads(request: Request) -> UploadService:
    return get_services(request).uploads


Uploads = Annotated[UploadService, Depends(_uploads)]


def _tus_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, **(extra or {})}


async def _tus(call: Callable[[], Awaitable[Response]]) -> Response:
    try:
        return await call()
    except AppError as exc:
        response = error_response(exc)
        response.headers["Tus-Resumable"] = TUS_VERSION
        if exc.code == "tus_version_unsupported":
            response.headers["Tus-Version"] = TUS_VERSION
        if "offset" in exc.data:
            response.headers["Upload-Offset"] = str(exc.data["offset"])
        return response


def _check_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise InvalidInput("tus_version_unsupported", "Tus-Resumable 1.0.0 is required.")


def _int_header(request: Request, name: str) -> int:
    raw = request.headers.get(name)
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 15:
        raise InvalidInput(
            f"{name.lower().replace('-', '_')}_invalid", f"{name} must be a non-negative integer."
        )
    return int(raw)


def parse_metadata(raw: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (value optional)."""
    result: dict[str, str] = {}
    if not raw:
        return result
    if len(raw) > 8192:
        raise InvalidInput("upload_metadata_invalid", "Upload-Metadata is too long.")
    for item in raw.split(","):
        parts = item.strip().split(" ")
        if not parts[0] or len(parts) > 2 or parts[0] in result:
            raise InvalidInput("upload_metadata_invalid", "Upload-Metadata is malformed.")
        value = ""
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, ValueError) as exc:  # also non-ASCII input
                raise InvalidInput(
                    "upload_metadata_invalid", "Upload-Metadata values must be base64 UTF-8."
                ) from exc
        result[parts[0]] = value
    return result


def _encode_metadata(upload: Upload) -> str:
    name = base64.b64encode(upload.file_name.encode("utf-8")).decode("ascii")
    return f"filename {name}"


def _state_headers(upload: Upload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset), "Cache-Control": "no-store"}
    if upload.expires_at is not None:
        headers["Upload-Expires"] = email.utils.format_datetime(upload.expires_at, usegmt=True)
    return headers


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request body; a client that goes away simply ends it (what arrived is kept)."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        return


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    return (
        int(raw) if raw is not None and raw.isascii() and raw.isdigit() and len(raw) < 16 else None
    )


def _location(request: Request, upload_id: str) -> str:
    settings = request.app.state.settings
    base = (settings.public_base_url or str(request.base_url)).rstrip("/")
    return f"{base}/api/uploads/{upload_id}"


@router.options("", operation_id="uploads_options", status_code=204)
async def options(uploads: Uploads) -> Response:
    """The server's tus capabilities."""
    return Response(
        status_code=204,
        headers=_tus_headers(
            {
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": TUS_EXTENSIONS,
                "Tus-Max-Size": str(uploads.max_size),
            }
        ),
    )


@router.post(
    "",
    operation_id="uploads_create",
    status_code=201,
    responses={
        201: {"description": "Created; Location is the upload's URL"},
        412: {"description": "tus_version_unsupported"},
        413: {"description": "file_too_large, quota_exceeded, upload_too_long"},
        429: {"description": "too_many_pending_uploads"},
        503: {"description": "storage_unavailable"},
        507: {"description": "storage_full"},
    },
)
async def create(request: Request, principal: CurrentPrincipal, uploads: Uploads) -> Response:
    """tus creation (and creation-with-upload): ``Upload-Length`` and ``Upload-Metadata``
    (``filename``); a body with ``Content-Type: application/offset+octet-stream`` is the first
    chunk."""

    async def call() -> Response:
        _check_version(request)
        if request.headers.get("upload-defer-length") is not None:
            raise InvalidInput("upload_length_required", "Upload-Length is required.")
        length = _int_header(request, "Upload-Length")
        metadata = parse_metadata(request.headers.get("upload-metadata"))
        file_name = metadata.get("filename", "")  # cleaned to the default name when blank
        has_body = request.headers.get("content-type", "").startswith(OFFSET_CONTENT_TYPE) and (
            _content_length(request) != 0
        )
        if has_body:
            upload = await uploads.create_with_data(
                principal,
                length=length,
                file_name=file_name,
                chunks=_body(request),
                content_length=_content_length(request),
            )
        else:
            upload = await uploads.create(principal, length=length, file_name=file_name)
        return Response(
            status_code=201,
            headers=_tus_headers(
                {"Location": _location(request, upload.id), **_state_headers(upload)}
            ),
        )

    return await _tus(call)


@router.head("/{upload_id}", operation_id="uploads_head", status_code=200)
async def head(
    upload_id: UploadIdPath, request: Request, principal: CurrentPrincipal, uploads: Uploads
) -> Response:
    """Where an upload stands: ``Upload-Offset`` and ``Upload-Length``."""

    async def call() -> Response:
        _check_version(request)
        upload = await uploads.status(principal, upload_id)
        return Response(
            status_code=200,
            headers=_tus_headers(
                {
                    **_state_headers(upload),
                    "Upload-Length": str(upload.length),
                    "Upload-Metadata": _encode_metadata(upload),
                }
            ),
        )

    return await _tus(call)


@router.patch(
    "/{upload_id}",
    operation_id="uploads_patch",
    status_code=204,
    responses={
        409: {"description": "upload_offset_mismatch"},
        413: {"description": "upload_too_long"},
        415: {"description": "upload_content_type_invalid"},
        503: {"description": "storage_unavailable"},
        507: {"description": "storage_full"},
    },
)
async def patch(
    upload_id: UploadIdPath, request: Request, principal: CurrentPrincipal, uploads: Uploads
) -> Response:
    """Append bytes at ``Upload-Offset`` (``Content-Type: application/offset+octet-stream``)."""

    async def call() -> Response:
        _check_version(request)
        if request.headers.get("content-type", "").split(";")[0].strip() != OFFSET_CONTENT_TYPE:
            raise InvalidInput(
                "upload_content_type_invalid",
                "Content-Type must be application/offset+octet-stream.",
            )
        offset = _int_header(request, "Upload-Offset")
        upload = await uploads.append(
            principal,
            upload_id,
            offset=offset,
            chunks=_body(request),
            content_length=_content_length(request),
        )
        return Response(status_code=204, headers=_tus_headers(_state_headers(upload)))

    return await _tus(call)


@router.delete("/{upload_id}", operation_id="uploads_delete", status_code=204)
async def delete(
    upload_id: UploadIdPath, request: Request, principal: CurrentPrincipal, uploads: Uploads
) -> Response:
    """tus termination: the upload and its bytes are removed."""

    async def call() -> Response:
        _check_version(request)
        await uploads.delete(principal, upload_id)
        return Response(status_code=204, headers=_tus_headers())

    return await _tus(call)
