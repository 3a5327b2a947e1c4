"""Per-room ordering at node level: duplicates dropped, gaps held and filled from the database."""

from __future__ import annotations

from sodam.realtime.ordering import RoomSequencer


def seqs(items: list[tuple[int, str]]) -> list[int]:
    return [s for s, _ in items]


def test_in_order_events_are_delivered_at_once() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=4)
    assert order.offer(5, "e5") == [(5, "e5")]
    assert order.offer(6, "e6") == [(6, "e6")]
    assert order.last == 6
    assert not order.has_gap


def test_duplicate_or_old_event_is_dropped() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=4)
    order.offer(5, "e5")
    assert order.offer(5, "e5 again") == []
    assert order.offer(3, "old") == []
    assert order.duplicates == 2


def test_first_event_sets_the_base_when_none_is_known() -> None:
    order: RoomSequencer[str] = RoomSequencer()
    assert order.offer(17, "e17") == [(17, "e17")]
    assert order.last == 17


def test_event_ahead_is_held_until_the_gap_is_filled() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=4)
    assert order.offer(7, "e7") == []
    assert order.has_gap
    assert order.gap_size == 2
    order.filling = True
    assert order.offer(8, "e8") == []  # still held behind the gap
    ready = order.fill([(5, "db5"), (6, "db6")])
    assert ready == [(5, "db5"), (6, "db6"), (7, "e7"), (8, "e8")]
    assert not order.has_gap


def test_database_copy_replaces_a_held_copy() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=1)
    order.offer(3, "bus3")
    ready = order.fill([(2, "db2"), (3, "db3")])
    assert ready == [(2, "db2"), (3, "db3")]
    assert order.stash == {}


def test_reordered_pair_is_delivered_in_order() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=10)
    assert order.offer(12, "e12") == []
    assert order.offer(11, "e11") == [(11, "e11"), (12, "e12")]
    assert not order.has_gap


def test_fill_while_filling_holds_the_next_live_event_until_the_database_answers() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=1)
    order.offer(3, "e3")
    order.filling = True
    assert order.offer(2, "bus2") == []  # the fill in flight decides
    assert seqs(order.fill([(2, "db2")])) == [2, 3]


def test_database_skipping_a_seq_means_it_does_not_exist() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=1)
    order.offer(5, "e5")
    assert seqs(order.fill([(3, "db3"), (4, "db4")])) == [3, 4, 5]


def test_skip_to_stash_gives_up_on_missing_events() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=1)
    order.offer(10, "e10")
    order.offer(11, "e11")
    order.offer(13, "e13")
    assert seqs(order.skip_to_stash()) == [10, 11]
    assert order.has_gap  # 12 is still missing before 13
    assert seqs(order.skip_to_stash()) == [13]
    assert not order.has_gap


def test_skip_to_stash_with_nothing_held_closes_the_gap() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=1, max_stash=1)
    order.offer(5, "e5")
    order.stash.clear()  # as if everything held was evicted
    assert order.skip_to_stash() == []
    assert order.last == 5 and not order.has_gap


def test_stash_is_bounded_and_keeps_the_lowest() -> None:
    order: RoomSequencer[str] = RoomSequencer(last=0, max_stash=3)
    for seq in (10, 9, 8, 7, 6):
        order.offer(seq, f"e{seq}")
    assert sorted(order.stash) == [6, 7, 8]
    assert order.target == 10  # the fill still runs up to the highest seen
