"""Canonical events: schema v1, reading and validation (threads: :mod:`tribe_analysis.threads`).

One row per action. Every reader, the simulator and every measure speak this
schema (DESIGN.md section 3):

=================== ======================= =========================================
column              dtype                   meaning
=================== ======================= =========================================
``event_id``        String                  unique id of the action
``timestamp``       Datetime(us, UTC)       when it happened
``actor_id``        String                  who acted
``action``          Enum                    ``post``, ``reply``, ``share``, ``reaction``
``parent_id``       String                  content acted on (reply/share/reaction)
``thread_id``       String                  root post of the thread (derived)
``target_actor_id`` String                  author of ``parent_id`` (derived)
``mentions``        List(String)            accounts mentioned (never null; may be empty)
``text``            String                  content text (optional)
``platform``        String                  source platform (``events`` for canonical files)
=================== ======================= =========================================

CSV form: the same column names, ISO-8601 timestamps with an offset or ``Z``,
``mentions`` joined with ``|``. Parquet and NDJSON hold the same columns.
"""

from __future__ import annotations

import difflib
import io
import json
import numbers
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from tribe_analysis import _textscan
from tribe_analysis.errors import (
    _LINE,
    _SOURCE,
    EventsError,
    Problem,
    first_line,
    json_reason,
    one_per_record,
)
from tribe_analysis.threads import (
    _HASH_SEED,
    MAX_THREAD_DEPTH,
    _derivation_problems,
    _derive,
    derive_threads,
    reply_depths,
)

__all__ = [
    "ACTIONS",
    "ACTION_DTYPE",
    "FORMATS",
    "MAX_RECORD_BYTES",
    "MAX_THREAD_DEPTH",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "SCHEMA",
    "EventsError",
    "Problem",
    "complete_events",
    "conform",
    "derive_threads",
    "empty_events",
    "head_problem",
    "leader_ids",
    "not_utf8",
    "read_events",
    "sort_events",
    "whole_number",
    "reply_depths",
    "usable_events",
    "summarize_events",
    "validate_events",
    "write_events",
]

ACTIONS: tuple[str, ...] = ("post", "reply", "share", "reaction")
"""The four actions, in the order of the ``action`` Enum."""

ACTION_DTYPE = pl.Enum(list(ACTIONS))

SCHEMA = pl.Schema(
    {
        "event_id": pl.String(),
        "timestamp": pl.Datetime("us", "UTC"),
        "actor_id": pl.String(),
        "action": ACTION_DTYPE,
        "parent_id": pl.String(),
        "thread_id": pl.String(),
        "target_actor_id": pl.String(),
        "mentions": pl.List(pl.String),
        "text": pl.String(),
        "platform": pl.String(),
    }
)
"""Canonical events schema v1: column names, order and dtypes."""

REQUIRED_COLUMNS: tuple[str, ...] = ("event_id", "timestamp", "actor_id", "action")
"""Columns an input file must have (``platform`` defaults to ``"events"``)."""

OPTIONAL_COLUMNS: tuple[str, ...] = tuple(c for c in SCHEMA if c not in REQUIRED_COLUMNS)

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
}
"""File suffix -> canonical file format."""

MAX_RECORD_BYTES = _textscan.MAX_RECORD_BYTES
"""Largest record read (a line, a CSV record, an e-mail, an XML row): 16 MiB."""

_TS_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z")


def empty_events() -> pl.DataFrame:
    """An events frame with no rows and the canonical schema.

    Examples
    --------
    >>> empty_events().columns[:4]
    ['event_id', 'timestamp', 'actor_id', 'action']
    """
    return pl.DataFrame(schema=SCHEMA)


def conform(frame: pl.DataFrame | pl.LazyFrame, *, platform: str | None = None) -> pl.DataFrame:
    """Select and cast columns into the canonical order and dtypes.

    Missing optional columns are added as nulls (``mentions`` as empty lists);
    ``platform`` fills null platforms. No validation is done: use
    :func:`validate_events` (or :func:`read_events`) on untrusted input.

    Parameters
    ----------
    frame : polars.DataFrame or polars.LazyFrame
        Frame holding at least the required columns in castable dtypes.
    platform : str, optional
        Platform name for rows whose ``platform`` is missing.

    Returns
    -------
    polars.DataFrame
        Frame with exactly the columns of :data:`SCHEMA`.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> df = pl.DataFrame({"event_id": ["a"], "timestamp": [datetime(2024, 1, 1, tzinfo=timezone.utc)],
    ...                    "actor_id": ["u1"], "action": ["post"]})
    >>> conform(df, platform="events").schema == SCHEMA
    True
    """
    lf = frame.lazy()
    names = lf.collect_schema().names()
    exprs = []
    for name, dtype in SCHEMA.items():
        if name in names:
            expr = pl.col(name)
            if name == "timestamp":
                expr = expr.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        elif name == "mentions":
            expr = pl.lit([], dtype=pl.List(pl.String))
        else:
            expr = pl.lit(None, dtype=dtype)
        if name == "mentions":
            expr = expr.cast(dtype).fill_null(pl.lit([], dtype=pl.List(pl.String)))
        elif name == "platform" and platform is not None:
            expr = expr.cast(dtype).fill_null(platform)
        else:
            expr = expr.cast(dtype)
        exprs.append(expr.alias(name))
    return lf.select(exprs).collect()


# --------------------------------------------------------------------------- reading


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt not in (None, "auto", "events"):
        if fmt in ("csv", "parquet", "ndjson"):
            return fmt
        raise ValueError(f"unknown events file format {fmt!r} (expected csv, parquet or ndjson)")
    suffix = path.suffix.lower()
    if suffix == ".gz":
        raise EventsError([Problem(str(path), None, "compressed input: decompress it first")])
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise EventsError(
            [
                Problem(
                    str(path), None, f"unknown file type {suffix or '(none)'!r} (expected {known})"
                )
            ]
        )
    return FORMATS[suffix]


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    r"""Line (1-based, within ``data``) and reason for the first byte of ``data`` that is not UTF-8.

    Examples
    --------
    >>> data = b"ok\nca\xe9"
    >>> try:
    ...     data.decode("utf-8")
    ... except UnicodeDecodeError as exc:
    ...     not_utf8(data, exc)
    (2, 'not UTF-8: byte 0xe9 at column 3')
    """
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return line, f"not UTF-8: byte 0x{data[exc.start]:02x} at column {column}"


def head_problem(source: str, head: bytes) -> Problem | None:
    r"""A whole-file problem seen in a file's first bytes (UTF-16 text, binary data), or None.

    Examples
    --------
    >>> print(head_problem("/dev/zero", bytes(64)))
    /dev/zero: binary data, not text (a NUL byte at byte 1)
    """
    reason = _textscan.head_problem(head)
    return None if reason is None else Problem(source, None, reason)


def _check_file(path: Path, *, text: bool = True) -> None:
    """Raise for a path that is missing, a folder, empty, or (``text``) not text at all."""
    source = str(path)
    if not path.exists():
        raise EventsError([Problem(source, None, "no such file")])
    if path.is_dir():
        raise EventsError([Problem(source, None, "is a directory, not an events file")])
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head:
        raise EventsError([Problem(source, 1, "empty file (no header, no events)")])
    problem = head_problem(source, head) if text else None
    if problem is not None:
        raise EventsError([problem])


def _read_raw(path: Path, fmt: str) -> tuple[pl.DataFrame, str]:
    """Read one file as-is, with ``__line`` numbers; return the frame and the line unit.

    Text files go through :func:`_read_text`; any malformed record raises.
    """
    source = str(path)
    _check_file(path, text=fmt != "parquet")
    if fmt != "parquet":
        frame, _, problems = _read_text(path, fmt, lenient=False)
        if problems:
            raise EventsError(problems)
        return frame, "line"
    try:
        # numbered in the same query: the line numbers come in the same chunks as the
        # columns (one per row group), so nothing needs copying into one chunk here
        frame = pl.scan_parquet(path).with_row_index(_LINE, offset=1).collect()
    # polars raises several error types for corrupt files, and panics on some (a BaseException)
    except (Exception, pl.exceptions.PanicException) as exc:
        raise EventsError(
            [Problem(source, None, f"not a readable Parquet file ({first_line(exc)})")]
        ) from None
    return frame, "row"


def _one_chunk(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its columns chunked alike, copied a column at a time (``frame`` is consumed).

    A Parquet file comes back in one chunk per row group; columns added later
    (line numbers, a column only some files have) may have other chunks, and polars
    copies a whole frame whose columns are chunked differently before it computes
    on it. Copying once here into one chunk each, a column at a time, costs one
    column of extra memory instead. A frame whose columns already share their chunk
    boundaries (one Parquet file, numbered in the query that reads it) is returned
    as it is: copying it would only cost time (0.4 s at 5M events).

    Examples
    --------
    >>> a, b = pl.DataFrame({"a": [1], "b": [3]}), pl.DataFrame({"a": [2], "b": [4]})
    >>> f = pl.concat([a, b], rechunk=False)
    >>> _one_chunk(f).n_chunks("all")  # chunked alike: kept
    [2, 2]
    >>> _one_chunk(f.with_columns(pl.Series("c", [5, 6]))).n_chunks("all")
    [1, 1, 1]
    """
    if _chunked_alike(frame):
        return frame
    return _column_by_column(frame, pl.Series.rechunk)


def _chunked_alike(frame: pl.DataFrame) -> bool:
    """Whether every column of ``frame`` has the same chunk lengths (no copy needed)."""
    counts = set(frame.n_chunks("all"))
    if counts <= {1}:
        return True
    if len(counts) > 1:
        return False
    layouts = {tuple(len(c) for c in frame.get_column(n).get_chunks()) for n in frame.columns}
    return len(layouts) == 1


def _column_by_column(
    frame: pl.DataFrame, change: Callable[[pl.Series], pl.Series]
) -> pl.DataFrame:
    """A new frame of ``change(column)`` for each column; ``frame`` is consumed as it goes.

    Each old column is released before the next is changed, so the work needs one
    column of extra memory, not a second frame.
    """
    columns = []
    for name in list(frame.columns):
        columns.append(change(frame.drop_in_place(name)))
    return pl.DataFrame(columns)


def _read_text(
    path: Path, fmt: str, *, lenient: bool
) -> tuple[pl.DataFrame, _textscan.Layout, list[Problem]]:
    """Read a CSV or NDJSON file: its frame (with ``__line``), where its records are, and bad records.

    Records are found first (:func:`tribe_analysis._textscan.scan`): blank lines are
    left out, and records that are not UTF-8, too long or malformed CSV are bad.
    Only the others are parsed (by polars). A wrong-typed NDJSON value makes its
    line bad (:func:`_ndjson_frame`). Bad records are returned as problems and
    left out; strict (``lenient=False``) only differs in failing fast: when the
    scan meets a problem (a file that is one giant line) it raises at once.
    """
    source = str(path)
    layout = _textscan.scan(path, csv=fmt == "csv", stop_early=not lenient)
    n = layout.starts.size
    if n == 0 or (fmt == "csv" and 0 in layout.blank):
        raise EventsError([Problem(source, 1, "empty file (no header, no events)")])
    if fmt == "csv" and 0 in layout.bad:
        raise EventsError([Problem(source, 1, f"unreadable header ({layout.bad[0]})")])
    problems = [Problem(source, int(layout.lines[i]), r) for i, r in sorted(layout.bad.items())]
    if problems and not layout.complete:
        raise EventsError(problems)
    wanted = np.ones(n, dtype=bool)
    wanted[layout.blank] = False
    wanted[list(layout.bad)] = False
    wanted[0] &= fmt != "csv"  # the header
    keep = np.flatnonzero(wanted)
    if fmt == "csv":
        frame = _csv_frame(path, layout, keep)
    else:
        frame, keep, bad = _ndjson_frame(path, layout, keep)
        problems += [Problem(source, int(layout.lines[i]), r) for i, r in bad]
    lines = pl.Series(_LINE, layout.lines[keep], dtype=pl.UInt32)
    return frame.with_columns(lines), layout, problems


def _text_source(path: Path, layout: _textscan.Layout, keep: np.ndarray, header: bool):
    """The file itself when every record is kept, else the bytes of the header and kept records."""
    n = layout.starts.size
    if layout.bom == 0 and keep.size == n - int(header):
        return path
    data = path.read_bytes()
    bounds = np.append(layout.starts, layout.size)

    def span(first: int, last: int) -> bytes:
        chunk = data[bounds[first] : bounds[last + 1]]
        return chunk if chunk.endswith(b"\n") else chunk + b"\n"

    parts = [span(0, 0)] if header else []
    if keep.size:
        breaks = np.flatnonzero(np.diff(keep) != 1)
        firsts = np.concatenate([[keep[0]], keep[breaks + 1]])
        lasts = np.concatenate([keep[breaks], [keep[-1]]])
        parts += [span(int(a), int(b)) for a, b in zip(firsts, lasts, strict=True)]
    return b"".join(parts)


def _csv_frame(path: Path, layout: _textscan.Layout, keep: np.ndarray) -> pl.DataFrame:
    """The kept records of a CSV file as text columns (one row per record)."""
    source = _text_source(path, layout, keep, header=True)
    try:
        frame = pl.read_csv(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            infer_schema=False,
            raise_if_empty=False,
        )
    except Exception as exc:  # polars raises several error types for malformed CSV
        raise EventsError(
            [Problem(str(path), None, f"not a readable CSV file ({first_line(exc)})")]
        ) from None
    if frame.height != keep.size:
        raise EventsError(
            [Problem(str(path), None, "not a readable CSV file (its records cannot be told apart)")]
        )
    if layout.crlf and "text" in frame.columns:  # a Windows file: its line breaks inside text too
        frame = frame.with_columns(pl.col("text").str.replace_all("\r\n", "\n", literal=True))
    return frame


_NDJSON_IDS = ("event_id", "actor_id", "parent_id", "thread_id", "target_actor_id")
_NDJSON_TEXTS = ("timestamp", "action", "text", "platform")


def _ndjson_frame(
    path: Path, layout: _textscan.Layout, keep: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray, list[tuple[int, str]]]:
    """The kept lines of an NDJSON file as a frame, the lines it holds, and bad lines.

    polars reads the lines; values of a canonical column that polars had to fold
    into another type (an object or a number turned into text, a list column
    turned into text by one string) are suspects, checked with :mod:`json`, and a
    wrong type makes its line bad, never the column re-typed. When polars cannot
    read the lines, or a suspect is confirmed, every line is read with :mod:`json`.
    """
    source = _text_source(path, layout, keep, header=False)
    try:
        if not keep.size:
            return pl.DataFrame(), keep, []
        frame = pl.read_ndjson(
            io.BytesIO(source) if isinstance(source, bytes) else source, infer_schema_length=None
        )
    except Exception:  # noqa: BLE001 - invalid JSON or types polars cannot unify: json decides
        return _ndjson_python(path, layout, keep)
    if frame.height != keep.size:
        return _ndjson_python(path, layout, keep)
    suspects = _ndjson_suspects(frame)
    if suspects.size and any(
        _ndjson_value_problem(path, layout, int(i)) for i in keep[suspects].tolist()
    ):
        return _ndjson_python(path, layout, keep)
    return frame, keep, []


def _ndjson_suspects(frame: pl.DataFrame) -> np.ndarray:
    """Rows whose canonical values may not be of the JSON type they must have (vectorised)."""
    checks = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if name in _NDJSON_IDS or name in _NDJSON_TEXTS:
            if dtype == pl.String:
                folded = (
                    col.str.starts_with("{")
                    | col.str.starts_with("[")
                    | col.is_in(["true", "false"])
                )
                number = col.cast(pl.Float64, strict=False).is_not_null()
                if name in _NDJSON_IDS:  # an integer id is fine; a fractional one is not
                    number = number & col.cast(pl.Int64, strict=False).is_null()
                # polars reads an escaped lone surrogate (\ud800) as a NUL: json tells them apart
                nul = col.str.contains("\x00", literal=True)
                checks.append(folded | number | nul)
            elif not (dtype == pl.Null or (name in _NDJSON_IDS and dtype.is_integer())):
                checks.append(col.is_not_null())
        elif name == "mentions" and dtype == pl.List(pl.String):
            inner = col.list.explode().str.contains("\x00", literal=True)
            if frame.select(inner.any()).item():  # one flat pass; per row only when needed
                checks.append(
                    col.list.eval(pl.element().str.contains("\x00", literal=True)).list.any()
                )
        elif name == "mentions" and not (
            dtype == pl.Null
            or (
                isinstance(dtype, pl.List)
                and (dtype.inner in (pl.String, pl.Null) or dtype.inner.is_integer())
            )
        ):
            checks.append(col.is_not_null())
    if not checks:
        return np.empty(0, np.int64)
    mask = frame.select(pl.any_horizontal(checks).fill_null(False)).to_series()
    return mask.arg_true().to_numpy()


def _ndjson_type_problem(obj: dict) -> str | None:
    """Why the canonical values of one NDJSON object are of the wrong JSON type, or None.

    Ids are strings or integers, ``timestamp``/``action``/``text``/``platform``
    strings, ``mentions`` an array of account ids; any of them may be null.

    Examples
    --------
    >>> _ndjson_type_problem({"event_id": 7, "mentions": "m1|m2"})
    "mentions must be a JSON array of account ids, got string 'm1|m2'"
    """
    reasons = []
    for name in (*_NDJSON_IDS, *_NDJSON_TEXTS, "mentions"):
        value = obj.get(name)
        if value is None or isinstance(value, str) and name != "mentions":
            continue
        if name in _NDJSON_IDS and type(value) is int:
            continue
        if name == "mentions" and isinstance(value, list):
            if all(m is None or isinstance(m, str) or type(m) is int for m in value):
                continue
            what = "a JSON array of account ids (strings)"
        elif name == "mentions":
            what = "a JSON array of account ids"
        else:
            what = "a string id" if name in _NDJSON_IDS else "a string"
        shown = json.dumps(value, ensure_ascii=False)
        shown = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", shown)  # printable
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        kind = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
        reasons.append(f"{name} must be {what}, got {kind.get(type(value), 'object')} {shown}")
    for name in (*_NDJSON_IDS, *_NDJSON_TEXTS, "mentions"):
        value = obj.get(name)
        texts = value if isinstance(value, list) else [value]
        found = next((m for t in texts if isinstance(t, str) for m in _SURROGATE.findall(t)), None)
        if found is not None:  # no character: UTF-8 text (and the events table) cannot hold it
            reasons.append(f"lone surrogate \\u{ord(found):04x} in {name} (not Unicode text)")
    return "; ".join(reasons).replace('"', "'") or None


_SURROGATE = re.compile("[\ud800-\udfff]")
"""A UTF-16 surrogate code point: JSON can escape one alone (``\\ud800``), UTF-8 cannot hold it."""


def _first_wins(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose repeated keys keep their first value, as polars reads them.

    Examples
    --------
    >>> json.loads('{"a": 1, "b": 2, "a": 3}', object_pairs_hook=_first_wins)
    {'a': 1, 'b': 2}
    """
    obj: dict = {}
    for key, value in pairs:
        obj.setdefault(key, value)
    return obj


def _ndjson_line(text: str) -> dict | str:
    """One NDJSON line as an object, or (text) why it is not a well-typed JSON object.

    A key given twice keeps its first value, as on the lines polars reads (which
    lines those are depends on the rest of the file; the value must not).
    """
    try:
        obj = json.loads(text, object_pairs_hook=_first_wins)
    except json.JSONDecodeError as exc:
        return json_reason(exc.msg, f"column {exc.colno}")
    except (ValueError, RecursionError) as exc:  # over-long numbers, deep nesting
        return f"invalid JSON ({first_line(exc)})"
    if not isinstance(obj, dict):
        return "expected a JSON object on each line"
    return _ndjson_type_problem(obj) or obj


def _ndjson_value_problem(path: Path, layout: _textscan.Layout, index: int) -> str | None:
    data, _ = _textscan.record_bytes(path, layout, index)
    parsed = _ndjson_line(data.decode("utf-8"))
    return parsed if isinstance(parsed, str) else None


def _ndjson_python(
    path: Path, layout: _textscan.Layout, keep: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray, list[tuple[int, str]]]:
    """Every kept line read with :mod:`json` (when polars cannot be trusted with the file)."""
    data = path.read_bytes()
    bounds = np.append(layout.starts, layout.size).tolist()
    rows: list[dict] = []
    kept: list[int] = []
    bad: list[tuple[int, str]] = []
    other: set[str] = set()
    for index in keep.tolist():
        text = data[bounds[index] : bounds[index + 1]].decode("utf-8")
        obj = _ndjson_line(text)
        if isinstance(obj, str):  # why the line is bad
            bad.append((index, obj))
            continue
        kept.append(index)
        rows.append({k: _ndjson_value(k, v) for k, v in obj.items() if k in SCHEMA})
        other.update(k for k in obj if k not in SCHEMA)
    names = [c for c in SCHEMA if any(c in row for row in rows)]
    schema = {c: pl.List(pl.String) if c == "mentions" else pl.String for c in names}
    frame = pl.DataFrame(rows, schema=schema) if names else pl.DataFrame(height=len(rows))
    frame = frame.with_columns(pl.lit(None).alias(k) for k in sorted(other))  # not read, but named
    return frame, np.asarray(kept, dtype=np.int64), bad


def _ndjson_value(name: str, value: object) -> object:
    """A well-typed NDJSON value as text (ids given as integers) or a list of text."""
    if value is None:
        return None
    if name == "mentions" and isinstance(value, list):  # the type checks made it a list
        return [None if m is None else str(m) for m in value]
    return str(value)


def _timestamp_expr(dtype: pl.DataType) -> pl.Expr | None:
    """Expression turning the raw ``timestamp`` column into Datetime(us, UTC), or None if impossible."""
    col = pl.col("timestamp")
    if dtype == pl.String:
        text = (
            col.str.strip_chars()
            .str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
            .str.replace(r"[zZ]$", "+00:00")
            .str.replace(r"([+-]\d{2})$", "${1}:00")  # PostgreSQL writes +02, +00
        )
        return pl.coalesce(
            [
                text.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC")
                for f in _TS_FORMATS
            ]
        )
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    return None


def _mentions_expr(dtype: pl.DataType) -> pl.Expr | None:
    col = pl.col("mentions")
    if dtype == pl.String:
        return (
            pl.when(col.str.strip_chars().str.len_chars() > 0)
            .then(col.str.split("|").list.eval(pl.element().str.strip_chars()))
            .otherwise(pl.lit([], dtype=pl.List(pl.String)))
        )
    if dtype == pl.Null:
        return pl.lit([], dtype=pl.List(pl.String))
    if isinstance(dtype, pl.List) and (
        dtype.inner in (pl.String, pl.Null) or dtype.inner.is_integer()
    ):
        return col.cast(pl.List(pl.String)).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    return None


_ACTION_WORDS = {
    **dict.fromkeys(("like", "favorite", "favourite", "upvote", "vote", "react"), "reaction"),
    **dict.fromkeys(("comment", "answer", "response"), "reply"),
    **dict.fromkeys(("retweet", "repost", "reshare", "boost", "reblog"), "share"),
    **dict.fromkeys(("tweet", "toot", "status", "question", "submission"), "post"),
}
"""Platforms' words for the four actions, named in the message about an unknown action."""


def _action_hint(action: pl.Expr) -> pl.Expr:
    """What an unknown action likely is: ``": in lower case"``, ``": a like is a reaction"``, or ``""``.

    Only the action words of :data:`_ACTION_WORDS` (a platform's vocabulary, never an
    account's data) are repeated, unquoted: masking (``--pseudonymize``) hides the quoted
    value and keeps the hint.
    """
    word = action.str.strip_chars().str.to_lowercase()
    meant = word.replace_strict(_ACTION_WORDS, default=None, return_dtype=pl.String)
    return (
        pl.when(word.is_in(list(ACTIONS)))
        .then(pl.lit(": in lower case"))
        .when(meant.is_not_null())
        .then(pl.format(": a {} is a {}", word, meant))
        .otherwise(pl.lit(""))
    )


_SEPARATORS = {";": "';'", "\t": "tabs", "|": "'|'"}
"""Separators a spreadsheet may have used instead of commas, as a message names them."""


def _separator_hint(names: Sequence[str]) -> str | None:
    """Why a CSV header reads as one column holding the required names (else None).

    A spreadsheet set to another locale saves "CSV" separated by ``;`` (or tabs);
    read with commas, its header is one column and every required column is missing.

    Examples
    --------
    >>> _separator_hint(["event_id;timestamp;actor_id;action", "__line"])
    "the header is one column: its names are separated by ';', not by commas (save the file as comma-separated CSV)"
    >>> _separator_hint(["event_id", "timestamp"]) is None
    True
    """
    columns = [name for name in names if not name.startswith("__")]
    if len(columns) != 1:
        return None
    for separator, said in _SEPARATORS.items():
        parts = {part.strip() for part in columns[0].split(separator)}
        if set(REQUIRED_COLUMNS) <= parts:
            return (
                f"the header is one column: its names are separated by {said}, not by commas "
                "(save the file as comma-separated CSV)"
            )
    return None


def _header_reasons(names: Sequence[str], word: str = "column") -> tuple[list[str], set[str]]:
    """Columns a CSV header names twice, and names that look like a missing canonical column.

    Other columns (NDJSON keys: ``word="key"``) are not read, so a near miss
    (``mention``, ``Parent ID``) would lose its values without a word: it is a
    problem, with the name it resembles. polars names the repeats of a CSV column
    ``NAME_duplicated_N``. Also returns the canonical names the near misses resemble.

    Examples
    --------
    >>> reasons, meant = _header_reasons(["event_id", "Timestamp", "actor_id", "action", "mention"])
    >>> for reason in reasons:
    ...     print(reason)
    column 'Timestamp' is not read: did you mean 'timestamp'? (rename it, or remove it)
    column 'mention' is not read: did you mean 'mentions'? (rename it, or remove it)
    >>> sorted(meant)
    ['mentions', 'timestamp']
    >>> _header_reasons(["event_id", "actor_id", "actor_id_duplicated_0"])
    (["column 'actor_id' appears more than once in the header"], set())
    """
    columns = [name for name in names if not name.startswith("__")]
    derived = ("thread_id", "target_actor_id")  # derived anyway: a near miss loses nothing
    absent = [c for c in SCHEMA if c not in columns and c not in derived]
    reasons: list[str] = []
    meant: set[str] = set()
    for name in columns:
        repeat = re.fullmatch(r"(.+)_duplicated_\d+", name)
        if repeat and repeat.group(1) in columns:
            reason = f"column {repeat.group(1)!r} appears more than once in the header"
            reasons += [reason] if reason not in reasons else []
            continue
        if name in SCHEMA:
            continue
        key = re.sub(r"[\s-]+", "_", name.strip().lower())
        match = (
            key
            if key in absent
            else next(iter(difflib.get_close_matches(key, absent, 1, 0.75)), None)
        )
        if match is not None:
            meant.add(match)
            reasons.append(
                f"{word} {name!r} is not read: did you mean {match!r}? (rename it, or remove it)"
            )
    return reasons, meant


def _typed(raw: pl.DataFrame, source: str, unit: str) -> tuple[pl.DataFrame, list[Problem]]:
    """Coerce a raw file frame to canonical dtypes; report columns that cannot be coerced.

    Ids given as integers are accepted as strings (``text`` and ``platform``
    must be text, as in NDJSON). The frame returned keeps the raw
    strings of ``timestamp`` and ``action`` (as ``__raw_*``) for row-level messages.
    """
    header_line = 1 if unit == "line" and source.lower().endswith(".csv") else None
    problems = [
        Problem(source, header_line, reason, unit)
        for reason in _header_problems(raw.columns, unit, header_line)
    ]
    exprs: list[pl.Expr] = [pl.col(_LINE)]
    for name in SCHEMA:
        if name in raw.columns:
            typed, reason = _column_exprs(name, raw.schema[name])
            exprs += typed
            if reason is not None:
                problems.append(Problem(source, header_line, reason, unit))
    return raw.select(exprs), problems


def _header_problems(names: Sequence[str], unit: str, header_line: int | None) -> list[str]:
    """What is wrong with a file's column names: another separator, near misses, missing ones."""
    hint = _separator_hint(names) if header_line is not None else None
    if hint is not None:
        return [hint]
    word = "key" if unit == "line" and header_line is None else "column"
    reasons, meant = _header_reasons(names, word)  # meant: missing columns a near miss names
    required = ", ".join(REQUIRED_COLUMNS)
    return reasons + [
        f"missing required column {name!r} (required: {required})"
        for name in REQUIRED_COLUMNS
        if name not in names and name not in meant
    ]


def _column_exprs(name: str, have: pl.DataType) -> tuple[list[pl.Expr], str | None]:
    """The canonical column ``name`` from a raw one of dtype ``have``, or why it cannot be."""
    if name == "timestamp":
        expr = _timestamp_expr(have)
        if expr is None:
            what = (
                "timestamps without a time zone (expected UTC or an offset)"
                if isinstance(have, pl.Datetime)
                else f"type {have} (expected ISO-8601 text or a datetime with time zone)"
            )
            return [], f"column 'timestamp' has {what}"
        # the raw text is kept for messages; a datetime column cannot be malformed
        raw = [pl.col(name).alias("__raw_timestamp")] if have == pl.String else []
        return [expr.alias(name), *raw], None
    if name == "mentions":
        expr = _mentions_expr(have)
        if expr is None:
            return [], (
                f"column 'mentions' has type {have} (expected '|'-joined text or a list of strings)"
            )
        return [expr.alias(name)], None
    if name == "action":
        if _is_action_enum(have):  # every value is an action already: no text to check
            return [pl.col(name).cast(ACTION_DTYPE).alias("__raw_action")], None
        if have in (pl.String, pl.Categorical) or isinstance(have, pl.Enum):
            return [pl.col(name).cast(pl.String).str.strip_chars().alias("__raw_action")], None
        return [], f"column 'action' has type {have} (expected text)"
    if have in (pl.String, pl.Null) or isinstance(have, pl.Categorical):
        return [pl.col(name).cast(pl.String).alias(name)], None
    if have.is_integer() and name in _NDJSON_IDS:  # ids may be integers; text never a number
        return [pl.col(name).cast(pl.String).alias(name)], None
    return [], f"column {name!r} has type {have} (expected text)"


def _is_action_enum(dtype: pl.DataType) -> bool:
    """Whether ``dtype`` is an Enum whose categories are all actions (as our own Parquet files have).

    Examples
    --------
    >>> _is_action_enum(ACTION_DTYPE), _is_action_enum(pl.Enum(["post", "like"]))
    (True, False)
    """
    return isinstance(dtype, pl.Enum) and set(dtype.categories.to_list()) <= set(ACTIONS)


def _row_problems(frame: pl.DataFrame, source: str, unit: str) -> list[Problem]:
    """Row-level checks on a typed frame (all checks at once, vectorised)."""
    checks = _missing_checks(frame) + _value_checks(frame) + _nul_checks(frame)
    checks += _mention_checks(frame)
    if not checks:
        return []
    # one cheap pass finds the bad rows; messages are built for those rows only
    frame = frame.filter(pl.any_horizontal([c for c, _ in checks]).fill_null(False))
    if frame.is_empty():
        return []
    # one problem per row, with all its reasons (as a skipped record has them)
    reasons = (
        frame.select(
            pl.col(_LINE),
            pl.concat_list([pl.when(c).then(msg) for c, msg in checks])
            .list.drop_nulls()
            .alias("r"),
        )
        .filter(pl.col("r").list.len() > 0)
        .with_columns(pl.col("r").list.join("; "))
    )
    return [Problem(source, int(line), reason, unit) for line, reason in reasons.iter_rows()]


def _missing_checks(frame: pl.DataFrame) -> list[tuple[pl.Expr, pl.Expr]]:
    """(row is bad, reason) for each required column: null or blank is ``missing <column>``."""
    names = frame.columns
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    for name in REQUIRED_COLUMNS:
        if name == "action":
            name_raw = "__raw_action"
        elif name == "timestamp" and "__raw_timestamp" in names:
            name_raw = "__raw_timestamp"
        else:
            name_raw = name
        if name_raw in names:
            empty = pl.col(name_raw).is_null()
            if frame.schema[name_raw] == pl.String:
                empty = empty | _blank(pl.col(name_raw))
            checks.append((empty, pl.lit(f"missing {name}")))
    return checks


def _value_checks(frame: pl.DataFrame) -> list[tuple[pl.Expr, pl.Expr]]:
    """(row is bad, reason): a malformed timestamp, an unknown action, a parent that does not fit."""
    names = frame.columns
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    if "__raw_timestamp" in names:
        bad = pl.col("__raw_timestamp").is_not_null() & pl.col("timestamp").is_null()
        checks.append(
            (
                bad & (pl.col("__raw_timestamp").str.strip_chars() != ""),
                pl.format(
                    "malformed timestamp '{}' (expected ISO-8601 with an offset or Z, "
                    "e.g. 2024-05-01T12:00:00Z)",
                    pl.col("__raw_timestamp"),
                ),
            )
        )
    if "timestamp" in names:
        checks.append(_range_check(pl.col("timestamp"), names))
    if "__raw_action" not in names:
        return checks
    action = pl.col("__raw_action")
    if frame.schema["__raw_action"] == pl.String:  # an action Enum holds actions only
        unknown = action.is_not_null() & (action != "") & ~action.is_in(list(ACTIONS))
        expected = "unknown action '{}' (expected one of " + ", ".join(ACTIONS) + "{})"
        checks.append((unknown, pl.format(expected, action, _action_hint(action))))
    parent = pl.col("parent_id") if "parent_id" in names else pl.lit(None, dtype=pl.String)
    no_parent = parent.is_null() | _blank(parent)
    checks.append(
        (
            action.is_in(["reply", "share", "reaction"]) & no_parent,
            pl.format("{} without parent_id", action),
        )
    )
    checks.append(
        (
            (action == "post") & ~no_parent,
            pl.format(
                "post with parent_id '{}' (a post starts a thread; use reply or share)", parent
            ),
        )
    )
    return checks


_FIRST_TIME = datetime(1, 1, 1, tzinfo=UTC)
_LAST_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _range_check(ts: pl.Expr, names: Sequence[str]) -> tuple[pl.Expr, pl.Expr]:
    """(row is bad, reason): a time outside the years 1-9999 in UTC, as every reader refuses.

    Polars holds such times (``+10000-01-01T00:00:00Z``, ``0001-01-01T00:30:00+01:00``,
    any Parquet value), but Python's datetime, which the outputs are written with,
    does not: they failed late as an unexpected ``OverflowError``. The reason quotes
    the time as written (text), or as polars writes it (Parquet).
    """
    shown = (
        pl.col("__raw_timestamp")
        if "__raw_timestamp" in names
        else ts.dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")
    )
    return (
        (ts < _FIRST_TIME) | (ts > _LAST_TIME),
        pl.format("timestamp out of range '{}' (years 1 to 9999 in UTC)", shown),
    )


def _blank(text: pl.Expr) -> pl.Expr:
    r"""Whether text is empty or whitespace only.

    Stripping measured as fast as or faster than the regular expression ``^\s*$``
    over 10M ids (0.85-0.91 s against 0.96-1.22 s for three id columns).

    Examples
    --------
    >>> pl.select(_blank(pl.Series(["", " \t", "a ", None]))).to_series().to_list()
    [True, True, False, None]
    """
    return text.str.strip_chars() == ""


_EMPTY_MENTION = "empty mention (a mention names an account; in CSV, nothing between two '|')"
"""The reason a record with an empty mention is bad (every reader gives the same)."""


def _mention_checks(frame: pl.DataFrame) -> list[tuple[pl.Expr, pl.Expr]]:
    """A mention that is null or blank makes a bad row: a mention names an account.

    In CSV it is nothing between two ``|`` (``m1||m2``) or a ``|`` at either end; in
    Parquet and NDJSON an empty string or a null in the list. Loaded, it would count
    as mentioning someone (``mention_share``) while naming no one.

    Examples
    --------
    >>> f = pl.DataFrame({"mentions": [["a", ""], ["b"], [None]]})
    >>> f.select(_mention_checks(f)[0][0]).to_series().to_list()
    [True, False, True]
    >>> _mention_checks(pl.DataFrame({"mentions": [["a"], []]}))
    []
    """
    if frame.schema.get("mentions") != pl.List(pl.String):
        return []
    flat = pl.col("mentions").explode(keep_nulls=False)
    if not frame.select((flat.is_null() | _blank(flat)).any()).item():  # one flat pass first
        return []
    element = pl.element()
    empty = pl.col("mentions").list.eval(element.is_null() | _blank(element)).list.any()
    return [(empty, pl.lit(_EMPTY_MENTION))]


def _nul_checks(frame: pl.DataFrame) -> list[tuple[pl.Expr, pl.Expr]]:
    """A NUL byte in a text value (an id, the action, the text, a mention) makes a bad row.

    A NUL is binary data, not text: it corrupts every format the results are written
    in (GraphML, CSV) and is never part of an id. A file with one in its first 8 KiB is
    refused whole as binary; further in, the row that holds it is bad.
    """
    checks = []
    for name, dtype in frame.schema.items():
        shown = name.removeprefix("__raw_")
        if name.startswith("__") and not name.startswith("__raw_"):
            continue
        if dtype == pl.String:  # looked for in the bytes: the same answer, a third faster
            nul = pl.col(name).cast(pl.Binary).bin.contains(b"\x00")
        elif dtype == pl.List(pl.String):
            inner = pl.col(name).list.explode().str.contains("\x00", literal=True)
            if not frame.select(inner.any()).item():  # one flat pass; per row only when needed
                continue
            nul = pl.col(name).list.eval(pl.element().str.contains("\x00", literal=True)).list.any()
        else:
            continue
        checks.append((nul, pl.lit(f"NUL byte in {shown} (binary data, not text)")))
    return checks


def _duplicate_problems(frame: pl.DataFrame, spans: list[tuple[str, str, int]]) -> list[Problem]:
    """Duplicate ``event_id`` across all parts: every occurrence after the first.

    Rows of ``frame`` are the parts of ``spans`` (source, unit, rows) one after
    the other, in input order; ``__line`` numbers them within their part.
    """
    ids = frame.get_column("event_id").drop_nulls()
    if ids.hash(_HASH_SEED).n_unique() == ids.len():
        return []  # distinct hashes: distinct ids (the exact check below runs otherwise)
    dup = (
        frame.select("event_id", _LINE)
        .with_row_index("__row")
        .filter(pl.col("event_id").is_not_null() & pl.col("event_id").is_duplicated())
    )
    if dup.is_empty():
        return []
    dup = dup.with_columns(
        pl.col("__row").first().over("event_id").alias("first_row"),
        pl.col(_LINE).first().over("event_id").alias("first_line"),
        pl.int_range(pl.len()).over("event_id").alias("k"),
    ).filter(pl.col("k") > 0)
    ends = np.cumsum([n for _, _, n in spans])

    def part(row: int) -> tuple[str, str]:
        source, unit, _ = spans[int(np.searchsorted(ends, row, side="right"))]
        return source, unit

    out = []
    for event_id, row, line, first_row, first_at in dup.select(
        "event_id", "__row", _LINE, "first_row", "first_line"
    ).iter_rows():
        first_source, first_unit = part(first_row)
        where = str(Problem(first_source, int(first_at), "", first_unit))[:-2]
        source, unit = part(row)
        out.append(
            Problem(source, int(line), f"duplicate event_id '{event_id}' (first at {where})", unit)
        )
    return out


# --------------------------------------------------------------------------- derivation


def complete_events(events: pl.DataFrame, *, max_depth: int = MAX_THREAD_DEPTH) -> pl.DataFrame:
    """Conform, derive and sort a trusted events frame (as a reader's last step).

    Rows are sorted by ``timestamp`` then ``event_id``, so the same events give the
    same frame whatever their input order. Nothing is checked: use
    :func:`validate_events` for events from elsewhere.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> raw = pl.DataFrame({
    ...     "event_id": ["r1", "p1"],
    ...     "timestamp": [datetime(2024, 5, 1, 13, tzinfo=UTC), datetime(2024, 5, 1, 12, tzinfo=UTC)],
    ...     "actor_id": ["bob", "ann"], "action": ["reply", "post"], "parent_id": ["p1", None]})
    >>> events = complete_events(raw)
    >>> events.columns == list(SCHEMA)
    True
    >>> events.select("event_id", "thread_id", "target_actor_id").rows()
    [('p1', 'p1', None), ('r1', 'p1', 'ann')]
    """
    return sort_events(derive_threads(conform(events), max_depth=max_depth))


# --------------------------------------------------------------------------- validation


def _check_parts(
    parts: list[tuple[pl.DataFrame, str, str]], max_depth: int, *, consume: bool = False
) -> tuple[pl.DataFrame | None, list[Problem]]:
    """Type, row, duplicate and thread checks over typed parts (frame, source, unit).

    ``consume``: ``parts`` is emptied as it is read, so that the frames combined
    from it own their buffers. Rows are located by their position (which part)
    and ``__line``: no column of sources is added, whose chunks would differ from
    the data's and make polars copy the whole frame into aligned chunks.
    """
    problems: list[Problem] = []
    typed_parts: list[pl.DataFrame] = []
    spans: list[tuple[str, str, int]] = []  # source, unit and rows of each typed part
    items = list(parts)
    if consume:
        parts.clear()
    for order in range(len(items)):
        raw, source, unit = items[order]
        items[order] = None  # type: ignore[call-overload]  # the typed frame holds what it needs
        if raw.height == 0:
            problems.append(Problem(source, None, "no events (the input has no rows)"))
            continue
        typed, column_problems = _typed(raw, source, unit)
        problems += column_problems
        if column_problems:
            continue
        problems += _row_problems(typed, source, unit)
        typed_parts.append(typed)
        spans.append((source, unit, typed.height))
    if not typed_parts:
        return None, problems
    raw = typed = None  # type: ignore[assignment]  # let go of the last part's frames
    combined = pl.concat(typed_parts, how="diagonal_relaxed")
    typed_parts.clear()
    combined = _one_chunk(combined)  # e.g. a column only some parts have
    problems += _duplicate_problems(combined, spans)
    if problems:
        return None, problems
    combined = combined.with_columns(pl.col("__raw_action").cast(ACTION_DTYPE).alias("action"))
    keep = [c for c in combined.columns if not c.startswith("__")]
    lines = combined.get_column(_LINE)
    events = conform(combined.select(keep), platform="events")
    del combined
    events, cyc, deep = _derive(events, max_depth)
    if cyc.size or deep.size:
        problems += _derivation_problems(events, cyc, deep, max_depth, _where(lines, spans))
    return (None if problems else events), problems


def _where(lines: pl.Series, spans: list[tuple[str, str, int]]) -> pl.DataFrame:
    """Source, line and unit of every row of parts combined in ``spans`` order."""
    sizes = [n for _, _, n in spans]
    return pl.DataFrame(
        {
            _SOURCE: np.repeat([source for source, _, _ in spans], sizes),
            _LINE: lines,
            "__unit": np.repeat([unit for _, unit, _ in spans], sizes),
        }
    )


def validate_events(
    frame: pl.DataFrame, *, source: str = "<frame>", max_depth: int = MAX_THREAD_DEPTH
) -> list[Problem]:
    """Every problem with an events frame, located by row number (1-based), one per row.

    Checks: required columns present and of a usable type; no missing
    ``event_id``/``timestamp``/``actor_id``/``action``; timestamps parse (text
    must carry an offset or ``Z``); ``action`` is one of :data:`ACTIONS`;
    reply/share/reaction have a ``parent_id`` and posts do not; ``event_id`` is
    unique; no ``parent_id`` chain forms a cycle or is deeper than ``max_depth``.

    Parameters
    ----------
    frame : polars.DataFrame
        Events in canonical columns; text columns may still be raw strings.
    source : str
        Name used in the messages.
    max_depth : int
        Longest parent chain accepted.

    Returns
    -------
    list of Problem
        Empty when the frame is valid.

    Examples
    --------
    >>> df = pl.DataFrame({"event_id": ["a", "a"], "timestamp": ["2024-01-01T00:00:00Z", "yesterday"],
    ...                    "actor_id": ["u", "v"], "action": ["post", "like"]})
    >>> for p in validate_events(df, source="mine"):
    ...     print(p)
    mine:row 2: duplicate event_id 'a' (first at mine:row 1); malformed timestamp 'yesterday' (expected ISO-8601 with an offset or Z, e.g. 2024-05-01T12:00:00Z); unknown action 'like' (expected one of post, reply, share, reaction: a like is a reaction)
    """
    _in_memory(frame, "frame")
    raw = frame.with_row_index(_LINE, offset=1)
    _, problems = _check_parts([(raw, source, "row")], max_depth)
    return one_per_record(problems)


def read_events(
    paths: str | Path | Iterable[str | Path],
    *,
    format: str | None = None,
    max_depth: int = MAX_THREAD_DEPTH,
    progress: bool = False,
) -> pl.DataFrame:
    r"""Read canonical events from CSV, Parquet or NDJSON files, validated and completed.

    Parameters
    ----------
    paths : path or iterable of paths
        One or more files; the format comes from the suffix (``.csv``,
        ``.parquet``, ``.ndjson``/``.jsonl``) unless ``format`` is given.
    format : {"csv", "parquet", "ndjson"}, optional
        Force one format for all files.
    max_depth : int
        Longest ``parent_id`` chain followed when deriving threads.
    progress : bool
        Show a progress bar over the files on stderr.

    Returns
    -------
    polars.DataFrame
        Events with exactly :data:`SCHEMA`, ``thread_id`` and
        ``target_actor_id`` derived, sorted by ``timestamp`` then ``event_id``.

    Raises
    ------
    EventsError
        With every problem found, as ``FILE:LINE: reason``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text("event_id,timestamp,actor_id,action,parent_id,mentions,text\n"
    ...                     "r,2024-01-01T10:05:00Z,bob,reply,p,ann,hi\n"
    ...                     "p,2024-01-01T10:00:00+01:00,ann,post,,,hello\n")
    >>> read_events(path).select("event_id", "action", "thread_id", "target_actor_id").rows()
    [('p', 'post', 'p', None), ('r', 'reply', 'p', 'ann')]
    """
    from tqdm import tqdm

    if isinstance(paths, str | Path):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no input files given")
    parts: list[tuple[pl.DataFrame, str, str]] = []
    problems: list[Problem] = []
    for path in tqdm(paths, desc="reading", unit="file", disable=not progress or None, leave=False):
        try:
            fmt = _format_of(path, format)
            if fmt == "parquet":
                raw, unit = _read_raw(path, fmt)
            else:  # malformed records are reported with the others, in line order
                _check_file(path)
                raw, _, bad = _read_text(path, fmt, lenient=False)
                unit, problems = "line", problems + bad
                if bad and not raw.height:
                    continue
        except EventsError as exc:
            problems += exc.problems
            continue
        parts.append((raw, str(path), unit))
    raw = None  # type: ignore[assignment]  # the parts alone hold the raw frames (_check_parts lets go of them)
    events, found = _check_parts(parts, max_depth, consume=True)
    problems += found
    if problems or events is None:
        raise EventsError(problems)
    return _sorted_owned(events)


def sort_events(events: pl.DataFrame) -> pl.DataFrame:
    """Events sorted by ``timestamp`` then ``event_id`` (returned as they are when already so).

    Exports and our own files are usually in time order already: checking costs a
    small fraction of sorting.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ev = conform(pl.DataFrame({"event_id": ["b", "a"], "timestamp": [t, t],
    ...     "actor_id": ["u", "u"], "action": ["post", "post"]}), platform="events")
    >>> sort_events(ev)["event_id"].to_list()
    ['a', 'b']
    """
    if _in_time_order(events):
        return events
    return events.sort("timestamp", "event_id", maintain_order=True)


def _in_time_order(events: pl.DataFrame) -> bool:
    """Whether rows already run by ``timestamp`` then ``event_id`` (one cheap pass)."""
    ts, eid = pl.col("timestamp"), pl.col("event_id")
    step = ts.diff()
    zero = pl.duration(microseconds=0)
    in_order = (step > zero) | ((step == zero) & (eid > eid.shift()))
    return events.height < 2 or bool(events.select(in_order.slice(1).all()).item())


def _time_order(events: pl.DataFrame) -> pl.Series:
    """Row order by ``timestamp`` then ``event_id``: one integer sort, then ties by id.

    Sorting by the timestamps alone is several times cheaper in time and memory
    than sorting by both columns; only the rows in runs of equal timestamps are
    then ordered by ``event_id``.
    """
    ts = events.get_column("timestamp")
    order = ts.arg_sort()
    in_time = ts.gather(order)
    tie = in_time == in_time.shift(1)
    runs = tie | tie.shift(-1)
    if not runs.any():
        return order
    pos = runs.arg_true()
    rows = order.gather(pos)
    ties = pl.DataFrame(
        {"row": rows, "ts": in_time.gather(pos), "id": events.get_column("event_id").gather(rows)}
    ).sort("ts", "id")
    return order.scatter(pos, ties.get_column("row"))


def _sorted_owned(events: pl.DataFrame) -> pl.DataFrame:
    """:func:`sort_events` of a frame nothing else holds, one column at a time.

    ``events`` is consumed: each column is reordered and its old copy released
    before the next, so sorting costs one column of extra memory instead of a
    second frame; a frame already in order only gets its columns chunked alike
    (see :func:`_one_chunk`).
    """
    if _in_time_order(events):
        return _one_chunk(events)
    order = _time_order(events)
    # one chunk first: a list column spread over chunks gathers badly
    return _column_by_column(events, lambda column: column.rechunk().gather(order))


def write_events(events: pl.DataFrame, path: str | Path) -> Path:
    """Write events in the canonical form chosen by the suffix (CSV, Parquet, NDJSON).

    CSV timestamps are written as ISO-8601 UTC with ``Z`` and microseconds,
    ``mentions`` joined with ``|``. Output is byte-identical for equal frames.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from datetime import datetime, timezone
    >>> ev = conform(pl.DataFrame({"event_id": ["a"], "timestamp": [datetime(2024, 1, 1, tzinfo=timezone.utc)],
    ...                            "actor_id": ["u"], "action": ["post"], "mentions": [["v", "w"]]}), platform="events")
    >>> out = write_events(ev, pathlib.Path(tempfile.mkdtemp()) / "e.csv")
    >>> out.read_text().splitlines()[1]
    'a,2024-01-01T00:00:00.000000Z,u,post,,,,v|w,,events'
    """
    path = Path(path)
    fmt = _format_of(path, None)
    frame = conform(events)
    if fmt == "parquet":
        frame.write_parquet(path, compression="zstd", statistics=False)
    elif fmt == "csv":
        _check_csv_mentions(frame, path)
        frame.with_columns(
            pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ"),
            pl.col("mentions").list.join("|"),
        ).write_csv(path)
    else:
        frame.with_columns(pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ")).write_ndjson(
            path
        )
    return path


def _check_csv_mentions(frame: pl.DataFrame, path: Path) -> None:
    """Refuse a mention the CSV form cannot hold, before writing anything.

    CSV joins an event's mentions with ``|`` and a reader splits and trims them, so a
    mention holding ``|``, starting or ending with white space, or empty would come back
    as another one. (No real export has one; Parquet and NDJSON hold any.)

    Examples
    --------
    >>> f = pl.DataFrame({"event_id": ["e1"], "mentions": [["ann", "a|b"]]})
    >>> _check_csv_mentions(f, Path("out.csv"))
    Traceback (most recent call last):
    ...
    ValueError: out.csv: mention 'a|b' of event 'e1' cannot be written as CSV (mentions are joined with '|' and trimmed when read): write Parquet or NDJSON
    """
    one = pl.element()
    odd = one.str.contains("|", literal=True) | (one.str.strip_chars() != one) | (one == "")
    bad = frame.filter(pl.col("mentions").list.eval(odd).list.any().fill_null(False))
    if bad.is_empty():
        return
    event, mentions = bad.select("event_id", "mentions").row(0)
    odd_ones = (m for m in mentions if m is not None and ("|" in m or m.strip() != m or not m))
    mention = next(odd_ones, mentions[0])
    raise ValueError(
        f"{path}: mention {mention!r} of event {event!r} cannot be written as CSV (mentions "
        "are joined with '|' and trimmed when read): write Parquet or NDJSON"
    )


def summarize_events(events: pl.DataFrame) -> dict[str, object]:
    """Rows per action, distinct actors, time span, and the share of orphan replies.

    ``orphan_reply_share`` is the share of replies whose ``parent_id`` is not in
    the data (partial exports); null when there are no replies. ``early_replies``
    counts the replies dated before their parent (senders' clocks: e-mail ``Date``
    headers), which ``reply_latency_h`` counts as answered at once. ``mentions``
    counts the ids mentioned, ``known_mention_share`` the share of them that are an
    ``actor_id`` of the data (null without mentions), and ``prefixed_mentions`` those
    that are one only once a leading ``@`` is removed (ids written two ways).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ev = derive_threads(conform(pl.DataFrame({"event_id": ["p", "r", "s"], "timestamp": [t] * 3,
    ...     "actor_id": ["a", "b", "c"], "action": ["post", "reply", "reply"],
    ...     "parent_id": [None, "p", "elsewhere"]}), platform="events"))
    >>> s = summarize_events(ev)
    >>> s["rows"], s["actions"]["reply"], s["actors"], s["orphan_reply_share"]
    (3, 2, 3, 0.5)
    """
    _in_memory(events, "events")
    counts = dict.fromkeys(ACTIONS, 0)
    for action, n in events.group_by("action").len().iter_rows():
        counts[str(action)] = int(n)
    replies = events.filter(pl.col("action") == "reply").select("parent_id", "timestamp")
    parents = events.select(pl.col("event_id").alias("parent_id"), pl.col("timestamp").alias("at"))
    orphan = replies.join(parents, on="parent_id", how="anti")
    early = replies.join(parents, on="parent_id").filter(pl.col("timestamp") < pl.col("at"))
    span = events.select(
        pl.col("timestamp").min().alias("a"), pl.col("timestamp").max().alias("b")
    ).row(0)
    mentioned = events.select(pl.col("mentions").explode().drop_nulls().alias("m"))
    actors = events.select(pl.col("actor_id").unique().alias("m"))
    unknown = mentioned.join(actors, on="m", how="anti")
    prefixed = unknown.filter(pl.col("m").str.starts_with("@")).select(pl.col("m").str.slice(1))
    return {
        "rows": events.height,
        "actions": counts,
        "actors": events.get_column("actor_id").n_unique(),
        "first": span[0],
        "last": span[1],
        "orphan_reply_share": (orphan.height / replies.height) if replies.height else None,
        "early_replies": early.height,
        "mentions": mentioned.height,
        "known_mention_share": 1 - unknown.height / mentioned.height if mentioned.height else None,
        "prefixed_mentions": prefixed.join(actors, on="m", how="semi").height,
        "platforms": sorted(events.get_column("platform").unique().drop_nulls().to_list()),
    }


# --------------------------------------------------------------------------- frames given in Python

_ID_COLUMNS = ("event_id", "actor_id", "parent_id", "thread_id", "target_actor_id")


def usable_events(
    events: pl.DataFrame | pl.LazyFrame,
    columns: Sequence[str] = tuple(SCHEMA),
    *,
    what: str = "events",
) -> pl.DataFrame | pl.LazyFrame:
    """``events`` with ``columns`` in their canonical dtypes, or a ValueError naming the column.

    The functions that take an events frame from a notebook call this first, so that a
    frame not of :data:`SCHEMA` is one clear error, never polars' error from deep inside
    or a result that differs from the canonical frame's. Read as the files are
    (:func:`read_events`): a timestamp in another time zone or unit is the same instant
    in microseconds UTC; integer or categorical ids are text; an ``action`` of text or
    a categorical is the Enum, every value an action. Columns not in ``columns`` are
    left as they are.

    Raises
    ------
    TypeError
        When ``events`` is not a polars DataFrame or LazyFrame.
    ValueError
        Naming each missing column, a column of a type that cannot be read
        (timestamps as text or without a time zone, text as numbers), or an unknown action.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> df = pl.DataFrame({"event_id": [1], "timestamp": [datetime(2024, 1, 1, tzinfo=timezone.utc)],
    ...                    "actor_id": ["u1"], "action": ["post"]})
    >>> usable_events(df, REQUIRED_COLUMNS).schema == pl.Schema(list(SCHEMA.items())[:4])
    True
    >>> usable_events(df.drop("action"), REQUIRED_COLUMNS)
    Traceback (most recent call last):
    ...
    ValueError: events lack column 'action' (have: event_id, timestamp, actor_id): canonical events as read_events or complete_events return them
    """
    if not isinstance(events, pl.DataFrame | pl.LazyFrame):
        raise TypeError(
            f"{what} must be a polars DataFrame or LazyFrame, not {type(events).__name__}"
        )
    have = events.lazy().collect_schema()
    missing = [c for c in columns if c not in have]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise ValueError(
            f"{what} lack column{'s' if len(missing) > 1 else ''} {names} "
            f"(have: {', '.join(have.names()) or 'none'}): canonical events as "
            "read_events or complete_events return them"
        )
    exprs = [_usable_expr(name, have[name], what) for name in columns]
    changed = [e for e in exprs if e is not None]
    if "action" in columns and have["action"] != ACTION_DTYPE:
        _check_actions(events, what)
    return events.with_columns(changed) if changed else events


def _usable_expr(name: str, dtype: pl.DataType, what: str) -> pl.Expr | None:
    """The cast that makes column ``name`` canonical (None when it is), or a ValueError."""
    want = SCHEMA[name]
    if dtype == want or dtype == pl.Null:
        return None if dtype == want else pl.col(name).cast(want)
    col = pl.col(name)
    if name == "timestamp" and isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if name == "action" and (dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)):
        return col.cast(pl.String).cast(ACTION_DTYPE)
    if name in _ID_COLUMNS and (dtype.is_integer() or dtype == pl.Categorical):
        return col.cast(pl.String)
    if name in ("text", "platform") and dtype == pl.Categorical:
        return col.cast(pl.String)
    if (
        name == "mentions"
        and isinstance(dtype, pl.List)
        and dtype.inner in (pl.Null, pl.Categorical)
    ):
        return col.cast(want)
    if name == "timestamp" and isinstance(dtype, pl.Datetime):
        why = "timestamps without a time zone (give UTC: .dt.replace_time_zone('UTC'))"
    else:
        why = f"type {dtype} (expected {want})"
    raise ValueError(f"{what} column {name!r} has {why}")


def _check_actions(events: pl.DataFrame | pl.LazyFrame, what: str) -> None:
    """Refuse an ``action`` value that is not one of :data:`ACTIONS` (or null)."""
    action = pl.col("action").cast(pl.String)
    unknown = (
        events.lazy()
        .select(action.filter(action.is_not_null() & ~action.is_in(list(ACTIONS))).first())
        .collect()
        .item()
    )
    if unknown is not None:
        raise ValueError(
            f"{what} column 'action' has the unknown action {unknown!r} "
            f"(expected one of {', '.join(ACTIONS)})"
        )


def leader_ids(leaders: Iterable[str]) -> list[str]:
    """``leaders`` sorted, each once: any iterable of account ids (list, tuple, set, Series).

    Raises
    ------
    TypeError
        When ``leaders`` is a single string (one leader is ``["ann"]``), or holds
        something that is not an id (None, a number).

    Examples
    --------
    >>> leader_ids(pl.Series(["b", "a", "b"]))
    ['a', 'b']
    >>> leader_ids(["ann", None])
    Traceback (most recent call last):
    ...
    TypeError: leaders must be actor ids (strings): got None (NoneType)
    """
    if isinstance(leaders, str):  # else sorted(set("ann")) would measure 'a' and 'n'
        raise TypeError(f"leaders must be a sequence of actor ids, not the string {leaders!r}")
    if isinstance(leaders, pl.DataFrame | pl.LazyFrame) or not isinstance(leaders, Iterable):
        raise TypeError(f"leaders must be a sequence of actor ids, not a {type(leaders).__name__}")
    ids = list(leaders)
    odd = next((leader for leader in ids if not isinstance(leader, str)), ids)
    if odd is not ids:
        raise TypeError(f"leaders must be actor ids (strings): got {odd!r} ({type(odd).__name__})")
    return sorted(set(ids))


def whole_number(value: object, name: str) -> int:
    """``value`` (the argument ``name``) as an int, or a TypeError naming the argument.

    Examples
    --------
    >>> whole_number(np.int64(3), "top")
    3
    >>> whole_number("3", "top")
    Traceback (most recent call last):
    ...
    TypeError: top must be a whole number, not str '3'
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, not {type(value).__name__} {value!r}")
    return int(value)


def _in_memory(frame: object, name: str) -> None:
    """Refuse what is not a polars DataFrame, naming the argument ``name``."""
    if isinstance(frame, pl.LazyFrame):
        raise TypeError(f"{name} must be a polars DataFrame, not a LazyFrame: .collect() it first")
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"{name} must be a polars DataFrame, not {type(frame).__name__}")
