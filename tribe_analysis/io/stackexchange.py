"""Stack Exchange data dumps (one site's folder: ``Posts.xml`` and ``Comments.xml``).

Each ``<row .../>`` is a record. Questions (``PostTypeId=1``) are posts, answers
(``PostTypeId=2``) are replies to their question (``ParentId``), comments are
replies to the post they are on (``PostId``), or to the comment they answer by
``@name`` (:func:`addressed_replies`, with the names of ``Users.xml``). Event ids
are ``post:<Id>`` and ``comment:<Id>`` (post and comment ids overlap in the dump).
Actors are user ids (``OwnerUserId``/``UserId``, ``-1`` is the *Community* bot); a
deleted account keeps only a display name and becomes ``deleted:<display name>``.

Tag-wiki rows (``PostTypeId`` 3, 4, 5, 7, 8: community-edited reference text,
not conversation) are ignored: they are neither loaded nor counted as records
(the number ignored is logged). Votes are not in these files (only net
``Score``), so reactions are unobservable. ``Users.xml`` is optional: when present
it is read once, for display names (:attr:`ReadResult.names`) and the ``@name``
replies; without it comments stay flat and reply chains are unobservable.

The XML is streamed row by row with :class:`xml.etree.ElementTree.XMLPullParser`
(the incremental parser behind ``iterparse``), fed one line at a time, each line cut
before every ``<`` (attribute values and text hold no raw ``<``), so every row has its
line number and its own text even when rows share a line; a malformed row is reported
(or quarantined) and parsing resumes at the next element, so it never swallows the row
after it. Text outside a ``<row>`` (e.g. a row that lost its ``<``) is a bad record, and a
line that is not UTF-8 makes the row holding it bad.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import cast

import polars as pl

from tribe_analysis import events as ev
from tribe_analysis.io._base import (
    LINE_BUFFER,
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
    "reply_chain": True,
}
"""No shares; votes given are private; ``@name`` in comments addresses a reply, it does
not promote anyone (mentions are unobservable). Comments are flat, but a comment
answers another in place by Stack Exchange's ``@name`` reply rules
(:func:`addressed_replies`), which need the display names of ``Users.xml``: without
them ``reply_chain`` is unobservable."""

FILES = {"Posts.xml": "posts", "Comments.xml": "comments"}
"""Dump files read, with their root element."""

WIKI_TYPES = frozenset({"3", "4", "5", "7", "8"})
"""PostTypeIds ignored: orphaned tag wiki, tag-wiki excerpt, tag wiki, wiki placeholder, privilege wiki."""

_log = logging.getLogger(__name__)
_RESUME = b"<resume>"
_OPENS = re.compile(r"<[^/!?]")
_ROOT_END = re.compile(r"</(posts|comments|resume)\s*>")


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
            if _post_type(attrs) in WIKI_TYPES:
                ignored += 1
                continue
            sink.record(posts, line, raw, _builder(_post, sink, attrs, posts, line, raw))
        comments = folder / "Comments.xml"
        for line, raw, attrs in _rows(comments, "comments", sink):
            sink.record(comments, line, raw, _builder(_comment, sink, attrs, comments, line, raw))
    if ignored:
        _log.info("ignored %d tag-wiki rows (PostTypeId 3, 4, 5, 7, 8)", ignored)
    names: dict[str, str] = {}
    unnamed = [str(folder) for folder in folders if not _user_names(folder, names)]
    notes = (
        [
            f"no readable Users.xml in {', '.join(unnamed)}: comments stay replies to their "
            "post (whom a comment answers by @name needs the display names; docs/formats.md)"
        ]
        if unnamed
        else []
    )
    return finish(
        sink,
        NAME,
        {**OBSERVABILITY, "reply_chain": not unnamed},
        sources=[str(f) for f in folders],
        names=names,
        links=None if unnamed else (lambda frame: _linked(frame, names)),
        notes=notes,
    )


def _linked(frame: pl.DataFrame, names: Mapping[str, str]) -> tuple[pl.DataFrame, list[str]]:
    """:func:`addressed_replies` of the rows, and a note saying how many comments it tied."""
    linked = addressed_replies(frame, names)
    comments = frame.select(pl.col("event_id").str.starts_with("comment:").sum()).item()
    tied = linked.select((pl.col("parent_id").str.starts_with("comment:")).sum()).item()
    if not comments:
        return linked, []
    note = (
        f"{tied:,} of {comments:,} comments answer another comment, the one their @name "
        "addresses (Stack Exchange's @reply rules, docs/formats.md); the others reply to "
        "their post"
    )
    return linked, [note]


# --------------------------------------------------------------------------- @name replies

_SPELLED = {"ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ø": "o", "ı": "i", "ħ": "h"}
"""Letters without a decomposition that ``@name`` replies spell in ASCII."""

_AT_NAME = r"(?:^|[^\w@])@([^\s@]+)"
"""The first ``@name`` of a comment: ``@`` not inside a word (an e-mail address) and
what follows it up to the first space."""

MIN_REPLY_NAME = 3
"""Shortest start of a display name that an ``@name`` may be (the platform's rule); a
shorter name is addressed by the whole of it."""


def reply_key(name: pl.Expr) -> pl.Expr:
    """A display name or ``@name`` as Stack Exchange matches them: lower case, no spaces, ASCII letters.

    Examples
    --------
    >>> pl.select(reply_key(pl.lit("Péter Török"))).item(), pl.select(reply_key(pl.lit("T.E.D."))).item()
    ('petertorok', 't.e.d.')
    """
    plain = name.str.normalize("NFKD").str.replace_all(r"\p{Mn}", "").str.to_lowercase()
    return plain.str.replace_all(r"\s", "").str.replace_many(_SPELLED)


def addressed_replies(frame: pl.DataFrame, names: Mapping[str, str]) -> pl.DataFrame:
    """Comments re-parented to the comment they answer, by Stack Exchange's ``@name`` rules.

    Comments are flat: each is a reply to its post. The platform lets a comment
    answer another by ``@name`` (meta.stackexchange.com, *How do comment @replies
    work?*): the first ``@name`` of the comment, one final punctuation mark
    ignored, matches the start (at least 3 letters, or all) of a display name without
    spaces, case and accents aside, among the post's earlier commenters and its
    owner. A comment whose ``@name`` matches an earlier commenter other than its
    author answers that commenter's latest comment on the post (``parent_id``
    becomes that comment, so ``target_actor_id`` becomes its author); one that
    matches only the owner stays a reply to the post. The owner's own comment
    without ``@name`` answers the single other account that commented before, if
    there is exactly one (the platform notifies that account too). Unmatched
    names (accounts renamed since, editors, typos) leave the comment on its post.

    Parameters
    ----------
    frame : polars.DataFrame
        The reader's rows (``event_id`` ``post:<Id>`` and ``comment:<Id>``,
        ``timestamp``, ``actor_id``, ``parent_id``, ``text``).
    names : mapping
        User id -> display name (``Users.xml``); deleted accounts
        (``deleted:<name>``) go by the name they kept.

    Returns
    -------
    polars.DataFrame
        ``frame`` with the answering comments' ``parent_id`` changed, rows in order.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t = [datetime(2020, 1, 1, h, tzinfo=UTC) for h in range(4)]
    >>> rows = pl.DataFrame({
    ...     "event_id": ["post:1", "comment:1", "comment:2", "comment:3"], "timestamp": t,
    ...     "actor_id": ["7", "8", "9", "7"], "parent_id": [None, "post:1", "post:1", "post:1"],
    ...     "text": ["Q", "Why?", "@Ann: because", "@Bée thanks"]})
    >>> names = {"7": "Ann Ray", "8": "Bée", "9": "Cy"}
    >>> addressed_replies(rows, names)["parent_id"].to_list()
    [None, 'post:1', 'post:1', 'comment:1']
    """
    comments = _comments(frame, names)
    answers = _answered(comments, _owners(frame)).collect()
    if not answers.height:
        return frame
    return (
        frame.join(answers, on="event_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("__answers", "parent_id").alias("parent_id"))
        .drop("__answers")
    )


_COMMENT = pl.col("event_id").str.starts_with("comment:")


def _comments(frame: pl.DataFrame, names: Mapping[str, str]) -> pl.LazyFrame:
    """The comments with their post, order (``__n``), ``@name`` (``__to``) and author's name key."""
    c = pl.col
    who = pl.LazyFrame(
        {"actor_id": list(names), "__name": list(names.values())},
        schema={"actor_id": pl.String, "__name": pl.String},
    )
    deleted = c("actor_id").str.starts_with("deleted:")
    to = reply_key(c("text").str.extract(_AT_NAME, 1).str.replace(r"\p{P}$", ""))
    return (
        frame.lazy()
        .filter(_COMMENT)
        .select(
            "event_id",
            "actor_id",
            "timestamp",
            c("parent_id").alias("__post"),
            c("event_id").str.strip_prefix("comment:").cast(pl.Int64, strict=False).alias("__n"),
            pl.when(to != "").then(to).alias("__to"),
        )
        .join(who, on="actor_id", how="left")
        .with_columns(
            reply_key(
                pl.coalesce("__name", pl.when(deleted).then(c("actor_id").str.slice(8)))
            ).alias("__key")
        )
        .drop("__name")
    )


def _owners(frame: pl.DataFrame) -> pl.LazyFrame:
    """``__post`` and its author ``__owner``."""
    return (
        frame.lazy()
        .filter(~_COMMENT)
        .select(pl.col("event_id").alias("__post"), pl.col("actor_id").alias("__owner"))
    )


def _answered(comments: pl.LazyFrame, owners: pl.LazyFrame) -> pl.LazyFrame:
    """``event_id`` of each answering comment and ``__answers``, the comment it answers."""
    c = pl.col
    earlier = comments.select(
        "__post",
        c("event_id").alias("__e"),
        c("actor_id").alias("__by"),
        c("timestamp").alias("__et"),
        c("__n").alias("__en"),
        c("__key").alias("__ekey"),
    )
    before = (c("__et") < c("timestamp")) | ((c("__et") == c("timestamp")) & (c("__en") < c("__n")))
    by_name = (
        comments.filter(c("__to").is_not_null())
        .join(earlier, on="__post")
        .filter(
            before,
            c("__by") != c("actor_id"),
            c("__ekey").str.starts_with(c("__to")),
            (c("__to").str.len_chars() >= MIN_REPLY_NAME) | (c("__ekey") == c("__to")),
        )
    )
    single = (  # the owner, without @name, after exactly one other account
        comments.filter(c("__to").is_null())
        .join(owners, on="__post")
        .filter(c("actor_id") == c("__owner"))
        .join(earlier, on="__post")
        .filter(before, c("__by") != c("actor_id"))
        .filter(c("__by").n_unique().over("event_id") == 1)
    )
    columns = ["event_id", "__e", "__et", "__en"]
    return (
        pl.concat([by_name.select(columns), single.select(columns)])
        .group_by("event_id")
        .agg(c("__e").sort_by("__et", "__en").last().alias("__answers"))
    )


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
    kind = str(int(kind))  # "02" is an answer too
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


def _post_type(a: dict) -> str | None:
    """``PostTypeId`` as a plain decimal (``02`` is an answer too), or as written if not an integer."""
    kind = a.get("PostTypeId")
    return str(int(kind)) if kind is not None and _is_int(kind) else kind


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
    return str(int(value))  # as the dump writes ids: '01' is post 1, and '-0' user 0


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
    """A piece that is only a declaration, a doctype, a comment or the root's closing tag."""
    text = text.strip().lstrip("\ufeff")
    return text.startswith(("<?", "<!")) or _ROOT_END.fullmatch(text) is not None


Piece = tuple[int, str]
"""A line number and a piece of that line: markup starts at ``<``, so each line is cut
before every ``<`` (attribute values and text hold no raw ``<``); the last piece of a
line ends with its line break."""


def _pieces(number: int, text: str) -> list[Piece]:
    cut = [p for p in re.split("(?=<)", text) if p]
    return [(number, p) for p in cut[:-1]] + [(number, (cut[-1] if cut else "") + "\n")]


def _text(pieces: Sequence[Piece]) -> tuple[int, str] | None:
    """First line and text of ``pieces`` (each line stripped), or None when they hold no record."""
    kept = [(n, t) for n, t in pieces if t.strip() and not _structural(t)]
    if not kept:
        return None
    return kept[0][0], _stripped("".join(t for _, t in kept))


def _stripped(text: str) -> str:
    """``text`` with each line stripped and blank lines left out."""
    return "\n".join(s for line in text.split("\n") if (s := line.strip()))


_TAG_END = re.compile(r"""(?:[^"'>]++|"[^"]*+"|'[^']*+')*+>""")
"""A start tag up to its ``>``: quoted ``>`` are inside attribute values (possessive, so a
tag whose quote is left open fails in one pass)."""


def _after(tag: str) -> str:
    """What follows the tag that starts ``tag`` ("" when it does not end).

    Examples
    --------
    >>> _after('<row Body="a > b" /> rest'), _after('<row Body="open />')
    (' rest', '')
    """
    found = _TAG_END.match(tag)
    return tag[found.end() :] if found else ""


def _records(pieces: Sequence[Piece]) -> list[list[Piece]]:
    """``pieces`` cut before each element's start tag: one bad row never holds the next."""
    parts: list[list[Piece]] = [[]]
    for piece in pieces:
        if _OPENS.match(piece[1]) and _text(parts[-1]) is not None:
            parts.append([])
        parts[-1].append(piece)
    return parts


def _start(pieces: Sequence[Piece]) -> int:
    """Index of the last piece that opens markup (where the element being read begins)."""
    return max((k for k, (_, t) in enumerate(pieces) if t.startswith("<")), default=-1)


def _message(exc: ET.ParseError) -> str:
    """The parser's message without its position (which counts from a restart)."""
    return str(exc).split(": line ", 1)[0]


def _reason(exc: ET.ParseError) -> str:
    return f"malformed XML row ({_message(exc)})"


class _Unclosed(Exception):
    """A ``<row>`` opened inside a row: the row before it was not closed."""


_UNCLOSED = "malformed XML row (not closed before the next <row>)"


def _rows(path: Path, root_name: str, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    """Yield ``(line, raw text, attributes)`` of each ``<row>`` of a dump file.

    Lines that are not UTF-8 make the row (or the text between rows) holding them bad;
    rows that are not well-formed XML, rows holding a line over
    :data:`MAX_RECORD_BYTES` and text outside a row are counted as records and
    reported to ``sink``; parsing resumes with the next element.
    """
    rows = _parsed_rows(path, root_name, sink)
    return sink.placed(path, rows, partial(_rows_again, root_name=root_name))


def _parsed_rows(path: Path, root_name: str, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    stream = _RowStream(path, root_name, sink)
    number = 0
    with path.open("rb", buffering=LINE_BUFFER) as fh:
        for number, data, size in iter_lines(fh, bom=False):  # noqa: B007 - number is used after
            if size > MAX_RECORD_BYTES:
                stream.too_long(number, data, size)
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = ev.not_utf8(data, exc)[1]
                text = data.decode("utf-8", "replace")
                if stream.root is None:
                    sink.reject(path, number, reason, text.strip())
                    continue
                stream.tainted[number] = reason  # the record holding this line is bad
            yield from stream.feed(number, text)
    stream.close(number)


def _rows_again(path: Path, sink: Sink, root_name: str) -> Iterator[tuple[int, str, dict]]:
    """:func:`_rows` in the order :meth:`Sink.raw_texts` reads a file again."""
    return _rows(path, root_name, sink)


class _RowStream:
    """An incremental XML parser over a dump file's lines that resumes after a bad row."""

    def __init__(self, path: Path, root_name: str, sink: Sink) -> None:
        self.path, self.root_name, self.sink = path, root_name, sink
        self.parser: ET.XMLPullParser = ET.XMLPullParser(events=("start", "end"))
        self.root: ET.Element | None = None  # the element whose children are rows
        self.last: ET.Element | None = None  # the last row (its tail: text after it)
        self.depth = 0
        self.pending: list[Piece] = []  # pieces fed since the last complete row
        self.broken: tuple[list[Piece], str] | None = None  # a bad row, reported at the next "<"
        self.tainted: dict[int, str] = {}  # lines that are not UTF-8, by number

    def _reasons(self, reason: str | None, pieces: Sequence[Piece]) -> str | None:
        """``reason`` and the not-UTF-8 reasons of the lines of ``pieces`` (joined by ``; ``)."""
        found = [reason] if reason else []
        lines = list(dict.fromkeys(n for n, t in pieces if t.strip()))
        for n in lines:
            if n in self.tainted:
                where = f" of line {n}" if n != lines[0] else ""
                found.append(self.tainted.pop(n) + where)
        return "; ".join(found) or None

    def _bad(self, pieces: Sequence[Piece], reason: str) -> None:
        for part in _records(pieces):
            found = _text(part)
            reasons = self._reasons(reason, part)
            if found is not None and reasons:
                self.sink.reject(self.path, found[0], reasons, found[1])

    def _flush(self) -> None:
        """Report the bad row waiting for the text that still belonged to it."""
        if self.broken is not None:
            pieces, reason = self.broken
            self.broken = None
            self._bad(pieces, reason)

    def _restart(self) -> None:
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.parser.feed(_RESUME)
        _, root = cast(tuple[str, ET.Element], next(iter(self.parser.read_events())))
        self.root = root  # a "start" event's element
        self.last = None
        self.depth = 1
        self.pending = []

    def _fail(self, number: int | None, reason: str) -> ev.EventsError:
        return ev.EventsError([ev.Problem(str(self.path), number, reason)])

    def too_long(self, number: int, data: bytes, size: int) -> None:
        """A line over the size limit: the row holding it is one bad record."""
        if self.root is None:
            raise self._fail(number, f"not an XML file ({too_long(size)})")
        self._flush()
        before = _text(self.pending)
        text = (f"{before[1]}\n" if before else "") + truncated(data, size)
        self.sink.reject(self.path, before[0] if before else number, too_long(size), text)
        self._restart()

    def feed(self, number: int, text: str) -> Iterator[tuple[int, str, dict]]:
        """Feed one line; yield the rows it completes."""
        for piece in _pieces(number, text):
            yield from self._piece(piece)

    def _piece(self, piece: Piece) -> Iterator[tuple[int, str, dict]]:
        if self.broken is not None:
            if not piece[1].startswith("<"):  # the rest of the bad row
                self.broken[0].append(piece)
                return
            self._flush()
        self.pending.append(piece)
        self.parser.feed(piece[1].encode("utf-8"))
        try:
            for event in self.parser.read_events():  # start and end events: elements
                kind, elem = cast(tuple[str, ET.Element], event)
                row = self._event(kind, elem, piece[0])
                if row is not None:
                    yield row
        except ET.ParseError as exc:
            if self.root is None:
                raise self._fail(piece[0], f"not an XML file ({_message(exc)})") from None
            yield from self._recover(_reason(exc))
        except _Unclosed:
            yield from self._recover(_UNCLOSED)

    def _recover(self, reason: str) -> Iterator[tuple[int, str, dict]]:
        """A bad row: report it and read again from the element the parser stopped at."""
        pending, at = self.pending, _start(self.pending)
        again = pending[at:] if at > 0 and _text(pending[:at]) is not None else []
        self.broken = (pending[: len(pending) - len(again)], reason)
        self._restart()
        for piece in again:
            yield from self._piece(piece)

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
                self.root, self.pending = elem, self._ended()
            elif self.depth == 2:
                self._between(_start(self.pending))
            elif self.depth == 3 and elem.tag == "row":
                raise _Unclosed
            return None
        self.depth -= 1
        if self.depth == 0:
            self._between(len(self.pending))
        if self.depth != 1:  # inside a row, or the root closing
            return None
        return self._element(elem, number)

    def _between(self, at: int) -> None:
        """Report what lies between two rows (``pending[:at]``): text, or a line not UTF-8."""
        gap, self.pending = self.pending[: max(at, 0)], self.pending[max(at, 0) :]
        if self.last is not None:  # the text after the last row, or after the root's start tag
            stray = self.last.tail or ""
        else:
            stray = (self.root.text if self.root is not None else None) or ""
        reason = self._reasons("text outside a <row>" if stray.strip() else None, gap)
        found = _text(gap)
        if reason is not None and found is not None:
            self.sink.reject(self.path, found[0], reason, found[1])

    def _ended(self) -> list[Piece]:
        """Cut ``pending`` after the element that just ended; return what follows it there."""
        number, last = self.pending[-1]
        rest = _after("".join(t for _, t in self.pending[max(_start(self.pending), 0) :]))
        if len(rest) > len(last) or not rest.strip():
            return []
        self.pending[-1] = (number, last[: len(last) - len(rest)])
        return [(number, rest)]

    def _element(self, elem: ET.Element, number: int) -> tuple[int, str, dict] | None:
        """A complete child of the root: a row, or a bad record."""
        after = self._ended()
        found = _text(self.pending)
        line, raw = found or (number, ET.tostring(elem, encoding="unicode"))
        reason = self._reasons(None, self.pending)
        self.pending, self.last = after, elem
        if self.root is not None:  # the rows' parent, set by its start event
            self.root.clear()
        if reason is None and elem.tag == "row":
            return line, raw, dict(elem.attrib)
        self.sink.reject(self.path, line, reason or f"unexpected element <{elem.tag}>", raw)
        return None

    def close(self, number: int) -> None:
        """End of the file: a truncated last row is a bad record (a missing closing tag is none)."""
        self._flush()
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


def _user_names(folder: Path, names: dict[str, str]) -> bool:
    """Add user id -> ``DisplayName`` of ``folder/Users.xml`` (streamed); whether it was read whole."""
    users = folder / "Users.xml"
    if not users.is_file():
        return False
    root: ET.Element | None = None
    try:
        for event, elem in ET.iterparse(users, events=("start", "end")):
            if root is None:  # the <users> element, which would keep every row it read
                root = elem
            if event == "start" or elem is root:
                continue
            user, name = elem.get("Id"), elem.get("DisplayName")
            if elem.tag == "row" and user is not None and _is_int(user) and name:
                names[str(int(user))] = name  # read as the rows' user ids are
            root.clear()  # memory stays flat however many users the site has
    except (ET.ParseError, OSError):
        return False  # names are a convenience, and @name replies are then left unresolved
    return True
