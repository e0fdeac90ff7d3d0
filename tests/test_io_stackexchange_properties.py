"""Hypothesis properties of the Stack Exchange dump reader (``tribe_analysis.io.stackexchange``).

Dumps are written as the real ones are (attribute values escaped with ``quoteattr``: ``&``,
``<``, quotes, newlines as ``&#xA;``; non-ASCII raw or as character references), with or
without BOM, declaration, doctype and CRLF line ends, rows one per line, several on a line
or spread over lines, attributes in any order. For any mix of good and bad rows:

- every row is loaded as exactly one event or reported once (strict: an EventsError naming
  the first bad row's file and line; skip: in ``skipped`` with its line and verbatim text);
  tag-wiki rows are neither; ``records_read == records_loaded + len(skipped)``;
- a malformed row (truncated, not closed, missing its ``<``, not UTF-8, another element)
  never swallows the row after it, nor takes its text;
- ids, parents, authors (``deleted:<name>``), text and ``CreationDate`` (with or without a
  fraction, with an offset) map as documented; ``PostTypeId`` in any decimal spelling;
- ``names`` equal ``account_names`` and ``Users.xml``; two copies of a dump overlap; the
  order of the rows does not change the events.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

import hypothesis
import polars as pl
from hypothesis import strategies as st

from tests.conftest import consistent
from tribe_analysis import events as ev
from tribe_analysis.io import stackexchange as se

SETTINGS = hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
_INVALID = [chr(c) for c in range(32) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff", "\ufffd"]
TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters=_INVALID), max_size=12
)
ROOTS = {"Posts.xml": "posts", "Comments.xml": "comments"}
BAD = ["missing Id", "bad date", "no author", "truncated", "unclosed", "no <", "not UTF-8",
       "element"]  # fmt: skip


@dataclass
class Row:
    """One item written to a dump file, and what the reader should make of it."""

    kind: str  # "good", "wiki" or one of BAD
    text: str  # as written (str; a "not UTF-8" row holds U+FFFD where the bad byte goes)
    event: dict = field(default_factory=dict)  # expected columns of a good row
    line: int = 0  # the line it starts on, set when the file is laid out


def _attr(value: str, refs: bool) -> str:
    text = quoteattr(value).replace("&#10;", "&#xA;").replace("&#13;", "&#xD;")
    return "".join(c if ord(c) < 128 or not refs else f"&#x{ord(c):X};" for c in text)


@st.composite
def _stamp(draw: st.DrawFn) -> tuple[str, datetime]:
    """A CreationDate as the dumps write it (or with an offset) and its UTC instant."""
    moment = draw(st.datetimes(datetime(2008, 1, 1), datetime(2030, 1, 1)))
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    form = draw(st.sampled_from(["ms", "s", "offset"]))
    if form == "s":
        moment = moment.replace(microsecond=0)
        return moment.isoformat(timespec="seconds"), moment.replace(tzinfo=UTC)
    if form == "ms":
        return moment.isoformat(timespec="milliseconds"), moment.replace(tzinfo=UTC)
    zone = timezone(timedelta(minutes=15 * draw(st.integers(-48, 56))))
    local = moment.replace(tzinfo=UTC).astimezone(zone)
    return local.isoformat(timespec="milliseconds"), moment.replace(tzinfo=UTC)


@st.composite
def _author(draw: st.DrawFn, names: tuple[str, str]) -> tuple[dict, str]:
    """Author attributes (a user id, or a deleted account's display name) and the actor."""
    if draw(st.booleans()):
        user = str(draw(st.integers(-1, 10**7)))
        return {names[0]: user}, user
    name = draw(TEXT.filter(lambda t: t.strip()))
    return {names[1]: name}, f"deleted:{name.strip()}"


@st.composite
def _good(draw: st.DrawFn, file: str, i: int) -> Row:
    """A good row of ``file`` with Id ``i``: question, answer, tag wiki or comment."""
    created, moment = draw(_stamp())
    event = {"event_id": f"{'post' if file == 'Posts.xml' else 'comment'}:{i}", "timestamp": moment}
    if file == "Comments.xml":
        author, event["actor_id"] = draw(_author(("UserId", "UserDisplayName")))
        parent, text = draw(st.integers(1, 30)), draw(TEXT)
        attrs = {"Id": str(i), "PostId": str(parent), "Text": text} | author
        event |= {"action": "reply", "parent_id": f"post:{parent}", "text": text}
    else:
        kind = draw(st.sampled_from([1, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8]))
        author, event["actor_id"] = draw(_author(("OwnerUserId", "OwnerDisplayName")))
        title, body = draw(TEXT), draw(TEXT)
        zeros = "0" * draw(st.integers(0, 2))  # PostTypeId="02" is an answer too
        attrs = {"Id": str(i), "PostTypeId": f"{zeros}{kind}", "Body": body} | author
        event |= {"action": "post", "parent_id": None, "text": f"{title}\n\n{body}"}
        if kind == 2:  # to an earlier post (or one not in the data): no cycle
            attrs["ParentId"] = str(draw(st.integers(0, i - 1)))
            event |= {"action": "reply", "parent_id": f"post:{attrs['ParentId']}", "text": body}
        elif title:
            attrs["Title"] = title
        else:
            event["text"] = body
    items = list((attrs | {"CreationDate": created}).items())
    items = draw(st.permutations(items))
    refs, gap = draw(st.booleans()), draw(st.sampled_from([" ", " ", "\n  "]))
    text = "<row" + "".join(f"{gap}{k}={_attr(v, refs)}" for k, v in items)
    wiki = file == "Posts.xml" and attrs["PostTypeId"].lstrip("0") in set("34578")
    return Row("wiki" if wiki else "good", text + " />", event)


@st.composite
def _bad(draw: st.DrawFn, file: str, i: int, kind: str) -> Row:
    good = draw(_good(file, i).filter(lambda r: r.kind == "good"))
    text = good.text
    if kind == "missing Id":
        text = re.sub(r'\sId="\d+"', "", text)
    elif kind == "bad date":
        text = re.sub('CreationDate="[^"]*"', 'CreationDate="yesterday"', text)
    elif kind == "no author":
        for name in ("OwnerUserId", "OwnerDisplayName", "UserId", "UserDisplayName"):
            text = text.replace(f"{name}=", f"Old{name}=")
    elif kind == "truncated":
        text = text[: draw(st.integers(2, len(text) - 2))]
    elif kind == "unclosed":
        text = text[:-3] + ">"
    elif kind == "no <":
        text = text[1:]
    elif kind == "not UTF-8":
        text = text.replace("<row", '<row Score="caf\ufffd"', 1)
    else:
        text = "<question>1</question>"
    return Row(kind, text)


@st.composite
def _file(draw: st.DrawFn, file: str, ids: range) -> list[Row]:
    rows: list[Row] = []
    for i in ids:
        kind = draw(st.sampled_from(["good"] * 6 + BAD))
        after_open = rows and rows[-1].kind in ("truncated", "unclosed", "no <")
        if after_open and kind in ("no <", "element"):  # text or a child inside that row
            kind = "good"
        rows.append(draw(_good(file, i)) if kind == "good" else draw(_bad(file, i, kind)))
    return rows


def _layout(rows: list[Row], root: str, seps: list[str], head: str) -> str:
    """The file's text; sets each row's line. "not UTF-8" rows are alone on their lines."""
    text = head + f"<{root}>\n"
    for k, row in enumerate(rows):
        alone = row.kind == "not UTF-8" or (k and rows[k - 1].kind == "not UTF-8")
        text += "\n" if alone and not text.endswith("\n") else ""
        row.line = text.count("\n") + 1
        text += row.text + (seps[k % len(seps)] if k + 1 < len(rows) else "\n")
    return text + ("\n" if not text.endswith("\n") else "") + f"</{root}>\n"


def _write(path: Path, text: str, crlf: bool) -> None:
    data = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes(data.encode("utf-8").replace("caf\ufffd".encode(), b"caf\xe9"))


HEADS = ["", '<?xml version="1.0" encoding="utf-8"?>\n',
         '\ufeff<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE posts SYSTEM "posts.dtd">\n']  # fmt: skip
SEPS = st.lists(st.sampled_from(["\n", "\n  ", "", " ", "\n\n"]), min_size=1, max_size=4)


def _dump(folder: Path, files: dict[str, list[Row]], seps: list[str], head: str, crlf: bool):
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        _write(folder / name, _layout(rows, ROOTS[name], seps, head), crlf)
    return folder


def _events(result: se.ReadResult) -> pl.DataFrame:
    assert isinstance(result.events, pl.DataFrame)
    return result.events


def _check_strict(folder: Path, files: dict[str, list[Row]]) -> None:
    bad = [(name, r.line) for name, rows in files.items() for r in rows if r.kind in BAD]
    try:
        result = se.read([folder])
    except ev.EventsError as exc:
        [problem] = exc.problems
        assert bad and (problem.source, problem.line) == (str(folder / bad[0][0]), bad[0][1])
        assert "\n" not in str(exc)
        return
    assert not bad
    consistent(result)


def _check_skip(folder: Path, files: dict[str, list[Row]]) -> None:
    result = se.read([folder], on_error="skip")
    consistent(result)
    assert result.records_read == result.records_loaded + len(result.skipped)
    want_bad = sorted(
        (str(folder / name), r.line, "\n".join(s.strip() for s in r.text.split("\n") if s.strip()))
        for name, rows in files.items()
        for r in rows
        if r.kind in BAD
    )
    assert sorted((s.source, s.line, s.record) for s in result.skipped) == want_bad
    good = [r.event for rows in files.values() for r in rows if r.kind == "good"]
    assert result.records_read == len(good) + len(want_bad)
    got = {e["event_id"]: e for e in _events(result).iter_rows(named=True)}
    assert set(got) == {e["event_id"] for e in good}
    for want in good:
        assert {k: got[want["event_id"]][k] for k in want} == want


@SETTINGS
@hypothesis.given(
    st.data(), st.integers(0, 8), st.integers(0, 8), SEPS, st.sampled_from(HEADS),
    st.booleans(),
)  # fmt: skip
def test_every_row_is_one_event_or_reported(data, n_posts, n_comments, seps, head, crlf):
    if n_posts + n_comments == 0:
        return
    files = {
        "Posts.xml": data.draw(_file("Posts.xml", range(1, n_posts + 1))),
        "Comments.xml": data.draw(_file("Comments.xml", range(1, n_comments + 1))),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = _dump(Path(tmp) / "site", files, seps, head, crlf)
        if all(r.kind == "wiki" for rows in files.values() for r in rows):
            return
        _check_strict(folder, files)
        _check_skip(folder, files)


@SETTINGS
@hypothesis.given(st.data(), st.integers(1, 8), st.randoms(use_true_random=False))
def test_row_order_and_a_second_copy_change_nothing(data, n, random):
    rows = [r for r in data.draw(_file("Posts.xml", range(1, n + 1))) if r.kind == "good"]
    hypothesis.assume(rows)
    shuffled = random.sample(rows, len(rows))
    with tempfile.TemporaryDirectory() as tmp:
        one = _dump(Path(tmp) / "a", {"Posts.xml": rows, "Comments.xml": []}, ["\n"], "", False)
        two = _dump(Path(tmp) / "b", {"Posts.xml": shuffled, "Comments.xml": []}, ["\n"], "", False)
        first, second = se.read([one]), se.read([two])
        assert _events(first).equals(_events(second))
        both = se.read([one, two], on_error="skip")
        consistent(both)
        assert _events(both).equals(_events(first))
        assert both.records_read == 2 * len(rows) and len(both.skipped) == len(rows)
        assert all(s.reason.startswith("duplicate id") for s in both.skipped)


@SETTINGS
@hypothesis.given(st.lists(st.tuples(st.integers(-1, 50), TEXT), max_size=8), st.booleans())
def test_users_xml_names(users, refs):
    from tribe_analysis import io

    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            Row(
                "good",
                '<row Id="1" PostTypeId="1" CreationDate="2020-01-01T00:00:00" OwnerUserId="7" />',
            )
        ]
        folder = _dump(
            Path(tmp) / "site", {"Posts.xml": rows, "Comments.xml": []}, ["\n"], "", False
        )
        lines = "".join(
            f'  <row Id="{i}" DisplayName={_attr(name, refs)} />\n' for i, name in users
        )
        (folder / "Users.xml").write_text(f"\ufeff<users>\n{lines}</users>\n", "utf-8")
        want = {str(i): name for i, name in users if name}
        assert se.read([folder]).names == se.account_names(folder) == want
        assert io.read([folder]).names == io.account_names([folder], "stackexchange")


# --------------------------------------------------------------------------- @name replies

_POOL = ["Ann Ray", "Annie", "Bée Côté", "bee", "Cy", "Łukasz", "o0'.", "T.E.D.", "Straße 9"]


def _key(name: str) -> str:
    """Stack Exchange's matching key, written independently of the reader's polars one."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if unicodedata.category(ch) != "Mn"
    )
    plain = "".join(ch for ch in plain.lower() if not ch.isspace())
    for letter, ascii_ in se._SPELLED.items():
        plain = plain.replace(letter, ascii_)
    return plain


def _token(text: str) -> str | None:
    found = re.search(se._AT_NAME, text)
    if not found:
        return None
    word = found.group(1)
    if unicodedata.category(word[-1]).startswith("P"):
        word = word[:-1]
    return _key(word) or None


def _expected_parents(comments: list[dict], owners: dict[str, str], names: dict) -> dict:
    """The parent of every comment by the documented rules, one comment at a time."""

    def name_key(actor: str) -> str | None:
        name = actor[8:] if actor.startswith("deleted:") else names.get(actor)
        return None if name is None else _key(name)

    order = sorted(comments, key=lambda c: (c["timestamp"], int(c["event_id"][8:])))
    parents, seen = {}, []
    for c in order:
        earlier = [
            e for e in seen if e["parent_id"] == c["parent_id"] and e["actor_id"] != c["actor_id"]
        ]
        to = _token(c["text"])
        if to is not None:
            earlier = [
                e
                for e in earlier
                if (k := name_key(e["actor_id"])) is not None
                and k.startswith(to)
                and (len(to) >= se.MIN_REPLY_NAME or k == to)
            ]
        elif c["actor_id"] != owners[c["parent_id"]] or len({e["actor_id"] for e in earlier}) != 1:
            earlier = []
        parents[c["event_id"]] = earlier[-1]["event_id"] if earlier else c["parent_id"]
        seen.append(c)
    return parents


@st.composite
def _said(draw: st.DrawFn) -> str:
    """A comment's text: plain, an e-mail address, or an @name spelled as people do."""
    name = draw(st.sampled_from(_POOL))
    spelled = name.replace(" ", "")
    spelled = "".join(ch.upper() if draw(st.booleans()) else ch for ch in spelled)
    start = spelled[: draw(st.integers(1, len(spelled)))] + draw(
        st.sampled_from(["", ":", ",", "."])
    )
    return draw(st.sampled_from([
        "", "plain words", f"mail {spelled}@example.org", f"@{start} yes", f"so @{start}",
        f"@{start}", f"x@{start} no", f"@{start} and @{name}",
    ]))  # fmt: skip


@SETTINGS
@hypothesis.given(
    st.dictionaries(st.sampled_from("12345"), st.sampled_from(_POOL), max_size=5),
    st.lists(st.sampled_from(["1", "2", "3", "4", "5", "deleted:Cy", "deleted:Annie"]),
             min_size=2, max_size=2),
    st.lists(
        st.tuples(st.integers(1, 2), st.sampled_from(["1", "2", "3", "4", "5", "deleted:Cy"]),
                  st.integers(0, 3), _said()),
        max_size=10,
    ),
)  # fmt: skip
def test_at_name_replies_follow_the_documented_rules(names, owners, said):
    """Every comment's parent is the one the rules give: an earlier comment by another
    account on the same post, else the post; threads never change."""
    posts = [
        {"event_id": f"post:{i}", "timestamp": datetime(2020, 1, 1, tzinfo=UTC),
         "actor_id": owner, "parent_id": None, "text": "Q"}
        for i, owner in enumerate(owners, start=1)
    ]  # fmt: skip
    comments = [
        {"event_id": f"comment:{i}", "timestamp": datetime(2020, 1, 2, 0, minute, tzinfo=UTC),
         "actor_id": actor, "parent_id": f"post:{post}", "text": text}
        for i, (post, actor, minute, text) in enumerate(said, start=1)
    ]  # fmt: skip
    frame = pl.DataFrame(posts + comments, schema={
        "event_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "actor_id": pl.String,
        "parent_id": pl.String, "text": pl.String,
    })  # fmt: skip
    got = se.addressed_replies(frame, names)
    assert got.drop("parent_id").equals(frame.drop("parent_id"))
    want = _expected_parents(comments, {p["event_id"]: p["actor_id"] for p in posts}, names)
    assert dict(zip(got["event_id"], got["parent_id"], strict=True)) == {
        "post:1": None,
        "post:2": None,
        **want,
    }
    # threads are those of flat comments: each comment's chain ends at its own post
    parent = dict(zip(got["event_id"], got["parent_id"], strict=True))
    for c in comments:
        top = c["event_id"]
        while parent[top] is not None and parent[top].startswith("comment:"):
            top = parent[top]
        assert parent[top] == c["parent_id"]
