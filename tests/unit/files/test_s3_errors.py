"""How S3 failures become blob store errors (the tus endpoint answers 404, 507 or 503)."""

from __future__ import annotations

from typing import Any

import pytest
import urllib3.exceptions
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from sodam.files.base import BlobNotFound, BlobStoreError, StorageFull, StorageUnavailable
from sodam.files.s3errors import map_s3_error


def _client_error(code: str, status: int) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "..."},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "PutObject")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_client_error("NoSuchKey", 404), BlobNotFound),
        (_client_error("404", 404), BlobNotFound),  # HEAD answers carry no error code
        (_client_error("NoSuchUpload", 404), BlobNotFound),
        (_client_error("NoSuchBucket", 404), StorageUnavailable),  # misconfiguration, not "gone"
        (_client_error("XMinioStorageFull", 507), StorageFull),
        (_client_error("XMinioAdminBucketQuotaExceeded", 400), StorageFull),
        (_client_error("QuotaExceeded", 403), StorageFull),
        (_client_error("EntityTooLarge", 400), StorageFull),
        (_client_error("InsufficientStorage", 507), StorageFull),
        (_client_error("", 507), StorageFull),
        (_client_error("InternalError", 500), StorageUnavailable),
        (_client_error("ServiceUnavailable", 503), StorageUnavailable),
        (_client_error("SlowDown", 503), StorageUnavailable),
        (_client_error("AccessDenied", 403), StorageUnavailable),
        (_client_error("SignatureDoesNotMatch", 403), StorageUnavailable),
        (EndpointConnectionError(endpoint_url="http://minio:9000"), StorageUnavailable),
        (ConnectTimeoutError(endpoint_url="http://minio:9000"), StorageUnavailable),
        (ReadTimeoutError(endpoint_url="http://minio:9000"), StorageUnavailable),
        (ResponseStreamingError(error="reset"), StorageUnavailable),
        (NoCredentialsError(), StorageUnavailable),
        (urllib3.exceptions.ProtocolError("connection broken"), StorageUnavailable),
        (ConnectionResetError(), StorageUnavailable),
    ],
)
def test_s3_errors_are_mapped(error: Exception, expected: type[BlobStoreError]) -> None:
    assert type(map_s3_error(error)) is expected
