"""Access tokens (TokenCodec) and refresh tokens: pure functions of a key and a time."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

import jwt
import pytest

from sodam.domain.ids import SessionId, UserId
from sodam.errors import Unauthenticated
from sodam.services.tokens import (
    AUDIENCE,
    ISSUER,
    TokenCodec,
    hash_refresh_token,
    new_refresh_token,
    new_session_id,
)

KEY = "unit-test-signing-key-that-is-long-enough-0123"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
TTL = 900
LEEWAY = 30
ATTACKER_KEY = "attacker-controlled-key-that-is-long-enough"
SID = SessionId("0123456789abcdef0123456789abcdef")


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(KEY, access_ttl_s=TTL, leeway_s=LEEWAY)


def _claims(**changes: Any) -> dict[str, Any]:
    ts = int(NOW.timestamp())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "7",
        "sid": SID,
        "typ": "access",
        "iat": ts,
        "nbf": ts,
        "exp": ts + TTL,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _refused(codec: TokenCodec, token: str, code: str, at: dt.datetime = NOW) -> None:
    with pytest.raises(Unauthenticated) as caught:
        codec.decode_access(token, at)
    assert caught.value.code == code


def test_issued_token_decodes_to_its_user_session_and_expiry(codec: TokenCodec) -> None:
    token = codec.issue_access(UserId(7), SID, NOW)
    claims = codec.decode_access(token, NOW)
    assert claims.user_id == 7
    assert claims.session_id == SID
    assert claims.expires_at == NOW + dt.timedelta(seconds=TTL)
    assert claims.expires_at.tzinfo is not None


def test_token_is_accepted_up_to_expiry_plus_leeway(codec: TokenCodec) -> None:
    token = codec.issue_access(UserId(7), SID, NOW)
    codec.decode_access(token, NOW + dt.timedelta(seconds=TTL + LEEWAY))
    _refused(codec, token, "token_expired", NOW + dt.timedelta(seconds=TTL + LEEWAY + 1))


def test_token_from_the_future_is_refused_beyond_the_leeway(codec: TokenCodec) -> None:
    token = codec.issue_access(UserId(7), SID, NOW)
    codec.decode_access(token, NOW - dt.timedelta(seconds=LEEWAY))
    _refused(codec, token, "token_not_yet_valid", NOW - dt.timedelta(seconds=LEEWAY + 1))


def test_expiry_uses_the_given_time_not_the_wall_clock(codec: TokenCodec) -> None:
    # Issued and checked in 2001: long expired by the wall clock, valid by the injected one.
    then = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    token = codec.issue_access(UserId(7), SID, then)
    assert codec.decode_access(token, then).user_id == 7


def test_token_signed_with_another_key_is_invalid(codec: TokenCodec) -> None:
    token = TokenCodec("another-key-" * 4, access_ttl_s=TTL, leeway_s=0).issue_access(
        UserId(7), SID, NOW
    )
    _refused(codec, token, "token_invalid")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_key(codec: TokenCodec, alg: str) -> None:
    # The same secret, long enough for the bigger hashes: only the algorithm differs.
    long_key = KEY * 2
    other = TokenCodec(long_key, access_ttl_s=TTL, leeway_s=LEEWAY)
    _refused(other, jwt.encode(_claims(), long_key, algorithm=alg), "token_invalid")


def test_unsigned_token_is_refused(codec: TokenCodec) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    _refused(codec, token, "token_invalid")


@pytest.mark.parametrize(
    "header",
    [
        {"jwk": {"kty": "oct", "k": "YXR0YWNrZXI"}},
        {"jku": "https://attacker.example/keys"},
        {"x5u": "https://attacker.example/cert"},
        {"kid": "../../dev/null"},
    ],
)
def test_keys_named_in_the_header_are_ignored(codec: TokenCodec, header: dict[str, Any]) -> None:
    token = jwt.encode(_claims(), ATTACKER_KEY, algorithm="HS256", headers=header)
    _refused(codec, token, "token_invalid")


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "someone-else"},
        {"iss": "https://idp.example"},
        {"typ": "refresh"},
        {"typ": None},
        {"sid": None},
        {"sub": None},
        {"sub": "admin"},
        {"exp": None},
        {"nbf": None},
        {"iat": None},
        {"aud": None},
    ],
)
def test_tokens_with_wrong_or_missing_claims_are_invalid(
    codec: TokenCodec, changes: dict[str, Any]
) -> None:
    _refused(codec, jwt.encode(_claims(**changes), KEY, algorithm="HS256"), "token_invalid")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x", "e30.e30.e30"])
def test_garbage_is_invalid(codec: TokenCodec, garbage: str) -> None:
    _refused(codec, garbage, "token_invalid")


def test_refresh_tokens_are_random_and_stored_as_their_sha256() -> None:
    token, stored = new_refresh_token()
    assert stored == hashlib.sha256(token.encode()).hexdigest() == hash_refresh_token(token)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32  # 256 random bits
    assert len({new_refresh_token()[0] for _ in range(100)}) == 100


def test_session_ids_are_128_bit_hex() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
