"""Error types: problems with the input, located, and the readers' malformed records.

:class:`Problem` names one thing wrong with the input (``FILE:LINE: reason``);
:class:`EventsError` carries every problem found; :class:`RecordError` is raised
inside a platform reader when one record is malformed (its message is the reason
shown to the user). They are re-exported where they were first defined
(``tribe_analysis.events`` and ``tribe_analysis.io._base``), so either import works.

Examples
--------
>>> err = EventsError([Problem("b.csv", 2, "missing actor_id"), Problem("a.csv", 5, "bad")])
>>> print(err)
a.csv:5: bad
b.csv:2: missing actor_id
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "EventsError",
    "Problem",
    "RecordError",
    "first_line",
    "io_reason",
    "json_reason",
    "one_per_record",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""Characters shown escaped in a printed problem (it stays one printable line)."""

_SOURCE = "__source"
_LINE = "__line"
"""Column names of the file and line (or row) that locate a record while it is checked."""


@dataclass(frozen=True, order=True)
class Problem:
    r"""One problem with the input, located as precisely as the format allows.

    Parameters
    ----------
    source : str
        File name (or ``"<frame>"`` for an in-memory frame).
    line : int or None
        Line number (CSV, NDJSON), row number (Parquet, frames), or None when
        the problem concerns the whole input (a missing column).
    reason : str
        What is wrong, naming the bad value.
    unit : str
        ``"line"`` or ``"row"``: how ``line`` counts.

    Examples
    --------
    >>> str(Problem("events.csv", 3, "unknown action 'like'"))
    "events.csv:3: unknown action 'like'"
    >>> str(Problem("events.parquet", 7, "missing actor_id", unit="row"))
    'events.parquet:row 7: missing actor_id'

    Control characters a reason quotes from the input (a NUL, a line break) are
    shown escaped, so a problem is always one printable line:

    >>> print(Problem("a.csv", 2, "malformed timestamp '2\x00024'\n"))
    a.csv:2: malformed timestamp '2\x00024'\x0a
    """

    source: str
    line: int | None
    reason: str
    unit: str = "line"

    def __str__(self) -> str:
        reason = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", self.reason)
        if self.line is None:
            return f"{self.source}: {reason}"
        where = str(self.line) if self.unit == "line" else f"{self.unit} {self.line}"
        return f"{self.source}:{where}: {reason}"


class EventsError(ValueError):
    """Input events are invalid; ``problems`` lists every problem found.

    The message is one ``FILE:LINE: reason`` line per problem.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = one_per_record(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_key(p: Problem) -> tuple[str, int, str]:
    return (p.source, -1 if p.line is None else p.line, p.reason)


def one_per_record(problems: Sequence[Problem]) -> list[Problem]:
    """Problems sorted by place, those of one record joined into one (reasons by ``; ``).

    A record is one bad record with all its reasons, however many checks found it.

    Examples
    --------
    >>> for p in one_per_record([Problem("a.csv", 3, "unknown action 'like'"),
    ...                          Problem("a.csv", 2, "missing actor_id"),
    ...                          Problem("a.csv", 3, "duplicate event_id 'e1'")]):
    ...     print(p)
    a.csv:2: missing actor_id
    a.csv:3: duplicate event_id 'e1'; unknown action 'like'
    """
    out: list[Problem] = []
    for problem in sorted(problems, key=_problem_key):
        last = out[-1] if out else None
        if (
            last is not None
            and problem.line is not None
            and (last.source, last.line, last.unit) == (problem.source, problem.line, problem.unit)
        ):
            out[-1] = Problem(last.source, last.line, f"{last.reason}; {problem.reason}", last.unit)
        else:
            out.append(problem)
    return out


class RecordError(ValueError):
    """A record is malformed; the message is the reason shown to the user."""


def json_reason(msg: str, where: str) -> str:
    """``invalid JSON (...)`` from a :class:`json.JSONDecodeError` message and a place.

    Python's messages that name a position end in "at" ("Unterminated string
    starting at"); the place follows them directly.

    Examples
    --------
    >>> json_reason("Unterminated string starting at", "column 2")
    'invalid JSON (Unterminated string starting at column 2)'
    >>> json_reason("Expecting value", "column 1")
    'invalid JSON (Expecting value at column 1)'
    """
    msg = msg.strip()
    joined = f"{msg} {where}" if msg.endswith(" at") else f"{msg} at {where}"
    return f"invalid JSON ({joined})"


_ERRNO = re.compile(r"\[Errno (\d+)\]|\(os error (\d+)\)")


def first_line(exc: BaseException) -> str:
    r"""The first line of an exception's message (its type's name when it has none), for one-line reasons.

    Examples
    --------
    >>> first_line(ValueError("bad page\nat src/parquet.rs:12")), first_line(OverflowError())
    ('bad page', 'OverflowError')
    """
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def io_reason(exc: BaseException) -> str | None:
    """Why a write failed in the system's words, or None when ``exc`` is no I/O failure.

    Python's OSError carries ``strerror``; polars' errors and the drawing
    workers' (a traceback as text) carry ``(os error N)`` or ``[Errno N]``.
    """
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    found = _ERRNO.findall(str(exc))
    if found:
        number = found[-1][0] or found[-1][1]
        return os.strerror(int(number))
    if isinstance(exc, OSError):
        return str(exc) or type(exc).__name__
    return None
