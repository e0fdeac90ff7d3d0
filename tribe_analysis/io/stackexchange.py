"""Stack Exchange data dumps (one site's folder: ``Posts.xml`` and ``Comments.xml``).

Each ``<row .../>`` is a record. Questions (``PostTypeId=1``) are posts, answers
(``PostTypeId=2``) are replies to their question (``ParentId``), comments are
replies to the post they are on (``PostId``). Event ids are ``post:<Id>`` and
``comment:<Id>`` (post and comment ids overlap in the dump). Actors are user ids
(``OwnerUserId``/``UserId``, ``-1`` is the *Community* bot); a deleted account
keeps only a display name and becomes ``deleted:<display name>``.

Tag-wiki rows (``PostTypeId`` 3, 4, 5, 7, 8: community-edited reference text,
not conversation) are ignored: they are neither loaded nor counted as records
(the number ignored is logged). Votes are not in these files (only net
``Score``), so reactions are unobservable. ``Users.xml`` is not needed: when
present it is read once, for display names (:attr:`ReadResult.names`).

The XML is streamed row by row with :class:`xml.etree.ElementTree.XMLPullParser`
(the incremental parser behind ``iterparse``), fed one line at a time so every row
has its line number; a malformed row is reported (or quarantined) and parsing
resumes after it.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from tribe_analysis import events as ev
from tribe_analysis.io._base import (
    MAX_RECORD_BYTES,
    ReadResult,
    RecordError,
    Sink,
    finish,
    head_problem,
    iter_lines,
    too_long,
    truncated,
    utc,
)

__all__ = ["NAME", "OBSERVABILITY", "read", "sniff"]

NAME = "stackexchange"
OBSERVABILITY = {
    "post": True,
    "reply": True,
    "share": False,
    "reaction": False,
    "mention": False,
    "reply_chain": False,
}
"""No shares; votes given are private; ``@name`` in comments is plain text, not a typed
mention; comments are flat (a comment on an answer cannot be answered in place)."""

FILES = {"Posts.xml": "posts", "Comments.xml": "comments"}
"""Dump files read, with their root element."""

WIKI_TYPES = frozenset({"3", "4", "5", "7", "8"})
"""PostTypeIds ignored: orphaned tag wiki, tag-wiki excerpt, tag wiki, wiki placeholder, privilege wiki."""

_log = logging.getLogger(__name__)
_RESUME = b"<resume>"


def sniff(path: Path) -> bool:
    """A folder holding ``Posts.xml`` (with ``<posts>`` rows) and ``Comments.xml``."""
    try:
        if not path.is_dir() or not (path / "Comments.xml").is_file():
            return False
        with (path / "Posts.xml").open("rb") as fh:
            head = fh.read(65536).decode("utf-8", "replace")
    except OSError:
        return False
    return "<posts" in head and "<row " in head and "PostTypeId=" in head


def read(paths: Sequence[Path], *, on_error: str = "strict") -> ReadResult:
    r"""Read Stack Exchange dump folders into canonical events.

    Parameters
    ----------
    paths : sequence of Path
        Dump folders of one site (each with ``Posts.xml`` and ``Comments.xml``).
        Ids are per site: folders of different sites would collide.
    on_error : {"strict", "skip"}
        Stop at the first malformed row, or quarantine it and go on.

    Returns
    -------
    ReadResult
        Events with ``platform="stackexchange"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "Posts.xml").write_text('<posts>\n'
    ...     '<row Id="1" PostTypeId="1" CreationDate="2020-01-01T10:00:00.000" OwnerUserId="7" />\n'
    ...     '<row Id="2" PostTypeId="2" ParentId="1" CreationDate="2020-01-01T11:00:00.000" OwnerUserId="8" />\n'
    ...     '</posts>\n')
    >>> _ = (d / "Comments.xml").write_text('<comments>\n'
    ...     '<row Id="1" PostId="2" CreationDate="2020-01-01T12:00:00.000" UserDisplayName="gone" />\n'
    ...     '</comments>\n')
    >>> read([d]).events.select("event_id", "actor_id", "action", "thread_id", "target_actor_id").rows()
    [('post:1', '7', 'post', 'post:1', None), ('post:2', '8', 'reply', 'post:1', '7'), ('comment:1', 'deleted:gone', 'reply', 'post:1', '8')]
    """
    folders = [Path(p) for p in paths]
    if not folders:
        raise ValueError("no input given")
    sink = Sink(on_error)
    for folder in folders:
        _check_folder(folder)
    ignored = 0
    for folder in folders:
        posts = folder / "Posts.xml"
        for line, raw, attrs in _rows(posts, "posts", sink):
            if attrs.get("PostTypeId") in WIKI_TYPES:
                ignored += 1
                continue
            sink.record(posts, line, raw, _builder(_post, sink, attrs, posts, line, raw))
        comments = folder / "Comments.xml"
        for line, raw, attrs in _rows(comments, "comments", sink):
            sink.record(comments, line, raw, _builder(_comment, sink, attrs, comments, line, raw))
    if ignored:
        _log.info("ignored %d tag-wiki rows (PostTypeId 3, 4, 5, 7, 8)", ignored)
    names: dict[str, str] = {}
    for folder in folders:
        _user_names(folder, names)
    return finish(sink, NAME, OBSERVABILITY, sources=[str(f) for f in folders], names=names)


# --------------------------------------------------------------------------- rows -> events


def _builder(func, sink: Sink, attrs: dict, path: Path, line: int, raw: str):
    def build() -> None:
        row = func(attrs)
        sink.add({**row, "_source": str(path), "_line": line, "_raw": raw})

    return build


def _post(a: dict) -> dict:
    post_id = _int_attr(a, "Id")
    kind = a.get("PostTypeId")
    if kind is None:
        raise RecordError("missing PostTypeId")
    if not _is_int(kind):
        raise RecordError(f"malformed PostTypeId '{kind}'")
    event_id = f"post:{post_id}"
    row = {
        "event_id": event_id,
        "timestamp": _date(a, "CreationDate"),
        "actor_id": _actor(a, "OwnerUserId", "OwnerDisplayName"),
        "text": _post_text(a),
    }
    if kind == "2":
        if "ParentId" not in a:
            raise RecordError("answer (PostTypeId 2) without ParentId")
        parent = f"post:{_int_attr(a, 'ParentId')}"
        if parent == event_id:
            raise RecordError(f"ParentId '{a['ParentId']}' is the post's own Id")
        return {**row, "action": "reply", "parent_id": parent, "thread_id": parent}
    # questions, and other authored root content (e.g. moderator nominations)
    return {**row, "action": "post", "thread_id": event_id}


def _comment(a: dict) -> dict:
    comment_id = _int_attr(a, "Id")
    if "PostId" not in a:
        raise RecordError("comment without PostId")
    return {
        "event_id": f"comment:{comment_id}",
        "timestamp": _date(a, "CreationDate"),
        "actor_id": _actor(a, "UserId", "UserDisplayName"),
        "action": "reply",
        "parent_id": f"post:{_int_attr(a, 'PostId')}",
        "text": a.get("Text"),
    }


def _post_text(a: dict) -> str | None:
    body = a.get("Body")
    title = a.get("Title")
    if title:
        return f"{title}\n\n{body or ''}"
    return body


def _is_int(value: str) -> bool:
    digits = value[1:] if value.startswith("-") else value
    return digits.isascii() and digits.isdigit()


def _int_attr(a: dict, name: str) -> str:
    value = a.get(name)
    if value is None or value == "":
        raise RecordError(f"missing {name}")
    if not _is_int(value):
        raise RecordError(f"malformed {name} '{value}' (expected an integer)")
    return value


def _actor(a: dict, id_name: str, name_name: str) -> str:
    if a.get(id_name):
        return _int_attr(a, id_name)
    name = (a.get(name_name) or "").strip()
    if name:
        return f"deleted:{name}"
    raise RecordError(f"missing {id_name} (and no {name_name}): author unknown")


def _date(a: dict, name: str) -> datetime:
    value = a.get(name)
    if not value:
        raise RecordError(f"missing {name}")
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"malformed {name} '{value}'") from None
    if stamp.tzinfo is None:  # dumps write UTC without a zone
        return stamp.replace(tzinfo=UTC)
    return utc(stamp, name, value)


# --------------------------------------------------------------------------- files -> rows


def _check_folder(folder: Path) -> None:
    where = str(folder)
    if not folder.exists():
        raise ev.EventsError([ev.Problem(where, None, "no such folder")])
    if not folder.is_dir():
        raise ev.EventsError(
            [
                ev.Problem(
                    where,
                    None,
                    "is a file: give the dump folder (with Posts.xml and Comments.xml)",
                )
            ]
        )
    for name in FILES:
        path = folder / name
        if not path.is_file():
            missing = "is not a file" if path.exists() else "missing"
            raise ev.EventsError([ev.Problem(str(path), None, f"{missing} (a dump has {name})")])
        try:
            with path.open("rb") as fh:
                first = fh.read(1)
        except OSError as exc:
            raise ev.EventsError(
                [ev.Problem(str(path), None, f"unreadable ({exc.strerror})")]
            ) from None
        if not first:
            raise ev.EventsError([ev.Problem(str(path), None, "empty file (no XML)")])
        with path.open("rb") as fh:
            problem = head_problem(path, fh.read(8192))
        if problem is not None:
            raise ev.EventsError([problem])


def _structural(text: str) -> bool:
    """A line that is only a declaration, a doctype or a closing tag (no record)."""
    text = text.strip().lstrip("\ufeff")
    if text.startswith(("<?", "<!")):
        return True
    return text.startswith("</") and text.endswith(">") and text.count("<") == 1


def _row_alone(text: str) -> dict | None:
    """The attributes of ``text`` if it is one complete ``<row .../>`` on its own."""
    try:
        elem = ET.fromstring(text.strip())
    except ET.ParseError:
        return None
    return dict(elem.attrib) if elem.tag == "row" else None


def _message(exc: ET.ParseError) -> str:
    """The parser's message without its position (which counts from a restart)."""
    return str(exc).split(": line ", 1)[0]


def _reason(exc: ET.ParseError) -> str:
    return f"malformed XML row ({_message(exc)})"


def _rows(path: Path, root_name: str, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    """Yield ``(line, raw text, attributes)`` of each ``<row>`` of a dump file.

    Lines that are not UTF-8, rows that are not well-formed XML and rows holding a
    line over :data:`MAX_RECORD_BYTES` are counted as records and reported to
    ``sink``; parsing resumes on the next line.
    """
    stream = _RowStream(path, root_name, sink)
    number = 0
    with path.open("rb") as fh:
        for number, data, size in iter_lines(fh, bom=False):  # noqa: B007 - number is used after
            if size > MAX_RECORD_BYTES:
                stream.too_long(number, data, size)
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = ev.not_utf8(data, exc)[1]
                sink.reject(path, number, reason, data.decode("utf-8", "replace").strip())
                continue
            yield from stream.feed(number, text, data + b"\n")
    stream.close(number)


class _RowStream:
    """An incremental XML parser over a dump file's lines that resumes after a bad row."""

    def __init__(self, path: Path, root_name: str, sink: Sink) -> None:
        self.path, self.root_name, self.sink = path, root_name, sink
        self.parser: ET.XMLPullParser = ET.XMLPullParser(events=("start", "end"))
        self.root: ET.Element | None = None  # the element whose children are rows
        self.depth = 0
        self.pending: list[tuple[int, str]] = []  # lines fed since the last complete row

    def _lines(self, lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
        return [(n, t.strip()) for n, t in lines if t.strip() and not _structural(t)]

    def _bad(self, lines: list[tuple[int, str]], reason: str) -> None:
        lines = self._lines(lines)
        if lines:
            self.sink.reject(self.path, lines[0][0], reason, "\n".join(t for _, t in lines))

    def _restart(self) -> None:
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.parser.feed(_RESUME)
        _, root = cast(tuple[str, ET.Element], next(iter(self.parser.read_events())))
        self.root = root  # a "start" event's element
        self.depth = 1
        self.pending.clear()

    def _fail(self, number: int | None, reason: str) -> ev.EventsError:
        return ev.EventsError([ev.Problem(str(self.path), number, reason)])

    def too_long(self, number: int, data: bytes, size: int) -> None:
        """A line over the size limit: the row holding it is one bad record."""
        if self.root is None:
            raise self._fail(number, f"not an XML file ({too_long(size)})")
        before = self._lines(self.pending)
        text = "".join(f"{t}\n" for _, t in before) + truncated(data, size)
        self.sink.reject(self.path, before[0][0] if before else number, too_long(size), text)
        self._restart()

    def feed(self, number: int, text: str, data: bytes) -> Iterator[tuple[int, str, dict]]:
        """Feed one line; yield the rows it completes."""
        self.pending.append((number, text))
        self.parser.feed(data)
        try:
            for event in self.parser.read_events():  # start and end events: elements
                kind, elem = cast(tuple[str, ET.Element], event)
                row = self._event(kind, elem, number)
                if row is not None:
                    yield row
        except ET.ParseError as exc:
            if self.root is None:
                raise self._fail(number, f"not an XML file ({_message(exc)})") from None
            *before, (last_number, last_text) = self.pending
            alone = None if _structural(last_text) else _row_alone(last_text)
            self._bad(before if alone is not None else self.pending, _reason(exc))
            self._restart()
            if alone is not None:
                yield last_number, last_text.strip(), alone

    def _event(self, kind: str, elem: ET.Element, number: int) -> tuple[int, str, dict] | None:
        if kind == "start":
            self.depth += 1
            if self.depth == 1:
                if elem.tag != self.root_name:
                    raise self._fail(
                        number,
                        f"not a Stack Exchange {self.path.name} "
                        f"(root element <{elem.tag}>, expected <{self.root_name}>)",
                    )
                self.root = elem
                self.pending.clear()
            return None
        self.depth -= 1
        if self.depth != 1:  # inside a row, or the root closing
            return None
        lines = self._lines(self.pending)
        self.pending.clear()
        line = lines[0][0] if lines else number
        raw = "\n".join(t for _, t in lines) or ET.tostring(elem, encoding="unicode")
        if self.root is not None:  # the rows' parent, set by its start event
            self.root.clear()
        if elem.tag == "row":
            return line, raw, dict(elem.attrib)
        self.sink.reject(self.path, line, f"unexpected element <{elem.tag}>", raw)
        return None

    def close(self, number: int) -> None:
        """End of the file: a truncated last row is a bad record (a missing closing tag is none)."""
        try:
            self.parser.close()
        except ET.ParseError as exc:
            if self.root is None:
                raise self._fail(number or None, "not an XML file (no root element)") from None
            self._bad(self.pending, _reason(exc))


def account_names(paths: str | Path | Sequence[str | Path]) -> dict[str, str]:
    """Map user id -> ``DisplayName`` from each dump folder's ``Users.xml`` (when present).

    Deleted accounts are already named ``deleted:<display name>`` by :func:`read`,
    which also collects this mapping in :attr:`ReadResult.names`.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    names: dict[str, str] = {}
    for folder in map(Path, paths):
        _user_names(folder, names)
    return names


def _user_names(folder: Path, names: dict[str, str]) -> None:
    """Add user id -> ``DisplayName`` of ``folder/Users.xml`` (streamed; nothing if absent)."""
    users = folder / "Users.xml"
    if not users.is_file():
        return
    try:
        for _, elem in ET.iterparse(users, events=("end",)):
            if elem.tag == "row" and elem.get("Id") is not None and elem.get("DisplayName"):
                names[elem.get("Id")] = elem.get("DisplayName")
            elem.clear()
    except (ET.ParseError, OSError):
        return  # names are a convenience; the events do not depend on them
