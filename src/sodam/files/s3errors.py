"""How S3 failures become blob store errors (and so HTTP answers: 404, 507, 503)."""

from __future__ import annotations

import urllib3.exceptions
from botocore.exceptions import BotoCoreError, ClientError

from sodam.files.base import BlobNotFound, BlobStoreError, StorageFull, StorageUnavailable

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchUpload", "404", "NotFound"})
_FULL_CODES = frozenset(
    {
        "EntityTooLarge",
        "QuotaExceeded",
        "InsufficientStorage",
        "XMinioStorageFull",
        "XMinioAdminBucketQuotaExceeded",
    }
)
# Errors raised while a response body streams (urllib3's are not wrapped by botocore there).
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    BotoCoreError,
    urllib3.exceptions.HTTPError,
    OSError,
)
S3_ERRORS: tuple[type[Exception], ...] = (ClientError, *TRANSPORT_ERRORS)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def map_s3_error(exc: Exception) -> BlobStoreError:
    """The blob store error for a botocore/urllib3 failure: a missing key or upload is
    ``BlobNotFound``, a full bucket or disk ``StorageFull``, everything else (connection refused,
    timeouts, 5xx, a missing bucket, refused credentials) ``StorageUnavailable``."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _NOT_FOUND_CODES:
            return BlobNotFound(f"S3 answered {code}")
        if code in _FULL_CODES or status == 507:
            return StorageFull(f"S3 has no room ({code or status})")
        return StorageUnavailable(f"S3 answered {code or status}")
    return StorageUnavailable(f"S3 unreachable ({type(exc).__name__})")
