"""Shared fixtures: small canonical event files written as someone else would."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests explore new examples on a developer's machine; under CI=true they
# replay the same examples every run (a CI result never depends on luck) and keep
# no example database in the clone.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

HEADER = "event_id,timestamp,actor_id,action,parent_id,mentions,text\n"

GOOD_ROWS = [
    "r2,2024-03-01T10:20:00Z,ann,reply,r1,,thanks bob",
    "p1,2024-03-01T10:00:00Z,ann,post,,bob|cid,hello tribe",
    "r1,2024-03-01T12:05:00+02:00,bob,reply,p1,,hi ann",
    "x1,2024-03-01T10:30:00Z,cid,reaction,p1,,",
    "s1,2024-03-01T11:00:00Z,cid,share,p1,,",
    "o1,2024-03-01T11:30:00Z,dan,reply,elsewhere,,parent not exported",
]


@pytest.fixture
def vega_warnings():
    """The messages Vega logs at WARNING or above while the test draws (vl-convert's logger).

    Without a handler, Python prints them on the console of whoever draws: a user's.
    """
    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    logger = logging.getLogger("vl_convert")
    keep, level = Keep(logging.WARNING), logger.level
    logger.addHandler(keep)
    logger.setLevel(logging.WARNING)
    yield said
    logger.removeHandler(keep)
    logger.setLevel(level)


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a canonical CSV from data rows (header added unless given) and return its path."""

    def write(rows: list[str], *, name: str = "events.csv", header: str = HEADER) -> Path:
        path = tmp_path / name
        path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
        return path

    return write


def real_data_dir(name: str) -> Path:
    """Path of a real export in ../shared/data/real; skip (or fail under CI=true) if absent."""
    path = REAL_DATA / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real data {path} is missing under CI=true")
        pytest.skip(f"real data {path} not present beside this checkout")
    return path


def one_problem(excinfo) -> str:
    """The single problem of an EventsError, as FILE:LINE: reason."""
    problems = excinfo.value.problems
    assert len(problems) == 1
    return str(problems[0])


def consistent(result) -> None:
    """Nothing lost: records read = loaded + skipped."""
    assert result.records_read == result.records_loaded + len(result.skipped)


def rows(result) -> dict[str, dict]:
    """Events of a ReadResult by event_id."""
    return {r["event_id"]: r for r in result.events.iter_rows(named=True)}
