r"""Bluesky (AT Protocol): records, post and feed views, Jetstream events, and flat post tables.

Input files
-----------
JSON lines (``.ndjson``, ``.jsonl``, ``.json``), one object per line, of any of:

- a record as ``com.atproto.repo.listRecords``/``getRecord`` return it:
  ``{"uri", "cid", "value": {"$type": "app.bsky.feed.post" | "app.bsky.feed.repost" | "app.bsky.feed.like", ...}}``;
- a post view (``getPosts``, ``searchPosts``): ``{"uri", "author": {"did"}, "record": {...}}``;
- a feed item (``getAuthorFeed``, ``getTimeline``): ``{"post": <post view>, "reply": {...}, "reason": {...}}``;
- a Jetstream event: ``{"did", "kind": "commit", "commit": {"operation": "create", "collection", "rkey", "record"}}``;
- a flat post table row (as collected by research notebooks): ``{"uri", "created_at", "is_reply", ...}``.

Flat post tables are also read from Parquet (``.parquet``) and CSV (``.csv``) files;
in CSV, ``mentions`` holds DIDs joined with ``|`` (as in the canonical events CSV).

Mapping
-------
Event ids are ``at://`` URIs. The actor is a DID: the author's when the data
gives it, else the authority of the record's ``at://<did>/...`` URI. A post with
``reply`` is a reply to ``reply.parent.uri`` in thread ``reply.root.uri``; a post
embedding another post (``app.bsky.embed.record``/``recordWithMedia``) is a quote
(share, with text); reposts are shares and likes reactions of ``subject.uri``.
The parent's author is the authority of the parent's URI. Mentions are the DIDs of
``app.bsky.richtext.facet#mention`` facets. A flat table row knows only
``is_reply``: a reply's parent is unknown, so it points at
``unknown-parent-of:<uri>`` (an orphan reply).

Records of other kinds (follows, blocks, profiles, lists, deletions, identity
events) are not interactions: they are ignored and not counted as records.

Handles (``nytimes.com``) are names, not ids: they can change and be reused, so
events keep the DID; :attr:`ReadResult.names` (collected while reading) and
:func:`account_names` give the handles for reports.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import polars as pl

from tribe_analysis import events as ev
from tribe_analysis.errors import first_line
from tribe_analysis.io._base import (
    ReadResult,
    RecordError,
    Sink,
    finish,
    head_problem,
    iter_csv_records,
    iter_json_lines,
    utc,
)

__all__ = ["NAME", "OBSERVABILITY", "account_names", "read", "sniff"]

NAME = "bluesky"
OBSERVABILITY = {"post": True, "reply": True, "share": True, "reaction": True}
"""What the AT Protocol exposes (likes and reposts given are public records). Whether an
export actually carries them is decided from the data by
:func:`tribe_analysis.observability.observe`."""

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
LIKE = "app.bsky.feed.like"
MENTION = "app.bsky.richtext.facet#mention"
UNKNOWN_PARENT = "unknown-parent-of:"
"""Prefix of the parent id of a flat-table reply (its parent is not in the export)."""

_FLAT_COLUMNS = ("uri", "created_at", "is_reply")
_log = logging.getLogger(__name__)
T = TypeVar("T")


# --------------------------------------------------------------------------- recognition


def _shape(obj: Mapping) -> str | None:
    """Which Bluesky object a JSON line holds, or None."""
    uri = obj.get("uri")
    if isinstance(obj.get("post"), dict) and _is_at(obj["post"].get("uri")):
        return "feed"
    if _is_at(uri) and isinstance(obj.get("value"), dict):
        return "record"
    if _is_at(uri) and isinstance(obj.get("author"), dict) and "record" in obj:
        return "view"
    if _is_at(uri) and "created_at" in obj and "is_reply" in obj:
        return "flat"
    if isinstance(obj.get("did"), str) and obj["did"].startswith("did:") and "kind" in obj:
        return "jetstream"
    return None


def _is_at(value: object) -> bool:
    return isinstance(value, str) and value.startswith("at://")


def sniff(path: Path) -> bool:
    """Bluesky JSON lines (an ``at://`` record, view or feed item), or a flat post table."""
    try:
        if not path.is_file():
            return False
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            schema = pl.read_parquet_schema(path)
            if not all(c in schema for c in _FLAT_COLUMNS):
                return False
            first = pl.scan_parquet(path).select("uri").head(1).collect()
            return first.height == 1 and _is_at(first.item())
        with path.open("rb") as fh:
            head = fh.read(65536).decode("utf-8-sig", "replace").replace("\r\n", "\n")
        lines = [line for line in head.split("\n")[:-1] if line.strip()]  # complete lines only
        if not lines:
            return False
        if suffix == ".csv":
            rows = list(csv.reader(lines[:2]))
            header = [c.strip() for c in rows[0]]
            if not all(c in header for c in _FLAT_COLUMNS) or len(rows) < 2:
                return False
            return _is_at(dict(zip(header, rows[1], strict=False)).get("uri"))
        for line in lines[:5]:
            obj = json.loads(line)
            if isinstance(obj, dict):
                return _shape(obj) is not None
        return False
    except (Exception, pl.exceptions.PanicException):  # noqa: BLE001 - sniffing must never fail
        return False  # (polars panics on some damaged Parquet files)


# --------------------------------------------------------------------------- reading


def read(paths: Sequence[Path], *, on_error: str = "strict") -> ReadResult:
    r"""Read Bluesky files into canonical events.

    Parameters
    ----------
    paths : sequence of Path
        JSON-lines, Parquet or CSV files (see the module docstring).
    on_error : {"strict", "skip"}
        Stop at the first malformed record, or quarantine it and go on.

    Returns
    -------
    ReadResult
        Events with ``platform="bluesky"``. ``observability`` is the
        platform's (:data:`OBSERVABILITY`); an export without repost or like
        records shows no shares or reactions, which
        :func:`tribe_analysis.observability.observe` decides from the events.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> ann, bob = "did:plc:ann", "did:plc:bob"
    >>> post = {"uri": f"at://{ann}/app.bsky.feed.post/1", "value": {"$type": "app.bsky.feed.post",
    ...         "text": "hi", "createdAt": "2024-05-01T10:00:00Z"}}
    >>> like = {"uri": f"at://{bob}/app.bsky.feed.like/2", "value": {"$type": "app.bsky.feed.like",
    ...         "subject": {"uri": post["uri"]}, "createdAt": "2024-05-01T10:05:00Z"}}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "records.jsonl"
    >>> _ = path.write_text(json.dumps(post) + "\n" + json.dumps(like) + "\n")
    >>> result = read([path])
    >>> result.events.select("actor_id", "action", "target_actor_id").rows()
    [('did:plc:ann', 'post', None), ('did:plc:bob', 'reaction', 'did:plc:ann')]
    >>> result.observability
    {'post': True, 'reply': True, 'share': True, 'reaction': True}
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("no input given")
    for path in files:
        _check_file(path)
    sink = Sink(on_error)
    ignored = 0
    authors: dict[str, str] = {}
    others: dict[str, str] = {}
    for path in files:
        named = not _is_metadata(path)
        for line, raw, obj in _records(path, sink):
            if named:
                _names_in_record(obj, authors, others)
            shape = _shape(obj)
            if shape is None:
                sink.record(path, line, raw, _fail(_unknown(obj)))
                continue
            if _ignored(shape, obj):
                ignored += 1
                continue
            build = _builder(shape, obj, sink, path, line, raw)
            sink.record(path, line, raw, build)
    if ignored:
        _log.info("ignored %d non-interaction records (follows, profiles, deletions, ...)", ignored)
    names = _with_metadata(files, authors, others)
    return finish(sink, NAME, OBSERVABILITY, sources=[str(f) for f in files], names=names)


def _check_file(path: Path) -> None:
    where = str(path)
    if not path.exists():
        raise ev.EventsError([ev.Problem(where, None, "no such file")])
    if path.is_dir():
        raise ev.EventsError([ev.Problem(where, None, "is a directory, not a Bluesky file")])
    try:
        with path.open("rb") as fh:
            first = fh.read(8192)
    except OSError as exc:
        raise ev.EventsError([ev.Problem(where, None, f"unreadable ({exc.strerror})")]) from None
    if not first:
        raise ev.EventsError([ev.Problem(where, 1, "empty file (no records)")])
    problem = head_problem(path, first)
    if problem is not None and path.suffix.lower() not in (".parquet", ".pq"):
        raise ev.EventsError([problem])


def _records(path: Path, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    """``(line or row number, raw text, object)`` for each record of one file."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        yield from _parquet_rows(path)
    elif suffix == ".csv":
        yield from _csv_rows(path, sink)
    else:
        yield from iter_json_lines(path, sink)


def _parquet_rows(path: Path) -> Iterator[tuple[int, str, dict]]:
    schema = _unreadable_parquet(path, pl.read_parquet_schema)
    missing = [c for c in _FLAT_COLUMNS if c not in schema]
    if missing:
        raise ev.EventsError(
            [ev.Problem(str(path), None, f"not a Bluesky post table (no {', '.join(missing)})")]
        )
    number = 0
    for batch in _unreadable_parquet(path, pl.read_parquet).iter_slices(10_000):
        for row in batch.iter_rows(named=True):
            number += 1
            yield number, json.dumps(row, default=str, ensure_ascii=False), row


def _unreadable_parquet(path: Path, read: Callable[[Path], T]) -> T:
    """``read(path)``; a damaged file (bad footer, pages or compression) is an EventsError."""
    try:
        return read(path)
    # polars raises several types for a corrupt file, and panics on some (a BaseException)
    except (Exception, pl.exceptions.PanicException) as exc:  # noqa: BLE001
        raise ev.EventsError(
            [ev.Problem(str(path), None, f"not a readable Parquet file ({first_line(exc)})")]
        ) from None


def _csv_rows(path: Path, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    records = iter_csv_records(path, sink)
    _, _, header = next(records, (0, "", []))
    header = [c.strip() for c in header]
    if not all(c in header for c in _FLAT_COLUMNS):
        needs = ", ".join(_FLAT_COLUMNS)
        raise ev.EventsError(
            [ev.Problem(str(path), 1, f"not a Bluesky post table (needs {needs})")]
        )
    for line, raw, values in records:
        if len(values) != len(header):
            sink.record(path, line, raw, _fail(f"{len(values)} fields, expected {len(header)}"))
        else:
            row: dict[str, object] = dict(zip(header, values, strict=True))
            mentions = row.get("mentions")
            if isinstance(mentions, str):  # DIDs joined with '|', as in the events CSV
                # an empty one (``a||b``) is refused below, as the events CSV refuses it
                split = [m.strip() for m in mentions.split("|")]
                row["mentions"] = split if mentions.strip() else []
            yield line, raw, row


def _fail(reason: str):
    def build() -> None:
        raise RecordError(reason)

    return build


def _unknown(obj: Mapping) -> str:
    uri = obj.get("uri")
    if uri is not None and not isinstance(uri, str):
        return f"uri must be a string, got {type(uri).__name__}"
    if isinstance(uri, str) and not uri.startswith("at://"):
        return f"uri is not an at:// URI '{uri}'"
    keys = ", ".join(sorted(obj)[:6])
    return f"not a Bluesky record, post view or feed item (keys: {keys})"


def _ignored(shape: str, obj: Mapping) -> bool:
    """Records that are not interactions: other collections, deletions, identity events."""
    if shape == "record":
        kind = obj["value"].get("$type")
        return isinstance(kind, str) and kind not in (POST, REPOST, LIKE)
    if shape == "jetstream":
        commit = obj.get("commit")
        if obj.get("kind") != "commit":
            return True  # identity and account events
        if not isinstance(commit, dict):
            return False  # a malformed commit: reported by _jetstream
        collection = commit.get("collection")
        return commit.get("operation") in ("update", "delete") or (
            isinstance(collection, str) and collection not in (POST, REPOST, LIKE)
        )
    return False


# --------------------------------------------------------------------------- account names


INVALID_HANDLE = "handle.invalid"
"""What the AppView shows for a DID whose handle does not verify: never a name."""


def account_names(paths: str | Path | Sequence[str | Path]) -> dict[str, str]:
    r"""Map DID -> handle (``nytimes.com``) from Bluesky files, to name leaders in reports.

    In order of trust (a later source only fills DIDs not named by an earlier one;
    within a source the last record read wins):

    1. the author of each record: ``author.handle`` of a post view or feed item,
       ``reason.by.handle`` of a repost in a feed, ``author_handle`` of a flat
       table row (with ``author_did``, else the DID of its ``uri``), the handle of
       a Jetstream ``identity`` event;
    2. any other profile (``{"did", "handle"}``) inside a record: the author of a
       reply's parent or root, of a quoted post;
    3. the account a collection metadata file beside the input names
       (``*metadata.json`` in the same folder holding ``{"did", "handle"}`` or
       ``<x>_did`` and ``<x>_handle``): author feeds saved as flat tables carry
       no author column, their metadata does.

    Records of the AT Protocol repository (``listRecords``) carry no handles.
    Malformed records are ignored here; ``handle.invalid`` (in any case, with or
    without ``@``) and an empty handle are never names.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> view = {"uri": "at://did:plc:ann/app.bsky.feed.post/1",
    ...         "author": {"did": "did:plc:ann", "handle": "ann.bsky.social"},
    ...         "record": {"text": "hi", "createdAt": "2024-05-01T10:00:00Z"}}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "posts.jsonl"
    >>> _ = path.write_text(json.dumps(view) + "\n")
    >>> account_names(path)
    {'did:plc:ann': 'ann.bsky.social'}
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    files = [Path(p) for p in paths]
    authors: dict[str, str] = {}
    others: dict[str, str] = {}
    for path in files:
        if not path.is_file() or _is_metadata(path):
            continue
        try:
            for _, _, obj in _records(path, Sink("skip")):
                _names_in_record(obj, authors, others)
        except ev.EventsError:  # not a Bluesky table: no names from it
            continue
    return _with_metadata(files, authors, others)


def _is_metadata(path: Path) -> bool:
    """A collection metadata file (``*metadata.json``): a source of names, not of records."""
    return path.name.lower().endswith("metadata.json")


def _with_metadata(
    files: Sequence[Path], authors: dict[str, str], others: dict[str, str]
) -> dict[str, str]:
    """The names of records, completed by the metadata files beside ``files`` (see :func:`account_names`)."""
    beside: dict[str, str] = {}
    for folder in dict.fromkeys(p.parent for p in files if p.is_file()):
        for meta in sorted(folder.glob("*metadata.json")):
            try:
                _profiles(json.loads(meta.read_text(encoding="utf-8")), beside)
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue
    return {**beside, **others, **authors}


def _name(did: object, handle: object, into: dict[str, str]) -> None:
    if not (isinstance(did, str) and did.startswith("did:") and isinstance(handle, str)):
        return
    name = handle.strip().removeprefix("@").strip()
    if name and name.lower() != INVALID_HANDLE:  # '@handle.invalid' is no name either
        into[did] = name


def _profiles(obj: object, into: dict[str, str]) -> None:
    """Every ``{"did", "handle"}`` (or ``x_did`` with ``x_handle``) pair nested in ``obj``."""
    if isinstance(obj, dict):
        _name(obj.get("did"), obj.get("handle"), into)
        for key, value in obj.items():
            if isinstance(key, str) and key.endswith("_did"):
                _name(value, obj.get(key[: -len("did")] + "handle"), into)
        for value in obj.values():
            _profiles(value, into)
    elif isinstance(obj, list):
        for value in obj:
            _profiles(value, into)


def _names_in_record(obj: dict, authors: dict[str, str], others: dict[str, str]) -> None:
    shape = _shape(obj)
    if shape == "flat":
        did = obj.get("author_did")
        if not did and isinstance(obj.get("uri"), str):
            did = _target(obj["uri"])
        _name(did, obj.get("author_handle"), authors)
    elif shape in ("view", "feed"):
        post = obj["post"] if shape == "feed" else obj
        author = post.get("author")
        if isinstance(author, dict):
            _name(author.get("did"), author.get("handle"), authors)
        reason = obj.get("reason") if shape == "feed" else None
        by = reason.get("by") if isinstance(reason, dict) else None
        if isinstance(by, dict):
            _name(by.get("did"), by.get("handle"), authors)
    elif shape == "jetstream" and obj.get("kind") == "identity":
        identity = obj.get("identity")
        if isinstance(identity, dict):
            _name(identity.get("did") or obj.get("did"), identity.get("handle"), authors)
        return
    _profiles(obj, others)


# --------------------------------------------------------------------------- records -> rows


def _builder(shape: str, obj: dict, sink: Sink, path: Path, line: int, raw: str):
    where = {"_source": str(path), "_line": line, "_raw": raw}

    def build() -> None:
        if shape == "flat":
            row = _flat(obj)
        elif shape == "record":
            uri = obj["uri"]
            if not isinstance(obj["value"].get("$type"), str):
                raise RecordError("missing value.$type (the record's collection)")
            row = _record(uri, _authority(uri, "uri"), obj["value"])
        elif shape == "view":
            row = _view(obj, None)
        elif shape == "jetstream":
            row = _jetstream(obj)
        else:
            row = _feed_item(obj)
        sink.add({**row, **where})

    return build


def _authority(uri: object, field: str) -> str:
    """The DID in ``at://<did>/...``."""
    if not isinstance(uri, str):
        raise RecordError(f"{field} must be a string, got {type(uri).__name__}")
    if not uri.startswith("at://"):
        raise RecordError(f"{field} is not an at:// URI '{uri}'")
    did = uri[5:].split("/", 1)[0]
    if not did.startswith("did:"):
        raise RecordError(f"{field} has no DID authority '{uri}'")
    return did


def _target(uri: str) -> str | None:
    did = uri[5:].split("/", 1)[0]
    return did if did.startswith("did:") else None


def _uri(container: object, field: str) -> str:
    """``container["uri"]`` as an ``at://`` URI."""
    if not isinstance(container, dict):
        raise RecordError(f"{field} must be an object, got {type(container).__name__}")
    uri = container.get("uri")
    if uri is None:
        raise RecordError(f"missing {field}.uri")
    _authority(uri, f"{field}.uri")
    return uri


def _did(value: object, field: str) -> str:
    if value is None:
        raise RecordError(f"missing {field}")
    if not isinstance(value, str):
        raise RecordError(f"{field} must be a string, got {type(value).__name__}")
    if not value.startswith("did:"):
        raise RecordError(f"{field} is not a DID '{value}'")
    return value


def _time(value: object, field: str) -> datetime:
    if value is None:
        raise RecordError(f"missing {field}")
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            raise RecordError(f"malformed {field} '{value}'") from None
    else:
        raise RecordError(f"{field} must be a string, got {type(value).__name__}")
    if stamp.tzinfo is None:
        raise RecordError(f"{field} has no time zone '{value}'")
    return utc(stamp, field, value)  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC


def _record(uri: str, actor: str, record: object) -> dict:
    """One ``app.bsky.feed.*`` record by ``actor`` at ``uri``."""
    if not isinstance(record, dict):
        raise RecordError(f"record must be an object, got {type(record).__name__}")
    kind = record.get("$type", POST)
    row = {
        "event_id": uri,
        "actor_id": actor,
        "timestamp": _time(record.get("createdAt"), "createdAt"),
    }
    if kind in (REPOST, LIKE):
        parent = _uri(record.get("subject"), "subject")
        action = "share" if kind == REPOST else "reaction"
        return {**row, "action": action, "parent_id": parent, "target_actor_id": _target(parent)}
    if kind != POST:
        raise RecordError(f"unsupported record $type '{kind}'")
    text = record.get("text")
    if text is not None and not isinstance(text, str):
        raise RecordError(f"text must be a string, got {type(text).__name__}")
    row = {**row, "text": text, "mentions": _mentions(record.get("facets"))}
    reply = record.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            raise RecordError(f"reply must be an object, got {type(reply).__name__}")
        parent = _uri(reply.get("parent"), "reply.parent")
        root = _uri(reply.get("root"), "reply.root") if reply.get("root") is not None else None
        if parent == uri:
            raise RecordError(f"reply.parent.uri is the post itself '{uri}'")
        return {
            **row,
            "action": "reply",
            "parent_id": parent,
            "thread_id": root,
            "target_actor_id": _target(parent),
        }
    quoted = _quoted(record.get("embed"))
    if quoted is not None:
        return {**row, "action": "share", "parent_id": quoted, "target_actor_id": _target(quoted)}
    return {**row, "action": "post"}


def _quoted(embed: object) -> str | None:
    """The post a quote embeds (``app.bsky.embed.record`` or ``recordWithMedia``)."""
    if not isinstance(embed, dict):
        return None
    kind = str(embed.get("$type", "")).split("#", 1)[0]
    inner = embed.get("record")
    if kind == "app.bsky.embed.recordWithMedia" and isinstance(inner, dict):
        inner = inner.get("record")
    elif kind != "app.bsky.embed.record":
        return None
    if isinstance(inner, dict) and _is_at(inner.get("uri")) and f"/{POST}/" in inner["uri"]:
        return inner["uri"]
    return None


def _mentions(facets: object) -> list[str]:
    if facets is None:
        return []
    if not isinstance(facets, list):
        raise RecordError(f"facets must be a list, got {type(facets).__name__}")
    out: list[str] = []
    for facet in facets:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else []:
            if isinstance(feature, dict) and feature.get("$type") == MENTION:
                did = _did(feature.get("did"), "facets.features.did")
                if did not in out:
                    out.append(did)
    return out


def _view(view: dict, reply_context: object) -> dict:
    """A post view (``uri``, ``author.did``, ``record``); the feed's reply context names the parent's author."""
    uri = _uri(view, "post")
    author = view.get("author")
    if not isinstance(author, dict):
        raise RecordError("missing post.author")
    row = _record(uri, _did(author.get("did"), "author.did"), view.get("record"))
    if row["action"] == "reply" and isinstance(reply_context, dict):
        parent = reply_context.get("parent")
        parent_author = parent.get("author") if isinstance(parent, dict) else None
        row["target_actor_id"] = _author_did(parent_author) or row["target_actor_id"]
    return row


def _author_did(author: object) -> str | None:
    """``author.did`` of a profile in a view when it is a DID (a handle is a name, not an id)."""
    did = author.get("did") if isinstance(author, dict) else None
    return did if isinstance(did, str) and did.startswith("did:") else None


def _feed_item(item: dict) -> dict:
    """A feed item: the post itself, or (``reason`` = repost) only the repost."""
    post = item["post"]
    reason = item.get("reason")
    if isinstance(reason, dict) and str(reason.get("$type", "")).endswith("#reasonRepost"):
        by = reason.get("by")
        actor = _did(by.get("did") if isinstance(by, dict) else None, "reason.by.did")
        parent = _uri(post, "post")
        author = post.get("author")
        event_id = reason.get("uri") if _is_at(reason.get("uri")) else f"repost:{actor}:{parent}"
        return {
            "event_id": event_id,
            "actor_id": actor,
            "timestamp": _time(reason.get("indexedAt"), "reason.indexedAt"),
            "action": "share",
            "parent_id": parent,
            "target_actor_id": _author_did(author) or _target(parent),
        }
    return _view(post, item.get("reply"))


def _jetstream(obj: dict) -> dict:
    commit = obj.get("commit")
    if not isinstance(commit, dict):
        raise RecordError(f"commit must be an object, got {type(commit).__name__}")
    if commit.get("operation") != "create":
        raise RecordError(f"unsupported commit.operation {commit.get('operation')!r}")
    if not isinstance(commit.get("collection"), str):
        raise RecordError("missing commit.collection")
    actor = _did(obj.get("did"), "did")
    rkey = commit.get("rkey")
    if not isinstance(rkey, str) or not rkey:
        raise RecordError("missing commit.rkey")
    uri = f"at://{actor}/{commit['collection']}/{rkey}"
    record = commit.get("record")
    if isinstance(record, dict):
        record = {"$type": commit["collection"], **record}
    return _record(uri, actor, record)


def _flat(obj: dict) -> dict:
    """A flat post-table row: ``uri``, ``created_at``, ``is_reply`` (+ ``author_did``, ``mentions``)."""
    uri = obj["uri"]
    author = obj.get("author_did")
    actor = _did(author, "author_did") if author not in (None, "") else _authority(uri, "uri")
    reply = _flag(obj.get("is_reply"), "is_reply")
    if _flag(obj.get("is_repost", False), "is_repost"):
        raise RecordError("is_repost row (the reposter and the repost time are not in the table)")
    mentions = obj.get("mentions")
    if mentions is None or mentions == "":
        mentions = []
    if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
        raise RecordError(f"mentions must be a list of DIDs, got {type(mentions).__name__}")
    for mention in mentions:  # a handle is a name, not an account id
        if not mention.strip():
            raise RecordError(ev._EMPTY_MENTION)
        _did(mention, "mentions")
    text = obj.get("text")
    if text is not None and not isinstance(text, str):
        raise RecordError(f"text must be a string, got {type(text).__name__}")
    row = {
        "event_id": uri,
        "actor_id": actor,
        "timestamp": _time(obj.get("created_at"), "created_at"),
        "text": text or None,
        "mentions": list(dict.fromkeys(mentions)),
    }
    if reply:
        return {**row, "action": "reply", "parent_id": UNKNOWN_PARENT + uri}
    return {**row, "action": "post"}


def _flag(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise RecordError(f"{field} must be true or false, got {value!r}")
