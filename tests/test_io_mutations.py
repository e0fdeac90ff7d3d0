"""Mutated exports in every format: no traceback, the bad record named, the rest intact.

Issue 10, item 5. For each of the eight formats a small valid export holds two
threads: the leader ``ann``'s thread (members ``bob`` and ``cid`` reply to her,
she answers) and a thread of two other members (``dan``, ``eve``) she never
meets. Hypothesis chooses a record of the second thread and a mutation that
applies to the format: truncate it, retype a field, drop a required field,
inject a NUL byte, a byte-order mark or invalid UTF-8 bytes, duplicate it, or
make two records reply to each other. Then:

- nothing but :class:`tribe_analysis.events.EventsError` is raised, and the CLI
  exits 2 with one ``error: FILE:LINE: reason`` line, never a traceback;
- a strict read names the file and the mutated record's line;
- a lenient read quarantines exactly the mutated record(s), loads every other
  record, and ``records_read == records_loaded + len(skipped)``;
- the leader's measures are those of the export without the mutation.

Where the readers do otherwise by design, the test says so: a Slack day file is one
JSON array, so a reader stops at an element that is not JSON ("the rest of the file
is not read"); a NUL byte in a file's first 8 KiB refuses the whole file as binary
data; a few mutations may load (:data:`TOLERATED`). A last test keeps a bug this file
found fixed: a JSON-lines export whose first line is a lone ``{`` was read as one JSON
document (the good records after it neither read nor counted).

A pseudonymised ``profile`` of a mutated Mastodon export holds no raw id or
handle of a member, in any output file or on the console.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.conftest import consistent
from tests.test_privacy import _leaks, _text_of
from tribe_analysis import events as ev
from tribe_analysis import features as ft
from tribe_analysis import io
from tribe_analysis.cli import main

SETTINGS = hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.function_scoped_fixture,
    ],
)

FORMATS = list(io.FORMATS)
ACTORS = {"ann": 1, "bob": 2, "cid": 3, "dan": 4, "eve": 5}
THREADS: list[tuple[str, int | None]] = [
    ("ann", None),  # 0: the leader's post (the first record)
    ("bob", 0),
    ("cid", 0),
    ("ann", 1),
    ("dan", None),  # 4: a thread of members the leader never meets
    ("eve", 4),
    ("dan", 5),
    ("bob", 2),  # 7: the last record, in the leader's thread again
]
"""(author, record replied to) of each record; record ``i`` is written at minute ``i``."""
MUTABLE = (4, 5, 6)
FLAT = ("stackexchange", "slack")
"""Formats whose replies all answer the thread's first record (answers, Slack threads)."""
SEP = "From MAILER-DAEMON Fri Nov 27 06:11:29 2026"
"""An archive rebuilt later (as the real everything-list one): its From lines do not
date a message whose ``Date`` is dropped, so that message stays a bad record."""
XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
T0 = 1704067200  # 2024-01-01T00:00:00Z


def _root(i: int) -> int:
    while (parent := THREADS[i][1]) is not None:
        i = parent
    return i


def stamp(fmt: str, i: int) -> str:
    """The time of record ``i`` as the format writes it."""
    if fmt == "twitter":
        return f"Mon Jan 01 00:{i:02d}:00 +0000 2024"
    if fmt == "reddit":
        return str(T0 + 60 * i)
    if fmt == "slack":
        return f"{T0 + 60 * i}.000100"
    if fmt == "mbox":
        return f"Mon, 1 Jan 2024 00:{i:02d}:00 +0000"
    if fmt == "stackexchange":
        return f"2024-01-01T00:{i:02d}:00.000"
    return f"2024-01-01T00:{i:02d}:00Z"


def _reddit_name(i: int) -> str:
    return f"t3_{i}" if THREADS[i][1] is None else f"t1_{i}"


def record(fmt: str, i: int, parent: int | None | str = "thread", pad: str = "") -> str:
    """Record ``i`` of a format, well formed, replying to ``parent`` (by default its thread's).

    ``pad`` is added to its text (to move the records after it further into the file).
    """
    actor, par = THREADS[i]
    if parent != "thread":
        par = parent
    if fmt in FLAT and par is not None:
        par = _root(par)
    uid, at = ACTORS[actor], stamp(fmt, i)
    to = None if par is None else THREADS[par][0]
    if fmt == "events":
        action, parent_id = ("post", "") if par is None else ("reply", f"e{par}")
        return f"e{i},{at},{actor},{action},{parent_id},,text {i}{pad}"
    if fmt == "twitter":
        tweet = {
            "id_str": str(100 + i),
            "created_at": at,
            "user": {"id_str": str(uid), "screen_name": actor},
            "text": f"tweet {i}{pad}",
        }
        if par is not None:
            tweet["in_reply_to_status_id_str"] = str(100 + par)
            tweet["in_reply_to_user_id_str"] = str(ACTORS[to])
        return json.dumps(tweet)
    if fmt == "reddit":
        if par is None:
            post = {"name": f"t3_{i}", "author": actor, "created_utc": T0 + 60 * i}
            return json.dumps(post | {"title": f"T{i}", "selftext": f"post {i}{pad}"})
        comment = {"name": f"t1_{i}", "author": actor, "created_utc": T0 + 60 * i}
        comment |= {"parent_id": _reddit_name(par), "link_id": f"t3_{_root(i)}"}
        return json.dumps(comment | {"body": f"comment {i}{pad}"})
    if fmt == "mastodon":
        status = {
            "id": str(i + 1),
            "created_at": at,
            "account": {"id": str(uid), "acct": actor},
            "content": f"<p>toot {i}</p>{pad}",
            "in_reply_to_id": None if par is None else str(par + 1),
            "in_reply_to_account_id": None if par is None else str(ACTORS[to]),
        }
        return json.dumps(status)
    if fmt == "bluesky":
        value = {"$type": "app.bsky.feed.post", "text": f"post {i}{pad}", "createdAt": at}
        if par is not None:

            def ref(k: int) -> dict:
                return {"uri": f"at://did:plc:{THREADS[k][0]}/app.bsky.feed.post/{k}"}

            value["reply"] = {"root": ref(_root(par)), "parent": ref(par)}
        return json.dumps({"uri": f"at://did:plc:{actor}/app.bsky.feed.post/{i}", "value": value})
    if fmt == "stackexchange":
        if par is None:
            kind = f'PostTypeId="1" CreationDate="{at}" OwnerUserId="{uid}" Title="Q{i}"'
        else:
            kind = f'PostTypeId="2" ParentId="{par + 1}" CreationDate="{at}" OwnerUserId="{uid}"'
        return f'<row Id="{i + 1}" {kind} Body="words {i}{pad}" />'
    if fmt == "mbox":
        reply = "" if par is None else f"In-Reply-To: <m{par}@x>\n"
        return (
            f"From: {actor.title()} <{actor}@example.org>\nDate: {at}\nSubject: Topic\n"
            f"Message-ID: <m{i}@x>\n{reply}\nhello {i}{pad}\n"
        )
    message = {"ts": at, "user": f"U{uid}", "text": f"message {i}{pad}"}
    if par is not None:
        message |= {"thread_ts": stamp(fmt, par), "parent_user_id": f"U{ACTORS[to]}"}
    return json.dumps(message)


@dataclass(frozen=True)
class Export:
    """A written export: what to read, and the file and line of each record."""

    path: Path
    sources: list[str]
    lines: list[int]


def write(fmt: str, folder: Path, records: list[bytes]) -> Export:
    """Write records (bytes, maybe not UTF-8) as an export of ``fmt``.

    In a Slack export the members' thread (and any record added after the eight) is in a
    channel of its own: a day file that is not JSON is not read past its error.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "events":
        head, sep, tail = "event_id,timestamp,actor_id,action,parent_id,mentions,text\n", "\n", "\n"
        name = "events.csv"
    elif fmt == "stackexchange":
        head, sep, tail, name = XML_HEAD + "<posts>\n", "\n", "\n</posts>\n", "Posts.xml"
        (folder / "Comments.xml").write_text(XML_HEAD + "<comments>\n</comments>\n")
    elif fmt == "mbox":
        head, sep, tail, name = f"{SEP}\n", f"\n{SEP}\n", "\n", "list.mbox"
    elif fmt == "slack":
        users = [{"id": f"U{uid}", "name": name} for name, uid in ACTORS.items()]
        (folder / "users.json").write_text(json.dumps(users))
        channels = [{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}]
        (folder / "channels.json").write_text(json.dumps(channels))
        head, sep, tail, name = "[\n", ",\n", "\n]\n", "general/2024-01-01.json"
    else:
        head, sep, tail, name = "", "\n", "\n", "export.jsonl"
    files: dict[Path, list[bytes]] = {}
    sources, lines = [], []
    for i, data in enumerate(records):
        other = fmt == "slack" and (i in MUTABLE or i >= len(THREADS))
        source = folder / (name.replace("general", "random") if other else name)
        done = files.setdefault(source, [])
        line = head.count("\n") + 1 + sum(d.count(b"\n") + sep.count("\n") for d in done)
        sources.append(str(source))
        lines.append(line - (1 if fmt == "mbox" else 0))  # mbox: the From line
        done.append(data)
    for source, data in files.items():
        source.parent.mkdir(exist_ok=True)
        source.write_bytes(head.encode() + sep.encode().join(data) + tail.encode())
    path = folder if fmt in FLAT else folder / name
    return Export(path, sources, lines)


# --------------------------------------------------------------------------- mutations

JSON_FIELDS = {
    "twitter": ["id_str", "created_at", "user", "user.id_str", "text", "in_reply_to_status_id_str"],
    "reddit": ["name", "author", "created_utc", "title", "body", "parent_id", "link_id"],
    "mastodon": ["id", "created_at", "account", "account.id", "content", "in_reply_to_id"],
    "bluesky": ["uri", "value", "value.createdAt", "value.text", "value.reply"],
    "slack": ["ts", "user", "text", "thread_ts"],
}
"""Fields of a JSON record that may be retyped (those present in the record are used)."""
REQUIRED = {
    "twitter": ["id_str", "created_at", "user", "user.id_str"],
    "reddit": ["name", "author", "created_utc"],
    "mastodon": ["id", "created_at", "account", "account.id"],
    "bluesky": ["uri", "value", "value.createdAt"],
    "slack": ["ts", "user"],
    "events": ["timestamp", "actor_id"],  # emptied: the CSV keeps its columns
    "stackexchange": ["Id", "PostTypeId", "CreationDate", "ParentId"],
    "mbox": ["Message-ID", "Date", "From"],
}
"""Fields whose loss makes a record unreadable (those present in the record are used)."""
OTHER_TYPE = {"string": "soon", "number": 5, "object": {"a": 1}, "list": [1]}
IDS = {"id_str", "user.id_str", "id", "account.id", "in_reply_to_id", "in_reply_to_status_id_str"}
"""Id fields: a number is an id too (as Twitter and Mastodon write them), so not a retype."""
PAD = "x" * 9000
"""Text that moves the mutated records past the first 8 KiB (where binary data is sniffed)."""
BAD_BYTES = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf"]
KINDS = ["truncate", "retype", "drop", "nul", "bom", "utf8", "duplicate", "cycle"]


def _type(value) -> str:
    return {str: "string", int: "number", float: "number", dict: "object", list: "list"}.get(
        type(value), "null"
    )


def _get(obj: dict, path: str) -> tuple[dict, str]:
    """The object holding a dotted path's last key, and that key."""
    *parents, last = path.split(".")
    for key in parents:
        obj = obj[key]
    return obj, last


def _present(obj: dict, path: str) -> bool:
    where, key = _get(obj, path)
    return where.get(key) is not None


def kinds(fmt: str) -> list[str]:
    """The mutations that apply to a format."""
    out = list(KINDS)
    if fmt not in JSON_FIELDS:
        out.remove("retype")
    if fmt in FLAT:
        out.remove("cycle")
    return out


@st.composite
def mutations(draw, fmt: str):
    """(kind, the records as bytes, the indices of the mutated (or added) records)."""
    kind = draw(st.sampled_from(kinds(fmt)))
    pad = draw(st.sampled_from(["", PAD]))
    texts = [record(fmt, i, pad=pad if i == 0 else "") for i in range(len(THREADS))]
    k = draw(st.sampled_from([5, 6] if kind == "cycle" else MUTABLE))
    text = texts[k]
    records = [t.encode() for t in texts]
    if kind == "truncate":
        if fmt == "events":
            end = text.index(",", text.index(",") + 1)  # before the actor
        elif fmt == "mbox":
            end = text.index("Message-ID")
        else:
            end = len(text) - 1
        records[k] = text[: draw(st.integers(1, end))].encode()
    elif kind in ("retype", "drop"):
        fields = JSON_FIELDS[fmt] if kind == "retype" else REQUIRED[fmt]
        if fmt in JSON_FIELDS:
            obj = json.loads(text)
            path = draw(st.sampled_from([p for p in fields if _present(obj, p)]))
            where, key = _get(obj, path)
            if kind == "drop":
                del where[key]
            else:
                same = {_type(where[key])} | ({"number"} if path in IDS else set())
                where[key] = OTHER_TYPE[draw(st.sampled_from(sorted(set(OTHER_TYPE) - same)))]
            records[k] = json.dumps(obj).encode()
        elif fmt == "events":
            cells = text.split(",")
            cells[{"timestamp": 1, "actor_id": 2}[draw(st.sampled_from(fields))]] = ""
            records[k] = ",".join(cells).encode()
        elif fmt == "stackexchange":
            name = draw(st.sampled_from([f for f in fields if f' {f}="' in text]))
            records[k] = re.sub(f' {name}="[^"]*"', "", text).encode()
        else:
            name = draw(st.sampled_from(fields))
            records[k] = re.sub(f"(?m)^{name}: .*\n", "", text).encode()
    elif kind in ("nul", "utf8"):
        data = b"\x00" if kind == "nul" else draw(st.sampled_from(BAD_BYTES))
        at = draw(st.integers(1, len(text) - 1))
        records[k] = text[:at].encode() + data + text[at:].encode()
    elif kind == "bom":
        value = stamp(fmt, k).split(", ")[-1]  # an e-mail's day name is a comment
        start = text.index(value)
        at = draw(st.integers(start + 1, start + len(value) - 1))
        records[k] = (text[:at] + "\ufeff" + text[at:]).encode()
    elif kind == "duplicate":
        records.append(records[k])
        return kind, records, [len(records) - 1]
    else:  # cycle: records 5 and 6 reply to each other
        records[5] = record(fmt, 5, parent=6).encode()
        records[6] = record(fmt, 6, parent=5).encode()
        return kind, records, [5, 6]
    return kind, records, [k]


# --------------------------------------------------------------------------- properties

TOLERATED = {("mbox", "utf8")}
"""Mutations a reader may load. E-mail is 8-bit: undecodable bytes in a body or in an
unknown header load (replaced). A NUL byte in the first 8 KiB makes every format but
Slack refuse the whole file as binary data (naming the byte); past them, its record is
bad in every format (an e-mail, a canonical CSV row: found by this test, then made so)."""


_BASELINE: dict[str, tuple[list[str], str, object]] = {}


def baseline(fmt: str, tmp: Path) -> tuple[list[str], str, object]:
    """The event id of each record, the leader (the first record's author), her measures."""
    if fmt not in _BASELINE:
        export = write(fmt, tmp / "baseline", [record(fmt, i).encode() for i in range(8)])
        result = io.read(export.path, format=fmt)
        events = result.events.sort("timestamp")
        assert events.height == len(THREADS) and not result.skipped
        leader = events["actor_id"][0]
        measures = ft.leader_measures(events, [leader], observability=result.observability)
        assert measures["authored"].to_list() == [2]
        _BASELINE[fmt] = (events["event_id"].to_list(), leader, measures)
    return _BASELINE[fmt]


def _cli(fmt: str, path: Path, on_error: str):
    """``validate`` a mutated export: it ends (exit 0 or 2) without a traceback."""
    args = ["validate", "--format", fmt, "--on-error", on_error, str(path)]
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


STOPS = "the rest of the file is not read)"
"""How a reader of one JSON array per file (Slack) ends a reason: it cannot resume."""


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_mutated_record_is_named_quarantined_and_changes_nothing_else(fmt, tmp_path):
    ids, leader, measures = baseline(fmt, tmp_path)
    counter = iter(range(10**6))

    @SETTINGS
    @hypothesis.given(mutation=mutations(fmt))
    def check(mutation):
        kind, records, mutated = mutation
        export = write(fmt, tmp_path / str(next(counter)), records)
        source, line = export.sources[mutated[0]], export.lines[mutated[0]]
        want = sorted((export.sources[k], export.lines[k]) for k in mutated)
        data = Path(source).read_bytes()
        binary = f"{source}: binary data, not text (a NUL byte at byte {data.find(0) + 1})"
        tolerated = (fmt, kind) in TOLERATED
        # strict: only EventsError, naming the file and the mutated record's line
        try:
            strict = io.read(export.path, format=fmt)
        except ev.EventsError as exc:
            first = exc.problems[0]
            if kind == "nul" and str(first) == binary:  # the whole file is refused
                with pytest.raises(ev.EventsError) as excinfo:
                    io.read(export.path, format=fmt, on_error="skip")
                assert [str(p) for p in excinfo.value.problems] == [binary]
                cli = _cli(fmt, export.path, "skip")
                assert (cli.exit_code, cli.stderr) == (2, f"error: {binary}\n")
                return
            assert (first.source, first.line) == want[0], str(first)
            cli = _cli(fmt, export.path, "strict")
            assert cli.exit_code == 2
            errors = cli.stderr.splitlines()
            assert errors[0].startswith(f"error: {want[0][0]}:{want[0][1]}: "), cli.stderr
            assert all(e.startswith("error: ") for e in errors), cli.stderr
            assert len(errors) == len(mutated), cli.stderr  # one line per record
        else:  # a repeated record is kept once, in every mode
            assert kind == "duplicate" or tolerated, f"{kind} loaded: {records[mutated[0]]!r}"
            consistent(strict)
            assert [(s.source, s.line) for s in strict.skipped] == ([] if tolerated else want)
        # skip: the mutated record quarantined, every other one loaded
        result = io.read(export.path, format=fmt, on_error="skip")
        consistent(result)
        got = sorted((s.source, s.line) for s in result.skipped)
        lost = set()  # records after a broken JSON array element (said so in the reason)
        if any(s.reason.endswith(STOPS) for s in result.skipped):
            assert fmt == "slack" and len(mutated) == 1
            lost = {
                j
                for j in range(len(records))
                if export.sources[j] == source and export.lines[j] > line
            }
        assert result.records_read == len(records) - len(lost)
        loaded = set(result.events["event_id"])
        untouched = {ids[j] for j in range(len(THREADS)) if j not in mutated and j not in lost}
        if tolerated and not got:
            assert untouched <= loaded and result.records_loaded == len(records)
        else:
            assert got == want, [s.reason for s in result.skipped]
            assert loaded == untouched
        assert _cli(fmt, export.path, "skip").exit_code == 0
        # the leader's measures: none of her threads was touched
        after = ft.leader_measures(result.events, [leader], observability=result.observability)
        assert_frame_equal(after, measures)

    check()


# --------------------------------------------------------------------------- privacy


@pytest.fixture(scope="module")
def mastodon_export():
    """Simulated Mastodon statuses (JSON lines) with handles, and every member's raw values."""
    from tribe_analysis.synth import simulate_tribe, to_mastodon

    tribe = simulate_tribe(n_leaders=3, n_members=25, days=8, seed=5)
    statuses = to_mastodon(tribe.events)

    def account(aid: str) -> dict:
        return {"id": aid, "acct": f"{aid}.handle@inst.example"}

    for status in statuses:
        status["account"] = account(status["account"]["id"])
        status["mentions"] = [account(m["id"]) for m in status["mentions"]]
        if status["reblog"] is not None:
            status["reblog"]["account"] = account(status["reblog"]["account"]["id"])
    members = sorted({s["account"]["id"] for s in statuses} - set(tribe.leaders))
    return Statuses([json.dumps(s) for s in statuses], members)


class Statuses:
    """Status lines and the simulated members' account ids (a short repr for Hypothesis)."""

    def __init__(self, lines: list[str], members: list[str]) -> None:
        self.lines, self.members = lines, members

    def __repr__(self) -> str:
        return f"Statuses({len(self.lines)} lines)"


def _member_mutation(kind: str, text: str, at: int) -> list[str]:
    status = json.loads(text)
    if kind == "truncate":
        return [text[: 1 + at % (len(text) - 1)]]
    if kind == "retype":
        status["account"]["id"] = [status["account"]["id"]]
    elif kind == "drop":
        del status["created_at"]
    elif kind == "duplicate":
        return [text, text]
    else:  # a stamp that is not one, quoting the member's handle
        status["created_at"] = f"yesterday {status['account']['acct']}"
    return [json.dumps(status)]


@pytest.mark.parametrize("kind", ["truncate", "retype", "drop", "duplicate", "stamp"])
@hypothesis.settings(SETTINGS, max_examples=2)
@hypothesis.given(pick=st.integers(0, 10**6), at=st.integers(0, 10**6))
def test_pseudonymised_profile_of_a_mutated_export_leaks_no_member(
    kind, pick, at, mastodon_export, tmp_path_factory, monkeypatch
):
    monkeypatch.delenv("TRIBE_ANALYSIS_KEY", raising=False)
    lines, members = mastodon_export.lines, mastodon_export.members
    tmp = tmp_path_factory.mktemp("private")
    candidates = [  # not the first line (see the test after this one)
        n for n, line in enumerate(lines) if n and json.loads(line)["account"]["id"] in members
    ]
    n = candidates[pick % len(candidates)]
    mutated = [*lines[:n], *_member_mutation(kind, lines[n], at), *lines[n + 1 :]]
    export, key, out = tmp / "statuses.jsonl", tmp / "key", tmp / "results"
    export.write_text("\n".join(mutated) + "\n")
    key.write_bytes(b"a-test-key-of-enough-length")
    args = ["profile", str(export), "--format", "mastodon", "--on-error", "skip", "--pseudonymize"]
    args += ["--top-leaders", "3", "--key-file", str(key), "--out", str(out), "--no-report"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    quarantined = [json.loads(q) for q in (out / "quarantine.jsonl").read_text().splitlines()]
    assert [q["line"] for q in quarantined] == [n + 2 if kind == "duplicate" else n + 1]
    leaders = set(pl.read_csv(out / "profiles.csv")["leader_id"])
    secret = {v for m in members if m not in leaders for v in (m, f"{m}.handle@inst.example")}
    assert secret
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        leaked = _leaks(_text_of(path), secret)
        assert not leaked, f"{path.name} holds {sorted(leaked)[:5]}"
    assert not _leaks(result.stdout + result.stderr, secret)


@pytest.mark.parametrize("fmt", ["twitter", "reddit", "mastodon"])
def test_a_first_record_cut_to_its_brace_is_one_bad_record(fmt, tmp_path):
    records = [record(fmt, i).encode() for i in range(len(THREADS))]
    export = write(fmt, tmp_path, [b"{", *records[1:]])
    with pytest.raises(ev.EventsError) as excinfo:
        io.read(export.path, format=fmt)
    assert excinfo.value.problems[0].line == 1
    result = io.read(export.path, format=fmt, on_error="skip")
    assert (result.records_read, result.records_loaded) == (8, 7)
    assert [s.line for s in result.skipped] == [1]
