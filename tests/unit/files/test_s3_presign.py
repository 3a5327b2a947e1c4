"""Presigned download URLs, checked by recomputing AWS Signature V4 independently of botocore
(moto's server does not verify signatures or expiry, MinIO does). No network: signing is local."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from sodam.domain.files import content_disposition
from sodam.files.s3 import S3BlobStore

ACCESS_KEY = "AKIDSODAMEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "ap-northeast-2"
KEY = "2026/11/Xq3hV9aLmT0"


class SignatureError(Exception):
    pass


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def verify_presigned_get(url: str, secret: str, now: dt.datetime) -> dict[str, str]:
    """What an S3 server checks for a presigned GET (SigV4 query auth); returns the query."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    query = dict(pairs)
    signature = query.pop("X-Amz-Signature")
    if query["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256" or query["X-Amz-SignedHeaders"] != "host":
        raise SignatureError("unexpected algorithm or signed headers")
    signed_at = dt.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    if now > signed_at + dt.timedelta(seconds=int(query["X-Amz-Expires"])):
        raise SignatureError("expired")
    _access_key, date, region, service, terminator = query["X-Amz-Credential"].split("/")
    if date != query["X-Amz-Date"][:8] or service != "s3" or terminator != "aws4_request":
        raise SignatureError("bad credential scope")

    def enc(value: str) -> str:
        return quote(value, safe="-_.~")

    canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(query.items()))
    canonical_request = "\n".join(
        [
            "GET",
            parts.path,  # S3 does not encode the path a second time
            canonical_query,
            f"host:{parts.netloc}\n",
            "host",
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = f"{date}/{region}/s3/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            query["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, "s3", "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("signature mismatch")
    return query


@pytest.fixture
def store() -> S3BlobStore:
    return S3BlobStore(
        endpoint_url="http://minio.internal:9000",
        public_endpoint_url="https://files.example.co.kr",
        bucket="sodam",
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET,
    )


def _url(store: S3BlobStore, *, inline: bool = False, expires_s: int = 300) -> str:
    return store.presigned_url(
        KEY,
        file_name='회의록 "최종".pdf',
        content_type="application/pdf",
        inline=inline,
        expires_s=expires_s,
    )


def test_the_url_is_signed_for_the_public_host_with_the_download_headers(
    store: S3BlobStore,
) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    url = _url(store)
    after = dt.datetime.now(dt.UTC)

    assert url.startswith(f"https://files.example.co.kr/sodam/{KEY}?")
    query = verify_presigned_get(url, SECRET, now=after)
    signed_at = dt.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert before <= signed_at <= after
    assert query["X-Amz-Credential"].startswith(f"{ACCESS_KEY}/")
    assert query["X-Amz-Credential"].endswith(f"/{REGION}/s3/aws4_request")
    assert query["X-Amz-Expires"] == "300"
    assert query["response-content-type"] == "application/pdf"
    assert query["response-content-disposition"] == content_disposition(
        '회의록 "최종".pdf', inline=False
    )


def test_the_url_expires(store: S3BlobStore) -> None:
    url = _url(store, expires_s=60)
    signed_at = dt.datetime.strptime(
        dict(parse_qsl(urlsplit(url).query))["X-Amz-Date"], "%Y%m%dT%H%M%SZ"
    ).replace(tzinfo=dt.UTC)

    verify_presigned_get(url, SECRET, now=signed_at + dt.timedelta(seconds=60))
    with pytest.raises(SignatureError, match="expired"):
        verify_presigned_get(url, SECRET, now=signed_at + dt.timedelta(seconds=61))


def test_tampering_with_the_url_breaks_the_signature(store: S3BlobStore) -> None:
    url = _url(store)
    now = dt.datetime.now(dt.UTC)

    with pytest.raises(SignatureError, match="mismatch"):
        verify_presigned_get(url, "another-secret", now)
    with pytest.raises(SignatureError, match="mismatch"):
        verify_presigned_get(url.replace("attachment", "inline"), SECRET, now)
    with pytest.raises(SignatureError, match="mismatch"):
        verify_presigned_get(url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"), SECRET, now)
    with pytest.raises(SignatureError, match="mismatch"):
        verify_presigned_get(url.replace(KEY, "2026/11/other"), SECRET, now)


def test_without_a_public_endpoint_the_url_uses_the_endpoint() -> None:
    store = S3BlobStore(
        endpoint_url="http://minio.internal:9000",
        bucket="sodam",
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET,
    )
    url = _url(store, inline=True)
    assert url.startswith(f"http://minio.internal:9000/sodam/{KEY}?")
    query = verify_presigned_get(url, SECRET, dt.datetime.now(dt.UTC))
    assert query["response-content-disposition"].startswith("inline; ")
