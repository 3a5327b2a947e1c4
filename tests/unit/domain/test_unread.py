"""KakaoTalk's unread arithmetic (domain/unread.py): the fast batch count agrees with the naive
definition, the sender never counts, and late joiners never count for older messages."""

from __future__ import annotations

import random

import pytest

from sodam.domain.unread import room_unread, unread_count, unread_counts


def _random_room(rng: random.Random) -> tuple[list[tuple[int, int | None]], list[tuple[int, int]]]:
    last_seq = rng.randint(0, 60)
    user_ids = rng.sample(range(1, 500), rng.randint(0, 25))
    positions = [(u, rng.randint(0, last_seq)) for u in user_ids]
    senders: list[int | None] = [*user_ids, None, 9999]  # system messages; a member who left
    messages = [(seq, rng.choice(senders)) for seq in range(1, last_seq + 1)]
    return messages, positions


@pytest.mark.parametrize("seed", range(40))
def test_batch_counts_equal_the_naive_count_on_random_rooms(seed: int) -> None:
    rng = random.Random(seed)
    messages, positions = _random_room(rng)
    assert unread_counts(messages, positions) == {
        seq: unread_count(seq, sender, positions) for seq, sender in messages
    }


def test_batch_counts_accept_any_order_of_messages_and_positions() -> None:
    rng = random.Random(7)
    messages, positions = _random_room(rng)
    expected = unread_counts(messages, positions)
    rng.shuffle(messages)
    rng.shuffle(positions)
    assert unread_counts(messages, positions) == expected


def test_the_sender_is_never_counted_for_their_own_message() -> None:
    # User 1 sent seq 5 but their position says 3 (e.g. marked unread): still not counted.
    positions = [(1, 3), (2, 0), (3, 4)]
    assert unread_count(5, 1, positions) == 2
    assert unread_counts([(5, 1)], positions) == {5: 2}


def test_a_member_who_read_a_message_is_not_counted() -> None:
    positions = [(1, 10), (2, 5), (3, 4)]
    assert unread_counts([(4, None), (5, None), (6, None)], positions) == {4: 0, 5: 1, 6: 2}


def test_a_member_who_joined_later_does_not_count_for_older_messages() -> None:
    # Joining sets last_read_seq to the room's last_seq at that moment (here 7).
    before_join = [(1, 2), (2, 0)]
    after_join = [*before_join, (3, 7)]
    older = [(seq, 1) for seq in range(1, 8)]
    assert unread_counts(older, after_join) == unread_counts(older, before_join)
    assert unread_counts([(8, 1)], after_join) == {8: 2}


def test_a_member_who_left_is_not_counted() -> None:
    # A member who leaves has no position any more: they are simply not in the list.
    assert unread_counts([(3, 1)], [(1, 0), (2, 0), (3, 0)]) == {3: 2}
    assert unread_counts([(3, 1)], [(1, 0), (2, 0)]) == {3: 1}


def test_system_messages_have_no_sender_to_exclude() -> None:
    assert unread_counts([(2, None)], [(1, 1), (2, 1)]) == {2: 2}


def test_no_messages_and_no_members() -> None:
    assert unread_counts([], [(1, 0)]) == {}
    assert unread_counts([(1, 1)], []) == {1: 0}


@pytest.mark.parametrize(
    ("last_seq", "last_read_seq", "expected"),
    [(0, 0, 0), (10, 0, 10), (10, 7, 3), (10, 10, 0), (10, 12, 0)],
)
def test_room_badge_counts_messages_after_the_read_position(
    last_seq: int, last_read_seq: int, expected: int
) -> None:
    assert room_unread(last_seq, last_read_seq) == expected
