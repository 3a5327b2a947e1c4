"""Failpoints: off by default, parsed strictly, keyed, and re-read from their file when it
changes (the kill action is exercised by the fault tests, which kill real servers with it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sodam.observability.failpoints import Failpoint, Failpoints, parse_failpoints


def test_nothing_configured_means_nothing_fires() -> None:
    points = Failpoints()
    assert not points.enabled
    assert points.check("send.before_commit", "anything") is None


def test_entries_are_parsed_with_their_action_argument_and_key() -> None:
    parsed = parse_failpoints("send.before_fanout=drop@cmid-1, db.slow=sleep:2.5\n# note\n")
    assert parsed == {
        "send.before_fanout": Failpoint("send.before_fanout", "drop", 0.0, "cmid-1"),
        "db.slow": Failpoint("db.slow", "sleep", 2.5, None),
    }


@pytest.mark.parametrize("spec", ["send.before_commit", "x=explode", "=kill", "db.slow=sleep:0"])
def test_bad_entries_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="invalid failpoint"):
        parse_failpoints(spec)


def test_a_keyed_failpoint_fires_only_for_its_key() -> None:
    points = Failpoints("send.before_fanout=drop@victim-0001")
    assert points.check("send.before_fanout", "bystander-01") is None
    hit = points.check("send.before_fanout", "victim-0001")
    assert hit is not None and hit.action == "drop"


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "failpoints"
    points = Failpoints(file=path)
    assert points.enabled and points.check("db.slow") is None  # no file yet: nothing armed
    write(path, "db.slow=sleep:5")
    hit = points.check("db.slow")
    assert hit is not None and hit.seconds == 5
    write(path, "")
    assert points.check("db.slow") is None
    write(path, "not a failpoint")  # a typo keeps what was armed and says so in the log
    assert points.check("db.slow") is None


def write(path: Path, text: str) -> None:
    """Atomic replace, as the fault tests do: a reader never sees half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
