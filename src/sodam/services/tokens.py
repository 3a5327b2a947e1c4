"""Access tokens (JWT, HS256 fixed in code) and opaque refresh tokens.

Access tokens are short-lived and carry the session id (``sid``); every request still checks that
the session is live and the user active, so logout, revocation and deactivation act at once.
Refresh tokens are 256 random bits, stored only as their SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

import jwt

from sodam.domain.ids import SessionId, UserId
from sodam.errors import Unauthenticated

ALGORITHM = "HS256"  # fixed: the header's "alg" is never trusted
ISSUER = "sodam"
AUDIENCE = "sodam-api"
TokenType = Literal["access", "media"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UserId
    session_id: SessionId
    expires_at: dt.datetime


class TokenCodec:
    def __init__(self, secret_key: str, *, access_ttl_s: int, leeway_s: int) -> None:
        self._key = secret_key
        self.access_ttl_s = access_ttl_s
        self._leeway = leeway_s

    def issue_access(
        self,
        user_id: UserId,
        session_id: SessionId,
        now: dt.datetime,
        typ: TokenType = "access",
    ) -> str:
        """An access token; ``typ="media"`` makes one that only file downloads accept (the
        ``sodam_media`` cookie, docs/files.md)."""
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "sid": session_id,
            "typ": typ,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(now.timestamp()) + self.access_ttl_s,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def decode_access(
        self, token: str, now: dt.datetime, typ: TokenType = "access"
    ) -> AccessClaims:
        """Checks signature, algorithm, issuer, audience, type and time, else Unauthenticated."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self._leeway,
                options={
                    "require": ["exp", "iat", "nbf", "sub", "sid", "iss", "aud"],
                    # times are checked below against the injected clock, not the wall clock
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            ts = now.timestamp()
            if claims["nbf"] - self._leeway > ts:
                raise jwt.ImmatureSignatureError("not yet valid")
            if claims["exp"] + self._leeway < ts:
                raise jwt.ExpiredSignatureError("expired")
        except jwt.ImmatureSignatureError as exc:
            # A clock far behind the issuer's (reliability.md F11): not "log in again".
            raise Unauthenticated(
                "token_not_yet_valid", "The access token is not valid yet."
            ) from exc
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token_expired", "The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("token_invalid", "The access token is not valid.") from exc
        if claims.get("typ") != typ or not str(claims["sub"]).isdigit():
            raise Unauthenticated("token_invalid", "The access token is not valid.")
        return AccessClaims(
            user_id=UserId(int(claims["sub"])),
            session_id=SessionId(str(claims["sid"])),
            expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
        )


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session_id() -> SessionId:
    return SessionId(secrets.token_hex(16))
