"""Twitter / X exports: API v1.1 tweet objects and API v2 tweets, as canonical events.

Accepted input (recognised per record, so files may mix them):

- **API v1.1** tweet objects, one per line (twarc 1, the streaming API, most
  research datasets): ``id_str``, ``created_at`` (``Wed Oct 22 13:59:55 +0000
  2014``), ``user.id_str``, ``retweeted_status``, ``quoted_status`` /
  ``quoted_status_id_str``, ``in_reply_to_status_id_str``,
  ``in_reply_to_user_id_str``, ``entities.user_mentions[].id_str``;
  ``full_text`` / ``extended_tweet`` when present.
- **API v2 response pages**, one per line (twarc2 output) or one per file:
  ``{"data": [...], "includes": {"users": [...], "tweets": [...]}}``. Every tweet
  in ``data`` is one record (reported at the page's line).
- **API v2 tweets, flattened** (``twarc2 flatten``), one per line.

Files may be JSON lines, a JSON array of such objects, or one pretty-printed object.

Mapping: a retweet is a ``share`` of the retweeted tweet; a reply (``in_reply_to`` /
``replied_to``) is a ``reply``; a quote is a ``share`` of the quoted tweet that keeps
its text; anything else is a ``post``. A tweet that is both a reply and a quote is a
reply. Actors are numeric user ids (``user.id_str`` / ``author_id``), never screen
names, which can change: use :func:`screen_names` to label them. Likes given are not
in tweet objects, so ``reaction`` is unobservable.

The helpers for JSON layouts and typed fields are in ``_json.py`` (shared with the
Reddit and Mastodon readers); path checks are in ``_base.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from tribe_analysis.io._base import (
    ReadResult,
    RecordError,
    Sink,
    _as_paths,
    _check_paths,
    finish,
    utc_error,
)
from tribe_analysis.io._json import (
    _add_record,
    _as_list,
    _first_json_object,
    _iso_time,
    _json_records,
    _json_type,
    _list,
    _obj,
    _opt_id,
    _opt_text,
    _req_id,
    _row,
)

__all__ = ["NAME", "OBSERVABILITY", "read", "screen_names", "sniff"]

NAME = "twitter"
OBSERVABILITY = {"post": True, "reply": True, "share": True, "reaction": False}
"""Tweets, replies, retweets and quotes are tweet objects; likes given are not exported."""

# --------------------------------------------------------------------------- recognition


def _is_v1(obj: Mapping) -> bool:
    return isinstance(obj.get("user"), dict) and "id_str" in obj and "created_at" in obj


def _is_v2_tweet(obj: Mapping) -> bool:
    return (
        "id" in obj
        and "text" in obj
        and "account" not in obj
        and "uri" not in obj
        and ("author_id" in obj or "edit_history_tweet_ids" in obj or "conversation_id" in obj)
    )


def _is_v2_page(obj: Mapping) -> bool:
    if "kind" in obj:  # a Reddit listing or thing wrapper
        return False
    if "data" in obj:
        return not isinstance(obj["data"], str)
    meta = obj.get("meta")  # a page with no results has no "data"
    return isinstance(meta, dict) and "result_count" in meta or _is_errors_page(obj)


def _is_errors_page(obj: Mapping) -> bool:
    """A v2 lookup page whose every tweet was not returned: ``errors``, no ``data``.

    Hydrating old tweet ids gives such pages (deleted or protected tweets); each error
    is an API problem object (``type`` ``https://api.twitter.com/2/problems/...``).

    Examples
    --------
    >>> _is_errors_page({"errors": [{"title": "Not Found Error", "resource_id": "1",
    ...     "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
    True
    >>> _is_errors_page({"errors": [{"message": "Rate limit exceeded", "code": 88}]})
    False
    """
    errors = obj.get("errors")
    return (
        "data" not in obj
        and isinstance(errors, list)
        and bool(errors)
        and all(isinstance(e, dict) and "/2/problems/" in str(e.get("type", "")) for e in errors)
    )


def sniff(path: Path) -> bool:
    """A Twitter export: the first record is a v1.1 tweet, a v2 tweet or a v2 response page."""
    obj = _first_json_object(Path(path))
    if obj is None:
        return False
    if _is_v1(obj) or _is_v2_tweet(obj):
        return True
    if _is_v2_page(obj):
        data = obj.get("data")
        if isinstance(data, dict):
            return _is_v2_tweet(data)
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return _is_v2_tweet(data[0])
        meta = obj.get("meta")
        return isinstance(meta, dict) and "result_count" in meta or _is_errors_page(obj)
    return False


# --------------------------------------------------------------------------- v1.1


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_WEEKDAYS = frozenset(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))


def _v1_time(obj: Mapping) -> datetime:
    """``Wed Oct 22 13:59:55 +0000 2014`` (fixed fields; ~10x faster than strptime).

    Each number is ASCII digits of its fixed width (two, the year four) and the
    offset's minutes are below 60: ``2_2``, ``Oct 2``, ``+0060`` or a year ``14``
    are reported, never read as another instant. So is a time that its offset moves
    out of years 1..9999.
    """
    value = obj.get("created_at")
    if value is None:
        raise RecordError("missing created_at")
    if not isinstance(value, str):
        raise RecordError(f"created_at must be text, got {_json_type(value)} {value!r}")
    try:
        return _v1_fields(value).astimezone(UTC)
    except (ValueError, KeyError):
        raise RecordError(
            f"unparseable created_at {value!r} (expected e.g. 'Wed Oct 22 13:59:55 +0000 2014')"
        ) from None
    except OverflowError:
        raise utc_error("created_at", value) from None


def _digits(text: str, width: int) -> int:
    """``text`` as a number if it is ``width`` ASCII digits (ValueError otherwise)."""
    if len(text) != width or not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    return int(text)


def _v1_fields(value: str) -> datetime:
    """The aware datetime ``value`` names, in its own offset (ValueError/KeyError if malformed)."""
    weekday, month, day, clock, zone, year = value.split()
    hour, minute, second = (_digits(part, 2) for part in clock.split(":"))
    if weekday not in _WEEKDAYS or len(zone) != 5 or zone[0] not in "+-":
        raise ValueError(value)
    zone_hours, zone_minutes = _digits(zone[1:3], 2), _digits(zone[3:5], 2)
    if zone_minutes >= 60:
        raise ValueError(value)
    offset = timedelta(hours=zone_hours, minutes=zone_minutes)
    return datetime(
        _digits(year, 4),
        _MONTHS[month],
        _digits(day, 2),
        hour,
        minute,
        second,
        tzinfo=timezone(-offset if zone[0] == "-" else offset),
    )


def _v1_user(tweet: Mapping, where: str, *, required: bool) -> str | None:
    user = _obj(tweet, "user", where=where)
    if user is None:
        if required:
            raise RecordError(f"missing {where}user")
        return None
    if required:
        return _req_id(user, "id_str", "id", where=f"{where}user.")
    return _opt_id(user, "id_str", "id", where=f"{where}user.")


def _v1_mentions(tweet: Mapping) -> list[str]:
    extended = _obj(tweet, "extended_tweet")
    source = extended if extended is not None and "entities" in extended else tweet
    entities = _obj(source, "entities")
    if entities is None:
        return []
    out = []
    for item in _list(entities, "user_mentions", where="entities."):
        if not isinstance(item, dict):
            raise RecordError(f"entities.user_mentions[] must be objects, got {_json_type(item)}")
        uid = _opt_id(item, "id_str", "id", where="entities.user_mentions[].")
        if uid is not None:
            out.append(uid)
    return out


def _v1_text(tweet: Mapping) -> str | None:
    extended = _obj(tweet, "extended_tweet")
    if extended is not None:
        text = _opt_text(extended, "full_text", where="extended_tweet.")
        if text is not None:
            return text
    text = _opt_text(tweet, "full_text")
    return text if text is not None else _opt_text(tweet, "text")


def _v1_row(tweet: Mapping, path: Path, line: int, raw: str) -> dict:
    eid = _req_id(tweet, "id_str", "id")
    stamp = _v1_time(tweet)
    actor = _v1_user(tweet, "", required=True)
    fields: dict = {"event_id": eid, "timestamp": stamp, "actor_id": actor}
    retweeted = _obj(tweet, "retweeted_status")
    quoted = _obj(tweet, "quoted_status")
    reply_to = _opt_id(tweet, "in_reply_to_status_id_str", "in_reply_to_status_id")
    quote_id = _opt_id(tweet, "quoted_status_id_str", "quoted_status_id")
    if quote_id is None and quoted is not None:
        quote_id = _req_id(quoted, "id_str", "id", where="quoted_status.")
    if retweeted is not None:
        # the retweeter wrote nothing: text and mentions belong to the original
        fields |= {
            "action": "share",
            "parent_id": _req_id(retweeted, "id_str", "id", where="retweeted_status."),
            "target_actor_id": _v1_user(retweeted, "retweeted_status.", required=False),
            "text": None,
            "mentions": [],
        }
    else:
        if reply_to is not None:
            fields |= {
                "action": "reply",
                "parent_id": reply_to,
                "target_actor_id": _opt_id(tweet, "in_reply_to_user_id_str", "in_reply_to_user_id"),
            }
        elif quote_id is not None:
            target = (
                _v1_user(quoted, "quoted_status.", required=False) if quoted is not None else None
            )
            fields |= {"action": "share", "parent_id": quote_id, "target_actor_id": target}
        else:
            fields["action"] = "post"
        fields |= {"text": _v1_text(tweet), "mentions": _v1_mentions(tweet)}
    return _row(path, line, raw, **fields)


# --------------------------------------------------------------------------- v2


def _v2_index(page: Mapping) -> tuple[dict[str, str], dict[str, dict]]:
    """From ``includes``: username (lower case) -> user id, and tweet id -> tweet.

    A malformed ``includes`` raises (every tweet of the page is then reported);
    malformed entries inside it are ignored (they are context, not records).
    """
    includes = _obj(page, "includes")
    users: dict[str, str] = {}
    tweets: dict[str, dict] = {}
    if includes is None:
        return users, tweets
    for user in _list(includes, "users", where="includes."):
        if isinstance(user, dict) and isinstance(user.get("username"), str):
            uid = user.get("id")
            if isinstance(uid, str | int) and not isinstance(uid, bool):
                users[user["username"].lower()] = str(uid)
    for tweet in _list(includes, "tweets", where="includes."):
        uid = tweet.get("id") if isinstance(tweet, dict) else None
        if isinstance(uid, str | int) and not isinstance(uid, bool):
            tweets[str(uid)] = tweet
    return users, tweets


def _v2_mentions(tweet: Mapping, users: Mapping[str, str]) -> list[str]:
    """``entities.mentions[].id``, else the ``username`` looked up in ``includes.users``.

    A long post's ``note_tweet.entities`` are those of its whole text (the
    top-level ``entities`` are those of the first 280 characters): they are used
    when present, as ``note_tweet.text`` is.
    """
    note = _obj(tweet, "note_tweet")
    whole = _obj(note, "entities", where="note_tweet.") if note is not None else None
    entities, where = (
        (whole, "note_tweet.entities.")
        if whole is not None
        else (_obj(tweet, "entities"), "entities.")
    )
    if entities is None:
        return []
    out = []
    for item in _list(entities, "mentions", where=where):
        if not isinstance(item, dict):
            raise RecordError(f"{where}mentions[] must be objects, got {_json_type(item)}")
        uid = _opt_id(item, "id", where=f"{where}mentions[].")
        if uid is None:
            name = _opt_text(item, "username", where=f"{where}mentions[].")
            uid = users.get(name.lower()) if name else None
        if uid is not None:  # an unresolvable username is left out, never guessed
            out.append(uid)
    return out


def _v2_row(
    tweet: Mapping,
    path: Path,
    line: int,
    raw: str,
    users: Mapping[str, str],
    included: Mapping[str, dict],
) -> dict:
    eid = _req_id(tweet, "id")
    stamp = _iso_time(tweet, "created_at", hint=" (request tweet.fields=created_at)")
    actor = _req_id(tweet, "author_id")
    refs: dict[str, dict] = {}
    for ref in _list(tweet, "referenced_tweets"):
        if not isinstance(ref, dict):
            raise RecordError(f"referenced_tweets[] must be objects, got {_json_type(ref)}")
        kind = _opt_text(ref, "type", where="referenced_tweets[].")
        _req_id(ref, "id", where="referenced_tweets[].")
        if kind is not None:
            refs.setdefault(kind, ref)

    def ref_author(ref: Mapping) -> str | None:
        # flattened tweets carry the referenced tweet inline; pages carry it in includes
        found = _opt_id(ref, "author_id", where="referenced_tweets[].")
        if found is None:
            other = included.get(str(ref["id"]))
            found = _opt_id(other, "author_id", where="includes.tweets[].") if other else None
        return found

    fields: dict = {"event_id": eid, "timestamp": stamp, "actor_id": actor}
    conversation = _opt_id(tweet, "conversation_id")
    if "retweeted" in refs:
        ref = refs["retweeted"]
        return _row(
            path,
            line,
            raw,
            **fields,
            action="share",
            parent_id=str(ref["id"]),
            target_actor_id=ref_author(ref),
            text=None,
            mentions=[],
        )
    if "replied_to" in refs:
        ref = refs["replied_to"]
        target = _opt_id(tweet, "in_reply_to_user_id") or ref_author(ref)
        fields |= {
            "action": "reply",
            "parent_id": str(ref["id"]),
            "target_actor_id": target,
            "thread_id": conversation,
        }
    elif "quoted" in refs:
        ref = refs["quoted"]
        fields |= {
            "action": "share",
            "parent_id": str(ref["id"]),
            "target_actor_id": ref_author(ref),
        }
    else:
        fields |= {"action": "post", "thread_id": conversation or eid}
    note = _obj(tweet, "note_tweet")
    text = _opt_text(note, "text", where="note_tweet.") if note is not None else None
    fields |= {
        "text": text if text is not None else _opt_text(tweet, "text"),
        "mentions": _v2_mentions(tweet, users),
    }
    return _row(path, line, raw, **fields)


# --------------------------------------------------------------------------- reading


def _not_a_tweet(obj: Mapping) -> RecordError:
    keys = ", ".join(sorted(obj)[:8]) or "none"
    return RecordError(
        "not a Twitter tweet (expected API v1.1 'id_str' + 'user', API v2 'id' + "
        f"'author_id', or a v2 page with 'data'; found keys: {keys})"
    )


def _fail(error: RecordError) -> None:
    raise error


def _read_page(sink: Sink, path: Path, line: int, raw: str, page: dict) -> None:
    """Each tweet of a v2 response page is one record, reported at the page's line."""
    data = page.get("data", [])
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        error = RecordError(f"data must be an array of tweets, got {_json_type(data)}")
        sink.record(path, line, raw, partial(_fail, error))
        return
    try:
        users, included = _v2_index(page)
        failure = None
    except RecordError as exc:
        users, included, failure = {}, {}, exc
    for tweet in data:
        text = json.dumps(tweet, ensure_ascii=False)
        if not isinstance(tweet, dict):
            error = RecordError(f"data[] must be tweet objects, got {_json_type(tweet)}")
            sink.record(path, line, text, partial(_fail, error))
        elif failure is not None:
            sink.record(path, line, text, partial(_fail, failure))
        else:
            row_of = partial(_v2_row, tweet, path, line, text, users, included)
            _add_record(sink, path, line, text, row_of)


def read(paths: Sequence[Path], *, on_error: str = "strict") -> ReadResult:
    """Read Twitter v1.1 / v2 JSON files into canonical events.

    Parameters
    ----------
    paths : sequence of Path
        Files of tweets (JSON lines, a JSON array, or one JSON object); see the
        module docstring.
    on_error : {"strict", "skip"}
        Stop at the first malformed record, or quarantine it and go on.

    Returns
    -------
    ReadResult
        ``records_read`` counts tweets (each tweet of a v2 page is one record).

    Raises
    ------
    EventsError
        A malformed record (strict), or a path that is missing, a directory,
        unreadable or empty (both modes).
    """
    paths = _as_paths(paths)
    sink = Sink(on_error)
    _check_paths(paths, "Twitter")
    names: dict[str, str] = {}
    weak: dict[str, str] = {}
    for path in paths:
        for line, raw, obj in _json_records(path, sink):
            _names_in_object(obj, names, weak)
            if _is_v2_page(obj):
                _read_page(sink, path, line, raw, obj)
            elif "id_str" in obj or "user" in obj:
                _add_record(sink, path, line, raw, partial(_v1_row, obj, path, line, raw))
            elif "author_id" in obj or _is_v2_tweet(obj):
                _add_record(sink, path, line, raw, partial(_v2_row, obj, path, line, raw, {}, {}))
            else:
                sink.record(path, line, raw, partial(_fail, _not_a_tweet(obj)))
    return finish(
        sink, NAME, OBSERVABILITY, sources=[str(p) for p in paths], names={**weak, **names}
    )


def screen_names(paths: str | Path | Sequence[str | Path]) -> dict[str, str]:
    r"""Map user id -> screen name (``@`` handle) from the user objects of Twitter files.

    Sources, in order of trust: v1.1 ``user`` objects (also inside retweeted and
    quoted tweets), v2 ``includes.users`` and flattened ``author`` objects, then
    typed mention entities (which only fill ids not seen otherwise). A later user
    object overrides an earlier one (handles can change). Malformed lines are
    ignored here: :func:`read` reports them. :func:`read` collects the same
    mapping in :attr:`ReadResult.names`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.ndjson"
    >>> _ = p.write_text('{"id_str": "1", "created_at": "Wed Oct 22 13:59:55 +0000 2014", '
    ...                  '"user": {"id_str": "42", "screen_name": "ann"}, "text": "hi"}\n')
    >>> screen_names(p)
    {'42': 'ann'}
    """
    names: dict[str, str] = {}
    weak: dict[str, str] = {}
    for path in _as_paths(paths):
        if not path.is_file():
            continue
        for _, _, obj in _json_records(path, Sink("skip")):
            _names_in_object(obj, names, weak)
    return {**weak, **names}


def _user(obj: object, id_key: str, name_key: str, into: dict[str, str]) -> None:
    if isinstance(obj, dict):
        uid, name = obj.get(id_key), obj.get(name_key)
        if isinstance(uid, str | int) and not isinstance(uid, bool) and isinstance(name, str):
            into[str(uid)] = name


def _names_in_tweet(obj: dict, names: dict[str, str], weak: dict[str, str]) -> None:
    _user(obj.get("user"), "id_str", "screen_name", names)
    for inner in ("retweeted_status", "quoted_status"):
        if isinstance(obj.get(inner), dict):
            _user(obj[inner].get("user"), "id_str", "screen_name", names)
    _user(obj.get("author"), "id", "username", names)
    _user(obj.get("in_reply_to_user"), "id", "username", names)
    entities = obj.get("entities")
    if isinstance(entities, dict):
        for item in _as_list(entities.get("user_mentions")):
            _user(item, "id_str", "screen_name", weak)
        for item in _as_list(entities.get("mentions")):
            _user(item, "id", "username", weak)


def _names_in_object(obj: dict, names: dict[str, str], weak: dict[str, str]) -> None:
    """User objects (``names``) and mention entities (``weak``) of a tweet or a v2 page."""
    if _is_v2_page(obj):
        includes = obj.get("includes")
        if isinstance(includes, dict) and isinstance(includes.get("users"), list):
            for item in includes["users"]:
                _user(item, "id", "username", names)
        data = obj.get("data")
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict):
                _names_in_tweet(item, names, weak)
    else:
        _names_in_tweet(obj, names, weak)


account_names = screen_names
"""The ``account_names`` every reader with display names offers (see ``tribe_analysis.io``)."""
