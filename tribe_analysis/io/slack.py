r"""Slack workspace exports (the unzipped folder).

An export holds ``users.json``, ``channels.json`` (and, for private data,
``groups.json``, ``mpims.json``, ``dms.json``) and one folder per conversation of
daily ``YYYY-MM-DD.json`` files, each a JSON array of messages. Every message is
a record.

Mapping: a message's event id is ``<channel id>:<ts>`` (the folder name when the
conversation is not listed in the channel files); the actor is ``user`` (``bot_id``
for bot messages). A message whose ``thread_ts`` differs from its ``ts`` is a
reply to the thread parent ``<channel>:<thread_ts>`` (its author from
``parent_user_id``); every other message is a post. Each user in a reaction's
``users`` list gives a reaction event ``<channel>:<ts>:<emoji>:<user>`` on the
message; Slack does not export when a reaction was added, so its timestamp is the
message's. Mentions are Slack's typed user references ``<@U…>`` in the text.

Join, leave, topic, purpose, rename, archive, pin and tombstone messages are not
interactions: they are ignored and not counted as records (reactions on them are
still read, as reactions to their author).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tribe_analysis import events as ev
from tribe_analysis.errors import first_line
from tribe_analysis.io._base import (
    ReadResult,
    RecordError,
    Sink,
    finish,
    head_problem,
    iter_json_array,
    utc_error,
)

__all__ = ["NAME", "OBSERVABILITY", "read", "sniff"]

NAME = "slack"
OBSERVABILITY = {"post": True, "reply": True, "share": False, "reaction": True}

CHANNEL_FILES = ("channels.json", "groups.json", "mpims.json", "dms.json")
"""Conversation lists of an export (public, private, group DMs, DMs)."""

IGNORED_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "channel_convert_to_private",
        "channel_convert_to_public",
        "pinned_item",
        "unpinned_item",
        "bot_add",
        "bot_remove",
        "tombstone",
        "message_changed",
        "message_deleted",
        "message_replied",
    }
)
"""Message subtypes that are not interactions (membership and channel housekeeping), and
notices about other messages: an edit (``message_changed``: the edited message is in the
export itself), a deletion (``message_deleted``) and a reply to a thread
(``message_replied``: the reply is in the export itself). Notices have no top-level
``user``, so they were bad records that stopped a strict read."""

_log = logging.getLogger(__name__)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_SECOND = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH).total_seconds())
"""The last whole second a timestamp can hold (9999-12-31 23:59:59 UTC)."""


def _is_day(path: Path) -> bool:
    """A daily file ``YYYY-MM-DD.json`` (not an ISO week date ``2023-W46-2``, which also has 10 characters)."""
    stem = path.stem
    if path.suffix != ".json" or not _DAY.fullmatch(stem):
        return False
    try:
        date.fromisoformat(stem)
    except ValueError:
        return False
    return True


def sniff(path: Path) -> bool:
    """A folder with ``users.json``, a channel list, and a channel folder of daily files."""
    try:
        if not path.is_dir() or not (path / "users.json").is_file():
            return False
        if not any((path / name).is_file() for name in CHANNEL_FILES):
            return False
        for checked, sub in enumerate(path.iterdir()):
            if checked > 200:
                return False
            if sub.is_dir() and any(_is_day(f) for f in sub.iterdir()):
                return True
    except OSError:
        return False
    return False


def read(paths: Sequence[Path], *, on_error: str = "strict") -> ReadResult:
    r"""Read Slack export folders into canonical events.

    Parameters
    ----------
    paths : sequence of Path
        Unzipped export folders (several exports of one workspace may overlap:
        repeated messages are kept once and reported).
    on_error : {"strict", "skip"}
        Stop at the first malformed message, or quarantine it and go on.

    Returns
    -------
    ReadResult
        Events with ``platform="slack"``.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "users.json").write_text("[]")
    >>> _ = (d / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    >>> (d / "general").mkdir()
    >>> day = [{"ts": "1700000000.000100", "user": "U1", "text": "hi <@U2>", "thread_ts": "1700000000.000100",
    ...         "reactions": [{"name": "wave", "users": ["U2"], "count": 1}]},
    ...        {"ts": "1700000060.000200", "user": "U2", "text": "hello", "thread_ts": "1700000000.000100",
    ...         "parent_user_id": "U1"}]
    >>> _ = (d / "general" / "2023-11-14.json").write_text(json.dumps(day, indent=1))
    >>> for row in read([d]).events.select("event_id", "actor_id", "action", "target_actor_id", "mentions").rows():
    ...     print(row)
    ('C1:1700000000.000100', 'U1', 'post', None, ['U2'])
    ('C1:1700000000.000100:wave:U2', 'U2', 'reaction', 'U1', [])
    ('C1:1700000060.000200', 'U2', 'reply', 'U1', [])
    """
    folders = [Path(p) for p in paths]
    if not folders:
        raise ValueError("no input given")
    channels = {folder: _channels(folder) for folder in folders}
    sink = Sink(on_error)
    ignored = 0
    for folder in folders:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            channel = channels[folder].get(sub.name, sub.name)
            for day in sorted(p for p in sub.iterdir() if _is_day(p)):
                for line, raw, message in _messages(day, sink):
                    if _ignored(message):
                        ignored += 1
                        continue
                    sink.record(day, line, raw, _builder(sink, channel, message, day, line, raw))
    if ignored:
        _log.info("ignored %d join/leave/housekeeping messages", ignored)
    return finish(sink, NAME, OBSERVABILITY, sources=[str(f) for f in folders])


# --------------------------------------------------------------------------- files


def _channels(folder: Path) -> dict[str, str]:
    """Folder name -> conversation id, from the export's conversation lists."""
    where = str(folder)
    if not folder.exists():
        raise ev.EventsError([ev.Problem(where, None, "no such folder")])
    if not folder.is_dir():
        hint = " (unzip the export first)" if folder.suffix.lower() == ".zip" else ""
        raise ev.EventsError([ev.Problem(where, None, f"is a file: give the export folder{hint}")])
    lists = [folder / name for name in CHANNEL_FILES if (folder / name).is_file()]
    if not lists:
        raise ev.EventsError(
            [ev.Problem(where, None, "not a Slack export (no channels.json or groups.json)")]
        )
    names: dict[str, str] = {}
    for path in lists:
        for name, cid in _conversations(path):
            names[name] = cid
    return names


def _conversations(path: Path) -> Iterator[tuple[str, str]]:
    """``(folder name, id)`` of each conversation of a list (its id names an unnamed one)."""
    try:
        items = json.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise ev.EventsError(
            [ev.Problem(str(path), None, f"unreadable ({exc.strerror})")]
        ) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # deep nesting, long numbers
        raise ev.EventsError(
            [ev.Problem(str(path), None, f"not a JSON channel list ({first_line(exc)})")]
        ) from None
    if not isinstance(items, list):
        raise ev.EventsError([ev.Problem(str(path), None, "expected a JSON array of channels")])
    for k, item in enumerate(items, start=1):
        cid = item.get("id") if isinstance(item, dict) else None
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(cid, str) or not cid or not isinstance(name, str | None):
            got = f"{type(item).__name__} {json.dumps(item)[:60]}"
            reason = f"conversation {k} is not an object with a string id and name (got {got})"
            raise ev.EventsError([ev.Problem(str(path), None, reason)])
        yield name or cid, cid


def _messages(path: Path, sink: Sink) -> Iterator[tuple[int, str, object]]:
    """``(line, raw text, value)`` for each element of a daily file's JSON array.

    The file is read in pieces (:func:`iter_json_array`), each element with its line
    number. A file that is not a JSON array is one bad record; after a malformed
    element (or one not UTF-8, or over the record size limit) the rest of the file
    is that bad record. A file that is not text at all (UTF-16, compressed, binary)
    stops the read in both modes, as in every format.
    """
    try:
        with path.open("rb") as fh:
            problem = head_problem(path, fh.read(8192))
        if problem is not None:
            raise ev.EventsError([problem])
        yield from iter_json_array(path, sink, "messages")
    except OSError as exc:
        raise ev.EventsError(
            [ev.Problem(str(path), None, f"unreadable ({exc.strerror})")]
        ) from None


# --------------------------------------------------------------------------- messages


def _ignored(message: object) -> bool:
    """Housekeeping without reactions (a subtype that is not a string is a bad record)."""
    if not isinstance(message, dict):
        return False
    subtype = message.get("subtype")
    return isinstance(subtype, str) and subtype in IGNORED_SUBTYPES and not message.get("reactions")


def _builder(sink: Sink, channel: str, message: object, path: Path, line: int, raw: str):
    where = {"_source": str(path), "_line": line, "_raw": raw}

    def build() -> None:
        for row in _rows(channel, message):
            sink.add({**row, **where})

    return build


def _ts(value: object, field: str) -> tuple[str, datetime]:
    """A Slack timestamp ``"1700000000.000100"`` and its time (a bad record after year 9999)."""
    if value is None:
        raise RecordError(f"missing {field}")
    if not isinstance(value, str):
        raise RecordError(f"{field} must be a string, got {type(value).__name__}")
    seconds, dot, fraction = value.partition(".")
    if not (seconds.isascii() and seconds.isdigit()) or (
        dot and not (fraction.isascii() and fraction.isdigit())
    ):
        raise RecordError(f"malformed {field} '{value}'")
    micro = int((fraction + "000000")[:6]) if dot else 0
    digits = seconds.lstrip("0") or "0"  # the length first: int() refuses 4,300+ digits
    if len(digits) > len(str(_LAST_SECOND)) or int(digits) > _LAST_SECOND:
        raise utc_error(field, value)
    return value, _EPOCH + timedelta(seconds=int(digits), microseconds=micro)


def _str(message: dict, field: str) -> str | None:
    value = message.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field} must be a string, got {type(value).__name__}")
    return value


def _rows(channel: str, message: object) -> list[dict]:
    if not isinstance(message, dict):
        raise RecordError(f"expected a message object, got {type(message).__name__}")
    ts, stamp = _ts(message.get("ts"), "ts")
    actor = _str(message, "user") or _str(message, "bot_id")
    if actor is None:
        raise RecordError("missing user (and no bot_id)")
    event_id = f"{channel}:{ts}"
    thread_ts = message.get("thread_ts")
    if thread_ts is not None:
        thread_ts, _ = _ts(thread_ts, "thread_ts")
    thread_id = f"{channel}:{thread_ts}" if thread_ts is not None else event_id
    rows = []
    if _str(message, "subtype") not in IGNORED_SUBTYPES:
        text = _str(message, "text")
        row = {
            "event_id": event_id,
            "timestamp": stamp,
            "actor_id": actor,
            "thread_id": thread_id,
            "mentions": _mentions(text or ""),
            "text": text,
        }
        if thread_ts is not None and thread_ts != ts:
            row |= {
                "action": "reply",
                "parent_id": thread_id,
                "target_actor_id": _str(message, "parent_user_id"),
            }
        else:
            row["action"] = "post"
        rows.append(row)
    rows += _reactions(message.get("reactions"), event_id, stamp, actor, thread_id)
    return rows


def _reactions(
    reactions: object, parent: str, stamp: datetime, author: str, thread_id: str
) -> list[dict]:
    if reactions is None:
        return []
    if not isinstance(reactions, list):
        raise RecordError(f"reactions must be a list, got {type(reactions).__name__}")
    rows = []
    for reaction in reactions:
        if not isinstance(reaction, dict):
            raise RecordError(f"reactions must hold objects, got {type(reaction).__name__}")
        name = reaction.get("name")
        users = reaction.get("users")
        if not isinstance(name, str) or not name:
            raise RecordError(f"reaction name must be a string, got {name!r}")
        if not isinstance(users, list) or not all(isinstance(u, str) and u for u in users):
            raise RecordError(f"reaction '{name}' users must be a list of user ids")
        for user in dict.fromkeys(users):
            rows.append(
                {
                    "event_id": f"{parent}:{name}:{user}",
                    "timestamp": stamp,  # Slack does not export when a reaction was added
                    "actor_id": user,
                    "action": "reaction",
                    "parent_id": parent,
                    "thread_id": thread_id,
                    "target_actor_id": author,
                }
            )
    return rows


def _mentions(text: str) -> list[str]:
    """User ids of Slack's typed user references ``<@U123>`` / ``<@U123|name>``.

    Examples
    --------
    >>> _mentions("hi <@U1> and <@W2|bea>, not @U3 or <#C1>; again <@U1>")
    ['U1', 'W2']
    """
    out: dict[str, None] = {}  # in order, once each (linear in the text's length)
    start = text.find("<@")
    while start >= 0:
        end = text.find(">", start + 2)
        if end < 0:
            break
        user = text[start + 2 : end].split("|", 1)[0]
        if user and user.isascii() and user.isalnum():
            out.setdefault(user)
        start = text.find("<@", end + 1)
    return list(out)
