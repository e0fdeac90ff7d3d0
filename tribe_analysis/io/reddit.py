"""Reddit exports: comment and submission objects (Reddit API, PRAW, Pushshift) as events.

Accepted input: JSON lines (also a JSON array, or ``{"kind": "t1", "data": {...}}``
thing wrappers) of comments and submissions with ``name`` (``t1_<id>`` comment,
``t3_<id>`` submission) or ``id``, ``parent_id`` and ``link_id`` (``t1_``/``t3_``
fullnames), ``author`` (Reddit API, Pushshift) or ``author_name`` (the PRAW-based
r/ChangeMyView sample), ``created_utc`` (epoch seconds) and ``body`` or
``title``/``selftext``.

Mapping: a submission is a ``post`` (a crosspost, ``crosspost_parent``, is a
``share`` of the original submission); a comment is a ``reply`` to ``parent_id``
with ``thread_id`` = ``link_id`` (the submission). Event ids are fullnames
(``t1_abc``, ``t3_xyz``) so ``parent_id`` points straight at them. The actor is the
user name (Reddit names cannot be changed, so they are stable ids). A deleted
account (``"[deleted]"`` or an empty author) is kept with actor ``"[deleted]"``:
that is **not** one account, so exclude :data:`DELETED` from per-account measures.
Reddit has no typed mentions (``u/name`` is plain text) and votes given are private.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import overload

from tribe_analysis.io._base import ReadResult, RecordError, Sink, _as_paths, _check_paths, finish
from tribe_analysis.io._json import (
    _add_record,
    _epoch_time,
    _first_json_object,
    _json_records,
    _json_type,
    _opt_text,
    _row,
)

__all__ = ["DELETED", "NAME", "OBSERVABILITY", "read", "sniff"]

NAME = "reddit"
OBSERVABILITY = {"post": True, "reply": True, "share": False, "reaction": False, "mention": False}
"""Submissions and comments are public; votes given are private; there is no repost
(crossposts are mapped to ``share`` when present, but comment dumps rarely hold them)."""

DELETED = "[deleted]"
"""``actor_id`` of items whose account was deleted (many people, not one account)."""

_KINDS = {"t1": "comment", "t3": "submission"}


def _unwrap(obj: Mapping) -> tuple[Mapping, str | None]:
    """``{"kind": "t1", "data": {...}}`` -> (data, "t1"); a bare object -> (obj, None)."""
    kind = obj.get("kind")
    if isinstance(kind, str) and isinstance(obj.get("data"), dict):
        return obj["data"], kind
    return obj, None


def _is_item(obj: Mapping) -> bool:
    obj, kind = _unwrap(obj)
    if kind is not None:
        return kind in _KINDS
    name = obj.get("name")
    if isinstance(name, str) and name[:3] in ("t1_", "t3_") and "created_utc" in obj:
        return True
    return (
        "id" in obj
        and "created_utc" in obj
        and ("author" in obj or "author_name" in obj)
        and any(k in obj for k in ("subreddit", "link_id", "parent_id", "permalink"))
    )


def sniff(path: Path) -> bool:
    """A Reddit export: the first record is a comment or submission object."""
    obj = _first_json_object(Path(path))
    return obj is not None and _is_item(obj)


@overload
def _fullname(value: object, field: str) -> str: ...
@overload
def _fullname(value: object, field: str, *, allow_empty: bool) -> str | None: ...
def _fullname(value: object, field: str, *, allow_empty: bool = False) -> str | None:
    """A ``t1_``/``t3_`` fullname field (None when empty and allowed)."""
    if value is None or value == "":
        if allow_empty:
            return None
        raise RecordError(f"missing {field}")
    if not isinstance(value, str):
        raise RecordError(f"{field} must be a t1_/t3_ fullname string, got {_json_type(value)}")
    if value[:3] not in ("t1_", "t3_") or len(value) <= 3:
        raise RecordError(f"{field} {value!r} is not a t1_ (comment) or t3_ (submission) fullname")
    return value


def _identity(item: Mapping, kind: str | None) -> tuple[str, str]:
    """(fullname, "t1" or "t3") of a comment or submission."""
    if kind is not None and kind not in _KINDS:
        raise RecordError(f"not a comment or submission (kind {kind!r})")
    name = item.get("name")
    if name is not None and name != "":
        if not isinstance(name, str):
            raise RecordError(f"name must be a t1_/t3_ fullname string, got {_json_type(name)}")
        if name[:3] not in ("t1_", "t3_"):
            raise RecordError(f"not a comment or submission (name {name!r})")
        return _fullname(name, "name"), name[:2]
    rid = item.get("id")
    if rid is None or rid == "":
        raise RecordError("missing id (and no name)")
    if not isinstance(rid, str):
        raise RecordError(f"id must be a string, got {_json_type(rid)}")
    if rid[:3] in ("t1_", "t3_"):  # already a fullname: checked as a name is
        return _fullname(rid, "id"), rid[:2]
    if kind is None:
        if item.get("parent_id"):
            kind = "t1"
        elif any(k in item for k in ("title", "selftext", "num_comments", "is_self")):
            kind = "t3"
        else:
            raise RecordError(
                "cannot tell a comment from a submission (no name, parent_id or title)"
            )
    return f"{kind}_{rid}", kind


def _actor(item: Mapping) -> str:
    for field in ("author", "author_name"):
        if field in item:
            value = item[field]
            if value is None or value == "" or value == DELETED:
                return DELETED
            if not isinstance(value, str):
                raise RecordError(f"{field} must be a user name string, got {_json_type(value)}")
            return value
    raise RecordError("missing author (or author_name)")


def _row_of(obj: Mapping, path: Path, line: int, raw: str) -> dict:
    item, kind = _unwrap(obj)
    if not _is_item(obj) and kind is None and "name" not in item and "created_utc" not in item:
        keys = ", ".join(sorted(item)[:8]) or "none"
        raise RecordError(
            "not a Reddit comment or submission (expected name/id, created_utc, author, "
            f"parent_id/link_id; found keys: {keys})"
        )
    eid, kind = _identity(item, kind)
    stamp = _epoch_time(item, "created_utc")
    actor = _actor(item)
    fields: dict = {"event_id": eid, "timestamp": stamp, "actor_id": actor}
    if kind == "t1":
        parent = _fullname(item.get("parent_id"), "parent_id")
        link = _fullname(item.get("link_id"), "link_id", allow_empty=True)
        if link is None and parent.startswith("t3_"):
            link = parent
        if link is not None and not link.startswith("t3_"):
            raise RecordError(f"link_id {link!r} is not a t3_ (submission) fullname")
        fields |= {
            "action": "reply",
            "parent_id": parent,
            "thread_id": link,
            "text": _opt_text(item, "body"),
        }
    else:
        title = _opt_text(item, "title") or ""
        body = _opt_text(item, "selftext")
        if body is None:
            body = _opt_text(item, "body")
        text = "\n\n".join(part for part in (title, body) if part) or None
        crosspost = _fullname(item.get("crosspost_parent"), "crosspost_parent", allow_empty=True)
        if crosspost is not None:
            fields |= {"action": "share", "parent_id": crosspost, "text": text}
        else:
            fields |= {"action": "post", "thread_id": eid, "text": text}
    return _row(path, line, raw, **fields)


def read(paths: Sequence[Path], *, on_error: str = "strict") -> ReadResult:
    r"""Read Reddit comment/submission JSON files into canonical events.

    The same item in several files (overlapping samples or dumps) is loaded once;
    each later copy is reported in ``skipped`` as ``duplicate id``.

    Parameters
    ----------
    paths : sequence of Path
        Files of comments and submissions (see the module docstring).
    on_error : {"strict", "skip"}
        Stop at the first malformed record, or quarantine it and go on.

    Raises
    ------
    EventsError
        A malformed record (strict), or a path that is missing, a directory,
        unreadable or empty (both modes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rc.jsonl"
    >>> _ = p.write_text(
    ...     '{"name": "t3_a", "author": "op", "created_utc": 1500000000, "title": "CMV"}\n'
    ...     '{"name": "t1_b", "author": "", "created_utc": 1500000060, "parent_id": "t3_a", '
    ...     '"link_id": "t3_a", "body": "no"}\n')
    >>> read([p]).events.select("event_id", "actor_id", "action", "thread_id", "target_actor_id").rows()
    [('t3_a', 'op', 'post', 't3_a', None), ('t1_b', '[deleted]', 'reply', 't3_a', 'op')]
    """
    paths = _as_paths(paths)
    sink = Sink(on_error)
    _check_paths(paths, "Reddit")
    for path in paths:
        for line, raw, obj in _json_records(path, sink):
            _add_record(sink, path, line, raw, partial(_row_of, obj, path, line, raw))
    return finish(sink, NAME, OBSERVABILITY, sources=[str(p) for p in paths])
