"""Files: the blob store (local disk or S3), and what builds on it.

``build_blob_store`` is the one place that picks a backend; the composition root calls it.
Backends are imported inside it so that importing ``sodam.files.base`` never loads boto3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sodam.config import Settings
    from sodam.files.base import BlobStore


def build_blob_store(settings: Settings) -> BlobStore:
    """S3 when ``settings.s3`` names an endpoint or a bucket, else local disk under
    ``settings.files_dir``."""
    s3 = settings.s3
    if not s3.enabled:
        from sodam.files.local import LocalBlobStore

        return LocalBlobStore(settings.files_dir)
    from sodam.files.s3 import S3BlobStore

    return S3BlobStore(
        endpoint_url=s3.endpoint_url,
        bucket=s3.bucket,
        region=s3.region,
        access_key_id=s3.access_key_id.get_secret_value() if s3.access_key_id else None,
        secret_access_key=(
            s3.secret_access_key.get_secret_value() if s3.secret_access_key else None
        ),
        part_size=s3.part_size_mb * 1024 * 1024,
        create_bucket=s3.create_bucket,
        connect_timeout_s=s3.connect_timeout_s,
        read_timeout_s=s3.read_timeout_s,
        max_attempts=s3.max_attempts,
        public_endpoint_url=s3.public_endpoint_url,
    )
