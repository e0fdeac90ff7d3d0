"""Property tests of the Slack export reader (:mod:`tribe_analysis.io.slack`).

On generated exports (conversations listed or not, daily files, messages of every
documented kind mixed with housekeeping and bad messages):

- every message is loaded as its documented events (a post or reply, one reaction
  per listed user) or reported: a strict read stops at the first bad message's
  file and line, a lenient one quarantines each bad message once with its line
  and verbatim JSON; housekeeping without reactions is not counted, ``records_read
  == records_loaded + len(skipped)``, and nothing but ``EventsError`` is raised;
- any ``ts`` up to 9999-12-31 gives its exact microsecond instant and its own
  event id; a later one is a bad record (never a traceback);
- thread replies follow ``thread_ts``; mentions are the typed ``<@U…>`` /
  ``<@U…|name>`` references only, in order, once each;
- the order of messages and daily files, pretty-printing, a byte-order mark and
  Windows line ends change nothing; overlapping exports keep each message once;
- a daily file that is UTF-16, compressed or binary is refused whole, and files
  not named ``YYYY-MM-DD.json`` are not read.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st

from tests.conftest import consistent
from tribe_analysis import events as ev
from tribe_analysis.io import slack
from tribe_analysis.io._base import ReadResult

SETTINGS = hypothesis.settings(
    max_examples=50, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
LISTED = {"general": "C1", "random": "C2"}
"""Conversation folders listed in channels.json (others are named by their folder)."""
FOLDERS = [*LISTED, "unlisted"]
DAYS = ["2023-11-14", "2023-11-15", "2023-11-16"]
USERS = ["U1", "U2", "W3"]
LAST = int(
    (
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    ).total_seconds()
)


def _ts(i: int) -> str:
    return f"{1700000000 + i}.{i:06d}"


def _post(i: int) -> dict:
    return {
        "type": "message",
        "ts": _ts(i),
        "user": USERS[i % 3],
        "text": f"hi <@{USERS[(i + 1) % 3]}>",
    }


def _with_reactions(i: int) -> dict:
    users = [USERS[(i + 1) % 3], USERS[(i + 2) % 3]]
    return _post(i) | {"reactions": [{"name": "+1::skin-tone-2", "users": users, "count": 3}]}


def _reply(i: int) -> dict:
    return _post(i) | {"thread_ts": _ts(i + 1000), "parent_user_id": USERS[(i + 1) % 3]}


def _broadcast(i: int) -> dict:
    return _post(i) | {"thread_ts": _ts(i + 1000), "subtype": "thread_broadcast"}


def _bot(i: int) -> dict:
    return {"ts": _ts(i), "bot_id": "B9", "subtype": "bot_message", "text": "deploy done"}


def _join(i: int) -> dict:
    return {"ts": _ts(i), "user": USERS[i % 3], "subtype": "channel_join", "text": "joined"}


def _welcomed(i: int) -> dict:
    return _join(i) | {"reactions": [{"name": "wave", "users": ["U1"], "count": 1}]}


GOOD: dict[str, tuple[Callable[[int], dict], list[str]]] = {
    "post": (_post, ["post"]),
    "reactions": (_with_reactions, ["post", "reaction", "reaction"]),
    "reply": (_reply, ["reply"]),
    "broadcast": (_broadcast, ["reply"]),
    "bot": (_bot, ["post"]),
    "welcomed join": (_welcomed, ["reaction"]),
}
"""Good messages and the actions of the events each gives."""
BAD: dict[str, tuple[Callable[[int], object], str]] = {
    "ts as number": (lambda i: _post(i) | {"ts": 1700000000.5}, "ts must be a string, got float"),
    "no ts": (lambda i: {"user": "U1", "text": "x"}, "missing ts"),
    "malformed ts": (lambda i: _post(i) | {"ts": "1.2.3"}, "malformed ts '1.2.3'"),
    "ts after 9999": (lambda i: _post(i) | {"ts": f"{LAST + 1 + i}.000000"}, "ts out of range"),
    "thread_ts after 9999": (
        lambda i: _post(i) | {"thread_ts": "9" * 40},
        "thread_ts out of range",
    ),
    "no user": (lambda i: {"ts": _ts(i), "text": "who?"}, "missing user (and no bot_id)"),
    "user object": (lambda i: _post(i) | {"user": {"id": "U1"}}, "user must be a string, got dict"),
    "subtype list": (lambda i: _post(i) | {"subtype": ["me_message"]}, "subtype must be a string"),
    "text number": (lambda i: _post(i) | {"text": 5}, "text must be a string, got int"),
    "reactions object": (lambda i: _post(i) | {"reactions": {}}, "reactions must be a list"),
    "not an object": (lambda i: [i], "expected a message object, got list"),
}
"""Bad messages and the start of the reason each is reported with."""
KINDS = [*GOOD, "join", *BAD]


def _message(kind: str, i: int) -> object:
    if kind == "join":
        return _join(i)
    return GOOD[kind][0](i) if kind in GOOD else BAD[kind][0](i)


def _channel(folder: str) -> str:
    return LISTED.get(folder, folder)


def _write(root: Path, files: dict[tuple[str, str], list], *, indent: int | None = 2) -> Path:
    """An export of ``{(folder, day): [messages]}`` (pretty-printed unless ``indent`` is None)."""
    root.mkdir(parents=True)
    (root / "users.json").write_text(json.dumps([{"id": u, "name": u.lower()} for u in USERS]))
    channels = [{"id": cid, "name": name} for name, cid in LISTED.items()]
    (root / "channels.json").write_text(json.dumps(channels))
    for (folder, day), messages in files.items():
        (root / folder).mkdir(exist_ok=True)
        (root / folder / f"{day}.json").write_text(json.dumps(messages, indent=indent))
    return root


def _line_of(root: Path, folder: str, day: str, k: int) -> int:
    """The line where element ``k`` of a daily file written by :func:`_write` starts."""
    messages = json.loads((root / folder / f"{day}.json").read_text())
    text = json.dumps([*messages[:k], "@mark@"], indent=2)
    return text[: text.index('"@mark@"')].count("\n") + 1


placed = st.tuples(st.sampled_from(KINDS), st.sampled_from(FOLDERS), st.sampled_from(DAYS))


def _events(result: ReadResult) -> pl.DataFrame:
    events = result.events
    assert isinstance(events, pl.DataFrame)
    return events


# --------------------------------------------------------------------------- records


@SETTINGS
@hypothesis.given(st.lists(placed, min_size=1, max_size=14))
def test_every_message_is_loaded_as_documented_or_reported(
    items: list[tuple[str, str, str]],
) -> None:
    files: dict[tuple[str, str], list] = {}
    where: list[tuple[str, str, str, int, int]] = []  # kind, folder, day, index, i
    for i, (kind, folder, day) in enumerate(items):
        files.setdefault((folder, day), []).append(_message(kind, i))
        where.append((kind, folder, day, len(files[(folder, day)]) - 1, i))
    with tempfile.TemporaryDirectory() as tmp:
        root = _write(Path(tmp) / "ws", files)
        bad = sorted((f, d, k, kind) for kind, f, d, k, _ in where if kind in BAD)
        counted = [w for w in where if w[0] != "join"]
        _check_strict(root, bad, counted)
        if not counted:  # housekeeping only: no record at all
            with pytest.raises(ev.EventsError, match="no slack records found"):
                slack.read([root], on_error="skip")
            return
        result = slack.read([root], on_error="skip")
        consistent(result)
        assert result.records_read == sum(kind != "join" for kind, *_ in where)
        want = sorted((str(root / f / f"{d}.json"), _line_of(root, f, d, k)) for f, d, k, _ in bad)
        assert sorted((s.source, s.line) for s in result.skipped) == want
        for folder, day, k, kind in bad:
            [item] = [s for s in result.skipped if s.line == _line_of(root, folder, day, k)
                      and s.source == str(root / folder / f"{day}.json")]  # fmt: skip
            assert item.reason.startswith(BAD[kind][1])
            assert json.loads(item.record) == files[(folder, day)][k]  # verbatim
        _check_loaded(_events(result), where)


def _check_strict(root: Path, bad: list, counted: list) -> None:
    try:
        slack.read([root])
    except ev.EventsError as exc:
        [problem] = exc.problems
        if bad:
            folder, day, k, kind = bad[0]
            assert problem.source == str(root / folder / f"{day}.json")
            assert problem.line == _line_of(root, folder, day, k)
            assert problem.reason.startswith(BAD[kind][1])
        else:
            assert not counted and "no slack records found" in problem.reason
    else:
        assert not bad


def _check_loaded(events: pl.DataFrame, where: list) -> None:
    """Each good message's events (id, action, parent, target); nothing else."""
    want: dict[str, tuple] = {}
    for kind, folder, _, _, i in where:
        if kind not in GOOD:
            continue
        message = GOOD[kind][0](i)
        event_id = f"{_channel(folder)}:{message['ts']}"
        author = message.get("user") or message.get("bot_id")
        if GOOD[kind][1][0] == "post":
            want[event_id] = ("post", None, None, event_id)
        elif GOOD[kind][1][0] == "reply":  # the thread parent is not in the data
            thread = f"{_channel(folder)}:{message['thread_ts']}"
            want[event_id] = ("reply", thread, message.get("parent_user_id"), thread)
        thread = want.get(event_id, (None, None, None, event_id))[3]
        for reaction in message.get("reactions", []):
            for user in reaction["users"]:
                reacted = ("reaction", event_id, author, thread)
                want[f"{event_id}:{reaction['name']}:{user}"] = reacted
    got = events.select("event_id", "action", "parent_id", "target_actor_id", "thread_id")
    assert {r[0]: r[1:] for r in got.iter_rows()} == want


# --------------------------------------------------------------------------- time


@SETTINGS
@hypothesis.given(
    st.lists(
        st.tuples(st.integers(0, LAST), st.integers(0, 999_999)),
        min_size=1,
        max_size=8,
        unique=True,
    )
)
def test_any_ts_gives_its_exact_instant_and_own_id(stamps: list[tuple[int, int]]) -> None:
    messages = [{"ts": f"{s}.{m:06d}", "user": "U1", "text": "x"} for s, m in stamps]
    with tempfile.TemporaryDirectory() as tmp:
        root = _write(Path(tmp) / "ws", {("general", DAYS[0]): messages})
        events = _events(slack.read([root]))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    want = {f"C1:{s}.{m:06d}": epoch + timedelta(seconds=s, microseconds=m) for s, m in stamps}
    assert dict(events.select("event_id", "timestamp").iter_rows()) == want


@SETTINGS
@hypothesis.given(st.integers(LAST + 1, 10**60), st.sampled_from(["ts", "thread_ts"]))
def test_a_ts_after_year_9999_is_a_bad_record(seconds: int, field: str) -> None:
    message = {"ts": _ts(0), "user": "U1", "text": "x"} | {field: f"{seconds}.000001"}
    with tempfile.TemporaryDirectory() as tmp:
        root = _write(Path(tmp) / "ws", {("general", DAYS[0]): [_post(1), message]})
        day = root / "general" / f"{DAYS[0]}.json"
        with pytest.raises(ev.EventsError) as excinfo:
            slack.read([root])
        reason = f"{field} out of range '{seconds}.000001' (years 1 to 9999 in UTC)"
        assert [str(p) for p in excinfo.value.problems] == [
            f"{day}:{_line_of(root, 'general', DAYS[0], 1)}: {reason}"
        ]
        result = slack.read([root], on_error="skip")
    consistent(result)
    assert [s.reason for s in result.skipped] == [reason]
    assert _events(result)["event_id"].to_list() == [f"C1:{_ts(1)}"]


# --------------------------------------------------------------------------- files

NOT_TEXT = {
    "UTF-16": (lambda data: data.decode().encode("utf-16"), "UTF-16 text (save the file as UTF-8)"),
    "gzip": (gzip.compress, "compressed (gzip), not text: decompress it first (gunzip)"),
    "binary": (lambda data: data + bytes(64), "binary data, not text (a NUL byte at byte"),
}


@pytest.mark.parametrize("kind", NOT_TEXT)
@pytest.mark.parametrize("on_error", ["strict", "skip"])
def test_a_daily_file_that_is_not_text_is_refused_whole(
    kind: str, on_error: str, tmp_path: Path
) -> None:
    root = _write(
        tmp_path / "ws", {("general", DAYS[0]): [_post(0)], ("general", DAYS[1]): [_post(1)]}
    )
    day = root / "general" / f"{DAYS[0]}.json"
    encode, reason = NOT_TEXT[kind]
    day.write_bytes(encode(day.read_bytes()))
    with pytest.raises(ev.EventsError) as excinfo:
        slack.read([root], on_error=on_error)
    [problem] = excinfo.value.problems
    assert (problem.source, problem.line) == (str(day), None)
    assert problem.reason.startswith(reason)


@SETTINGS
@hypothesis.given(st.dates())
def test_only_files_named_yyyy_mm_dd_are_read(day: date) -> None:
    year, week, weekday = day.isocalendar()
    others = [f"{year:04d}-W{week:02d}-{weekday}", f"{day:%Y%m%d}", f"{day.isoformat()} copy"]
    with tempfile.TemporaryDirectory() as tmp:
        root = _write(Path(tmp) / "ws", {("general", day.isoformat()): [_post(0)]})
        for k, name in enumerate(others, start=1):
            (root / "general" / f"{name}.json").write_text(json.dumps([_post(k)]))
        result = slack.read([root])
        assert slack.sniff(root)
    assert _events(result)["event_id"].to_list() == [f"C1:{_ts(0)}"]


# --------------------------------------------------------------------------- mentions

ids = st.from_regex(r"[UW][A-Z0-9]{2,9}", fullmatch=True)
label = st.text(st.characters(codec="utf-8", exclude_characters="<>&|\x00"), max_size=8)
words = st.text(st.characters(codec="utf-8", exclude_characters="<>&\x00"), max_size=12)
typed = st.one_of(
    ids.map(lambda u: (f"<@{u}>", u)),
    st.tuples(ids, label).map(lambda p: (f"<@{p[0]}|{p[1]}>", p[0])),
)
untyped = st.one_of(
    words,
    ids.map(lambda u: f"&lt;@{u}&gt;"),  # typed by hand: Slack escapes it
    ids.map(lambda u: f"@{u}"),
    st.sampled_from(
        ["<!here>", "<!channel>", "<!subteam^S1|@team>", "<#C1|general>", "<https://x.org/@U1|x>"]
    ),
).map(lambda text: (text, None))


@SETTINGS
@hypothesis.given(st.lists(st.one_of(typed, untyped), max_size=10))
def test_mentions_are_the_typed_user_references(pieces: list[tuple[str, str | None]]) -> None:
    text = " ".join(piece for piece, _ in pieces)
    message = {"ts": _ts(0), "user": "U1", "text": text}
    with tempfile.TemporaryDirectory() as tmp:
        root = _write(Path(tmp) / "ws", {("general", DAYS[0]): [message]})
        [row] = _events(slack.read([root])).iter_rows(named=True)
    assert row["mentions"] == list(dict.fromkeys(u for _, u in pieces if u is not None))
    assert row["text"] == (text or None)


@SETTINGS
@hypothesis.given(st.lists(st.sampled_from(["<@", ">", "|", "U1", "W2", "é", " ", "<", "@", "x"])))
def test_mentions_in_any_text_are_the_regular_expressions(pieces: list[str]) -> None:
    """Any text, stray ``<@``, ``>`` and ``|`` included: each ``<@…>`` whose id (before a
    ``|``) is ASCII letters and digits, in order, once (one pass over the text)."""
    text = "".join(pieces)
    found = (m.group(1).split("|", 1)[0] for m in re.finditer(r"<@([^>]*)>", text))
    want = [user for user in found if user.isascii() and user.isalnum()]
    assert slack._mentions(text) == list(dict.fromkeys(want))


# --------------------------------------------------------------------------- layout

good_placed = st.tuples(
    st.sampled_from(list(GOOD)), st.sampled_from(FOLDERS), st.sampled_from(DAYS)
)


def _files(items: list[tuple[str, str, str]]) -> dict[tuple[str, str], list]:
    files: dict[tuple[str, str], list] = {}
    for i, (kind, folder, day) in enumerate(items):
        files.setdefault((folder, day), []).append(GOOD[kind][0](i))
    return files


@SETTINGS
@hypothesis.given(st.lists(good_placed, min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_order_of_messages_and_days_bom_and_crlf_change_nothing(
    items: list, rnd: random.Random
) -> None:
    files = _files(items)
    moved: dict[tuple[str, str], list] = {}
    for (folder, _), messages in files.items():  # another day of the same conversation
        for message in messages:
            moved.setdefault((folder, rnd.choice(DAYS)), []).append(message)
    for messages in moved.values():
        rnd.shuffle(messages)
    with tempfile.TemporaryDirectory() as tmp:
        want = slack.read([_write(Path(tmp) / "a", files)])
        root = _write(Path(tmp) / "b", moved, indent=None)
        for path in root.rglob("*.json"):
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n") + b"\r\n")
        got = slack.read([root])
    assert (got.records_read, got.records_loaded, got.skipped) == (
        want.records_read,
        want.records_loaded,
        [],
    )
    assert _events(got).equals(_events(want))


@SETTINGS
@hypothesis.given(st.lists(good_placed, min_size=1, max_size=12), st.data())
def test_overlapping_exports_keep_each_message_once(items: list, data: st.DataObject) -> None:
    files = _files(items)
    keys = sorted(files)
    first = {key: files[key] for key in data.draw(st.sets(st.sampled_from(keys)), "first")}
    second = {key: files[key] for key in keys if key not in first}
    second |= {key: files[key] for key in data.draw(st.sets(st.sampled_from(keys)), "again")}
    with tempfile.TemporaryDirectory() as tmp:
        want = slack.read([_write(Path(tmp) / "all", files)])
        a, b = _write(Path(tmp) / "a", first), _write(Path(tmp) / "b", second)
        got = slack.read([a, b], on_error="strict")
    consistent(got)
    assert _events(got).equals(_events(want))
    repeated = sum(len(files[key]) for key in first if key in second)
    assert got.records_read == want.records_read + repeated
    assert len(got.skipped) == repeated
    assert all(
        s.reason.startswith("duplicate id '") and s.source.startswith(str(b)) for s in got.skipped
    )


# --------------------------------------------------------------------------- conversations


@SETTINGS
@hypothesis.given(
    st.permutations(["channels.json", "groups.json", "mpims.json", "dms.json"]), st.integers(1, 4)
)
def test_conversations_are_named_by_their_lists_or_folder(names: list[str], n: int) -> None:
    listed: dict[str, list[dict[str, object]]] = {
        "channels.json": [{"id": "C1", "name": "general"}],
        "groups.json": [{"id": "G2", "name": "secret"}],
        "mpims.json": [{"id": "G3", "name": "mpdm-ann--bob-1"}],
        "dms.json": [{"id": "D4", "members": ["U1", "U2"]}],
    }
    folders = {"general": "C1", "secret": "G2", "mpdm-ann--bob-1": "G3", "D4": "D4"}
    given = set(names[:n])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "users.json").write_text("[]")
        for name in given:
            (root / name).write_text(json.dumps(listed[name]))
        for k, folder in enumerate(folders):
            (root / folder).mkdir()
            (root / folder / f"{DAYS[0]}.json").write_text(json.dumps([_post(k)]))
        events = _events(slack.read([root]))
    known = {
        item["name"] if "name" in item else item["id"]: item["id"]
        for name in given
        for item in listed[name]
    }
    want = [f"{known.get(folder, folder)}:{_ts(k)}" for k, folder in enumerate(folders)]
    assert events["event_id"].to_list() == want


BAD_ITEMS = st.sampled_from(
    [
        {"id": 5, "name": "general"},
        {"name": "general"},
        {"id": ""},
        {"id": "C9", "name": ["x"]},
        "C9",
        None,
        [1],
    ]
)


@SETTINGS
@hypothesis.given(
    st.sampled_from(["channels.json", "groups.json"]),
    st.integers(0, 2),
    BAD_ITEMS,
    st.sampled_from(["strict", "skip"]),
)
def test_an_invalid_conversation_list_stops_the_read(
    name: str, at: int, item: object, on_error: str
) -> None:
    items: list = [{"id": "C1", "name": "general"}, {"id": "G2", "name": "secret"}]
    items.insert(at, item)
    with tempfile.TemporaryDirectory() as tmp:
        root = _write(Path(tmp) / "ws", {("general", DAYS[0]): [_post(0)]})
        (root / name).write_text(json.dumps(items))
        with pytest.raises(ev.EventsError) as excinfo:
            slack.read([root], on_error=on_error)
    [problem] = excinfo.value.problems
    assert (problem.source, problem.line) == (str(root / name), None)
    assert problem.reason.startswith(f"conversation {at + 1} is not an object with a string id")


@pytest.mark.parametrize(
    ("text", "reason"), [("[" * 100_000, "maximum recursion"), ("[" + "1" * 5000 + "]", "Exceeds")]
)
def test_a_conversation_list_too_deep_or_with_a_huge_number_is_one_error(
    text: str, reason: str, tmp_path: Path
) -> None:
    root = _write(tmp_path / "ws", {("general", DAYS[0]): [_post(0)]})
    (root / "channels.json").write_text(text)
    for on_error in ("strict", "skip"):
        with pytest.raises(ev.EventsError) as excinfo:
            slack.read([root], on_error=on_error)
        assert str(excinfo.value.problems[0]).startswith(
            f"{root / 'channels.json'}: not a JSON channel list ({reason}"
        )


# --------------------------------------------------------------------------- text


@SETTINGS
@hypothesis.given(
    st.sampled_from(["text", "user", "parent_user_id"]),
    st.text(max_size=5),
    st.integers(0xD800, 0xDFFF),
    st.text(max_size=5),
)
def test_a_lone_surrogate_is_a_bad_record(field: str, before: str, code: int, after: str) -> None:
    hypothesis.assume("\x00" not in before + after)
    message = _reply(0) | {field: f"{before}{chr(code)}{after}"}
    with tempfile.TemporaryDirectory() as tmp:
        root = _write(Path(tmp) / "ws", {("general", DAYS[0]): [message, _post(1)]})
        result = slack.read([root], on_error="skip")
    consistent(result)
    column = {"user": "actor_id", "parent_user_id": "target_actor_id"}.get(field, field)
    assert [s.reason for s in result.skipped] == [
        f"lone surrogate \\u{code:04x} in {column} (not Unicode text)"
    ]
    assert json.loads(result.skipped[0].record) == message
    assert _events(result)["event_id"].to_list() == [f"C1:{_ts(1)}"]
