"""argon2id hashing with test-sized cost (the ``fast_hasher`` parameters)."""

from __future__ import annotations

import pytest

from sodam.services.passwords import PasswordHasher


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)


async def test_a_hash_verifies_only_its_own_password(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct-horse-battery")
    assert stored.startswith("$argon2id$")
    assert "correct-horse-battery" not in stored
    assert await hasher.verify(stored, "correct-horse-battery")
    assert not await hasher.verify(stored, "correct-horse-batterY")
    assert not await hasher.verify(stored, "")


async def test_the_same_password_hashes_differently_each_time(hasher: PasswordHasher) -> None:
    assert await hasher.hash("비밀번호-한글도-됩니다") != await hasher.hash(
        "비밀번호-한글도-됩니다"
    )


async def test_a_missing_hash_never_verifies(hasher: PasswordHasher) -> None:
    # Unknown users and SSO-only accounts have no hash; the check still runs (same timing).
    assert not await hasher.verify(None, "sodam-timing-equaliser")
    assert not await hasher.verify(None, "anything")


async def test_a_corrupt_hash_is_a_failed_check_not_a_crash(hasher: PasswordHasher) -> None:
    assert not await hasher.verify("not-a-hash", "anything")
    assert not await hasher.verify("$argon2id$v=19$m=1024,t=1,p=1$broken", "anything")


async def test_hashes_made_with_other_costs_need_a_rehash(hasher: PasswordHasher) -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost_kib=2048, parallelism=1)
    old = await hasher.hash("correct-horse-battery")
    assert stronger.needs_rehash(old)
    assert not hasher.needs_rehash(old)
    assert await stronger.verify(old, "correct-horse-battery")
