"""Mastodon exports: API status objects (``/api/v1/accounts/:id/statuses``, timelines).

Accepted input: status objects as JSON lines, a JSON array (one API response page
per file), or one pretty-printed status. Fields used: ``id``, ``created_at``
(ISO-8601), ``account.id`` (``account.acct`` is the handle), ``in_reply_to_id``,
``in_reply_to_account_id``, ``reblog`` (a boost), ``quote`` (Mastodon 4.5 quote
posts), ``mentions[].id`` and ``content`` (HTML, turned into plain text).

Mapping: a boost (``reblog`` set) is a ``share`` of ``reblog.id`` by the booster,
without text; a reply is a ``reply`` to ``in_reply_to_id`` with ``target_actor_id``
= ``in_reply_to_account_id``; a quote is a ``share`` that keeps its text; anything
else is a ``post``. Ids are those of the instance the export came from (status and
account ids are instance-local: do not mix exports from different instances).
Favourites given are not in status objects, so ``reaction`` is unobservable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from html.parser import HTMLParser
from pathlib import Path

from tribe_analysis.io._base import ReadResult, RecordError, Sink, _as_paths, _check_paths, finish
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

__all__ = ["NAME", "OBSERVABILITY", "account_names", "html_text", "read", "sniff"]

NAME = "mastodon"
OBSERVABILITY = {"post": True, "reply": True, "share": True, "reaction": False}
"""Statuses, replies and boosts are public statuses; favourites given are not exported."""


class _PlainText(HTMLParser):
    """Text of Mastodon's status HTML: paragraphs and ``<br>`` become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    r"""Plain text of a status's HTML ``content``.

    Examples
    --------
    >>> html_text('<p>Hi <span class="h-card"><a href="https://x.y/@ann">@<span>ann</span></a></span></p><p>a &amp; b<br>c</p>')
    'Hi @ann\n\na & b\nc'
    """
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def _is_status(obj: Mapping) -> bool:
    account = obj.get("account")
    return (
        isinstance(account, dict)
        and "acct" in account
        and "id" in obj
        and "created_at" in obj
        and ("content" in obj or "reblog" in obj)
    )


def sniff(path: Path) -> bool:
    """A Mastodon export: the first record is a status object (``account.acct``)."""
    obj = _first_json_object(Path(path))
    return obj is not None and _is_status(obj)


def _account(status: Mapping, where: str, *, required: bool) -> str | None:
    account = _obj(status, "account", where=where)
    if account is None:
        if required:
            raise RecordError(f"missing {where}account")
        return None
    return _req_id(account, "id", where=f"{where}account.")


def _quoted(status: Mapping) -> tuple[str, str | None] | None:
    """(quoted status id, its author) of a Mastodon 4.5 quote post, when the id is known."""
    quote = _obj(status, "quote")
    if quote is None:
        return None
    inner = _obj(quote, "quoted_status", where="quote.")
    if inner is not None:
        return _req_id(inner, "id", where="quote.quoted_status."), _account(
            inner, "quote.quoted_status.", required=False
        )
    qid = _opt_id(quote, "quoted_status_id", where="quote.")
    return (qid, None) if qid is not None else None


def _mentions(status: Mapping) -> list[str]:
    out = []
    for item in _list(status, "mentions"):
        if not isinstance(item, dict):
            raise RecordError(f"mentions[] must be objects, got {_json_type(item)}")
        out.append(_req_id(item, "id", where="mentions[]."))
    return out


def _row_of(status: Mapping, path: Path, line: int, raw: str) -> dict:
    if "account" not in status and "id" in status and "created_utc" in status:
        raise RecordError("not a Mastodon status (looks like a Reddit item: created_utc)")
    if "account" not in status and ("user" in status or "author_id" in status):
        raise RecordError("not a Mastodon status (looks like a tweet: user/author_id)")
    eid = _req_id(status, "id")
    stamp = _iso_time(status, "created_at")
    actor = _account(status, "", required=True)
    fields: dict = {"event_id": eid, "timestamp": stamp, "actor_id": actor}
    reblog = _obj(status, "reblog")
    if reblog is not None:
        return _row(
            path,
            line,
            raw,
            **fields,
            action="share",
            parent_id=_req_id(reblog, "id", where="reblog."),
            target_actor_id=_account(reblog, "reblog.", required=False),
            text=None,
            mentions=[],
        )
    reply_to = _opt_id(status, "in_reply_to_id")
    quoted = _quoted(status)
    if reply_to is not None:
        fields |= {
            "action": "reply",
            "parent_id": reply_to,
            "target_actor_id": _opt_id(status, "in_reply_to_account_id"),
        }
    elif quoted is not None:
        fields |= {"action": "share", "parent_id": quoted[0], "target_actor_id": quoted[1]}
    else:
        fields["action"] = "post"
    content = _opt_text(status, "content")
    fields |= {
        "text": html_text(content) if content is not None else None,
        "mentions": _mentions(status),
    }
    return _row(path, line, raw, **fields)


def read(paths: Sequence[Path], *, on_error: str = "strict") -> ReadResult:
    """Read Mastodon status JSON files into canonical events.

    Parameters
    ----------
    paths : sequence of Path
        Files of statuses (see the module docstring).
    on_error : {"strict", "skip"}
        Stop at the first malformed record, or quarantine it and go on.

    Raises
    ------
    EventsError
        A malformed record (strict), or a path that is missing, a directory,
        unreadable or empty (both modes).
    """
    paths = _as_paths(paths)
    sink = Sink(on_error)
    _check_paths(paths, "Mastodon")
    names: dict[str, str] = {}
    weak: dict[str, str] = {}
    for path in paths:
        for line, raw, obj in _json_records(path, sink):
            _names_in_status(obj, names, weak)
            _add_record(sink, path, line, raw, partial(_row_of, obj, path, line, raw))
    return finish(
        sink, NAME, OBSERVABILITY, sources=[str(p) for p in paths], names={**weak, **names}
    )


def account_names(paths: str | Path | Sequence[str | Path]) -> dict[str, str]:
    """Map account id -> ``acct`` handle (``user`` or ``user@instance``) from status files.

    Authors of statuses and of boosted/quoted statuses, then mentions (which only
    fill ids not seen otherwise). Malformed records are ignored here.
    :func:`read` collects the same mapping in :attr:`ReadResult.names`.
    """
    names: dict[str, str] = {}
    weak: dict[str, str] = {}
    for path in _as_paths(paths):
        if path.is_file():
            for _, _, obj in _json_records(path, Sink("skip")):
                _names_in_status(obj, names, weak)
    return {**weak, **names}


def _take(obj: object, into: dict[str, str]) -> None:
    if isinstance(obj, dict):
        aid, acct = obj.get("id"), obj.get("acct")
        if isinstance(aid, str | int) and not isinstance(aid, bool) and isinstance(acct, str):
            into[str(aid)] = acct


def _names_in_status(obj: object, names: dict[str, str], weak: dict[str, str]) -> None:
    """Authors (``names``) and mentioned accounts (``weak``) of a status, boost and quote included."""
    if not isinstance(obj, dict):
        return
    _take(obj.get("account"), names)
    for item in _as_list(obj.get("mentions")):
        _take(item, weak)
    _names_in_status(obj.get("reblog"), names, weak)
    quote = obj.get("quote")
    if isinstance(quote, dict):
        _names_in_status(quote.get("quoted_status"), names, weak)
