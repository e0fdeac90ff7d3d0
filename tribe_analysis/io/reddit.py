"""Reddit exports: comment and submission objects (Reddit API, PRAW, Pushshift) as events.

Accepted input: JSON lines (also a JSON array, ``{"kind": "t1", "data": {...}}``
thing wrappers, and API ``Listing`` responses with the comments nested in
``replies``: :func:`_things`) of comments and submissions with ``name`` (``t1_<id>`` comment,
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

import json
from collections.abc import Iterator, Mapping, Sequence
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
    if kind == "Listing":  # an API response: recognised by its first child
        children = obj.get("children")
        first = children[0] if isinstance(children, list) and children else None
        return isinstance(first, dict) and _is_item(first)
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
    """``author``, else ``author_name``; ``[deleted]`` when neither names someone.

    Examples
    --------
    >>> _actor({"author": "", "author_name": "bob"}), _actor({"author": None})
    ('bob', '[deleted]')
    """
    given = [field for field in ("author", "author_name") if field in item]
    if not given:
        raise RecordError("missing author (or author_name)")
    for field in given:
        value = item[field]
        if value is not None and not isinstance(value, str):
            raise RecordError(f"{field} must be a user name string, got {_json_type(value)}")
        if value not in (None, "", DELETED):
            return value
    return DELETED


def _things(obj: Mapping, raw: str) -> Iterator[tuple[str, Mapping]]:
    """The comments and submissions a record holds, each with its text, in reading order.

    A record is one item, or an API ``Listing`` (``{"kind": "Listing", "data":
    {"children": [...]}}``, as ``reddit.com/….json`` and the API return them) whose
    children are items; a comment's ``replies`` is a Listing of the comments under
    it. Nested items come depth first, each with its own JSON as its text (the
    record's line is theirs). ``more`` stubs name comments the API did not send:
    they are not in the data. A malformed Listing comes back as it is, to be reported.
    """
    stack: list[tuple[str, Mapping]] = [(raw, obj)]
    while stack:
        text, thing = stack.pop()
        item, kind = _unwrap(thing)
        if kind == "more":
            continue
        children = _children(thing)  # a well-formed Listing's
        if children is None:  # an item (then the comments under it), or a bad Listing
            yield text, thing
            children = _children(item.get("replies"))
        nested = [(json.dumps(child, ensure_ascii=False), child) for child in children or ()]
        stack.extend(reversed(nested))


def _children(value: object) -> list[dict] | None:
    """The children of a well-formed Listing (an array of objects), else None."""
    if not isinstance(value, Mapping):
        return None
    data, kind = _unwrap(value)
    children = data.get("children")
    if kind != "Listing" or not isinstance(children, list):
        return None
    return children if all(isinstance(c, dict) for c in children) else None


def _check_listings(item: Mapping, kind: str | None) -> None:
    """A malformed Listing, or a ``replies`` that is not one, is a bad record."""
    if kind == "Listing":
        raise RecordError("Listing whose data.children is not an array of objects")
    replies = item.get("replies")
    if replies not in (None, "") and _children(replies) is None:
        raise RecordError(f"replies must be a Listing of comments, got {_json_type(replies)}")


def _row_of(obj: Mapping, path: Path, line: int, raw: str) -> dict:
    item, kind = _unwrap(obj)
    _check_listings(item, kind)
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
            for text, thing in _things(obj, raw):
                _add_record(sink, path, line, text, partial(_row_of, thing, path, line, text))
    return finish(sink, NAME, OBSERVABILITY, sources=[str(p) for p in paths])
