"""Cleaning up abandoned uploads: what the blob store still holds that no upload row expects."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sodam.files.base import BlobStore, BlobStoreError, UploadState

logger = logging.getLogger(__name__)


def sweep_stale_uploads(
    store: BlobStore, known: Callable[[str], bool], older_than: dt.datetime
) -> int:
    """Aborts the store's unfinished uploads started before ``older_than`` whose key
    ``known`` says no unfinished upload in the database expects any more (expired, deleted, or
    completed with leftovers such as an S3 tail object). Returns how many it aborted.

    ``known(key)`` must be True while an unfinished upload row still refers to ``key``; it is
    called in this (worker) thread. Never touches finished blobs: aborting an upload only
    removes the partial file, multipart upload and tail objects. One failing abort is logged
    and the sweep goes on; a store that cannot even list raises (the job retries later).
    """
    aborted = 0
    for stale in store.list_stale_uploads(older_than):
        if known(stale.key):
            continue
        try:
            store.abort_upload(stale.key, UploadState(multipart_id=stale.multipart_id))
        except BlobStoreError as exc:
            logger.warning("could not abort a stale upload: %s", exc)
            continue
        aborted += 1
    if aborted:
        logger.info("aborted %d abandoned uploads", aborted)
    return aborted
