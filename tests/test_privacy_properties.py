"""Property tests of ``profile --pseudonymize``: nothing raw leaves the process.

For generated inputs whose account ids, event ids, mentions and texts are
distinctive random strings (non-ASCII, emoji, ``&<>"'`` that CSV, JSON, XML and
HTML escape differently, e-mail addresses in changed case, long numbers), with
malformed records in skip mode, and on error paths: no raw value but the
leaders' own, in any form (as written, escaped for CSV, JSON, XML or HTML, lower
or upper case), occurs in any byte of any output file or of the console. Also:
the same input and key give byte-identical outputs, and the pseudonyms are the
documented keyed HMAC-SHA256 of the ids.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import html
import io
import json
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import hypothesis
import polars as pl
from click.testing import CliRunner, Result
from hypothesis import strategies as st

from tribe_analysis.cli import main
from tribe_analysis.events import conform, write_events
from tribe_analysis.privacy import mask_reason

SETTINGS = hypothesis.settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.reuse, hypothesis.Phase.generate],
)
"""No shrinking: the values come from a seed, and a smaller seed is no simpler example."""
KEY = b"a-property-test-key-0123456789"
T0 = datetime(2024, 3, 1, tzinfo=UTC)

STYLES = {
    "word": "abcdefghijkmnopqrstuvwxyz",
    "markup": "qwxyz&<>\"'`\\",
    "unicode": "zqéßжλ漢字",
    "emoji": "qz😀🎉",
}


def _secret(rng: random.Random, style: str) -> str:
    """A distinctive value no output holds by chance (8+ characters, not hex)."""
    if style == "number":
        return str(rng.randrange(10**11, 10**13))
    if style == "email":
        return f"Zq{rng.randrange(10**6)}.Who@Mail{rng.randrange(10**4)}.Example.ORG"
    body = "".join(rng.choice(STYLES[style]) for _ in range(8))
    return "Zq" + body + "X" + str(rng.randrange(10**4))


@dataclass
class Data:
    """Generated events and the raw values in them."""

    events: pl.DataFrame
    accounts: list[str]
    others: set[str] = field(default_factory=set)


def _data(seed: int, styles: list[str]) -> Data:
    """Six accounts that post, reply to and mention each other, all ids and texts random."""
    rng = random.Random(seed)
    accounts = [_secret(rng, styles[i % len(styles)]) for i in range(6)]
    rows, n = [], 0
    for i, actor in enumerate(accounts):
        for j in range(3):
            post = _secret(rng, styles[j % len(styles)])
            rows.append(_row(post, n, actor, "post", None, [accounts[(i + 1) % 6]], rng))
            n += 1
            for k, other in enumerate(accounts):
                if other != actor and (k + j + i) % 3:
                    reply = _secret(rng, styles[k % len(styles)])
                    rows.append(_row(reply, n, other, "reply", post, [actor], rng))
                    n += 1
    frame = conform(pl.DataFrame(rows), platform="events")
    others = {r["event_id"] for r in rows} | {r["text"] for r in rows}
    return Data(frame, accounts, others)


def _row(eid: str, n: int, actor: str, action: str, parent, mentions, rng) -> dict:
    text = f"{_secret(rng, 'word')} {mentions[0]}"
    stamp = T0 + timedelta(hours=n)
    return dict(
        event_id=eid, timestamp=stamp, actor_id=actor, action=action, parent_id=parent,
        mentions=mentions, text=text,
    )  # fmt: skip


def _csv_line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _bad_csv_rows(data: Data, rng: random.Random) -> tuple[str, set[str]]:
    """Malformed CSV records that quote raw values in their reasons, and those values."""
    actor, eid = data.accounts[-1], data.events["event_id"][0]
    new = [_secret(rng, s) for s in ("markup", "unicode", "email", "number", "word")]
    stamp = "2024-03-02T00:00:00Z"
    lines = [
        (new[0], f"soon {new[1]}", actor, "post", "", "", "", "", "", ""),
        (new[2], stamp, actor, new[3], "", "", "", "", "", ""),
        (new[4], stamp, actor, "post", new[0] + "p", "", "", "", "", ""),
        (eid, stamp, actor, "post", "", "", "", "", "", ""),
        (new[1] + "q", stamp, actor, "post"),
    ]
    return "".join(_csv_line(line) for line in lines), {*new, new[0] + "p", new[1] + "q"}


def forms(value: str) -> set[str]:
    """How a value can be written: as is, escaped for CSV, JSON, XML, HTML, or in another case."""
    found = {value, value.lower(), value.upper(), value.replace('"', '""'), repr(value)[1:-1]}
    found |= {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    found |= {html.escape(value), html.escape(value, quote=False), escape(value)}
    found |= {html.escape(value).replace("&#x27;", "&#39;"), escape(value, {'"': "&quot;"})}
    return found


def _text_of(path: Path) -> str:
    """A file's bytes as text; a Parquet file's table too (its pages are compressed)."""
    text = path.read_bytes().decode("utf-8", "replace")
    if path.suffix == ".parquet":
        text += pl.read_parquet(path).with_columns(pl.all().cast(pl.String)).write_csv()
    return text


def leaks(out: Path, console: str, secrets: Iterable[str]) -> list[tuple[str, str]]:
    """(where, value) for each raw value found in a file of ``out`` or the console."""
    texts = {p.name: _text_of(p) for p in sorted(out.rglob("*")) if p.is_file()}
    texts["console"] = console
    return [
        (where, value)
        for value in sorted(secrets)
        for where, text in texts.items()
        if any(form in text for form in forms(value))
    ]


def profile(path: Path, out: Path, *options: str) -> Result:
    """``profile PATH --pseudonymize --out OUT OPTIONS`` (the key in the environment)."""
    args = ["profile", str(path), "--pseudonymize", "--out", str(out), *options]
    return CliRunner().invoke(main, args, env={"TRIBE_ANALYSIS_KEY": KEY.decode()})


def _leaders(out: Path) -> set[str]:
    return set(pl.read_csv(out / "profiles.csv", infer_schema=False)["leader_id"].to_list())


def _secrets(data: Data, leaders: set[str]) -> set[str]:
    return {a for a in data.accounts if a not in leaders} | data.others


def _assert_no_leak(out: Path, result: Result, secrets: set[str]) -> None:
    found = leaks(out, result.stdout + result.stderr, secrets)
    assert not found, found[:5]


STYLE_LISTS = st.lists(st.sampled_from([*STYLES, "number", "email"]), min_size=1, max_size=3)


@SETTINGS
@hypothesis.given(
    seed=st.integers(0, 2**32),
    styles=STYLE_LISTS,
    fmt=st.sampled_from(["csv", "ndjson", "parquet"]),
)
def test_no_raw_value_in_outputs_or_console(seed: int, styles: list[str], fmt: str) -> None:
    data = _data(seed, styles)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_events(data.events, Path(tmp) / f"events.{fmt}")
        out = Path(tmp) / "out"
        result = profile(path, out, "--no-report", "--top-leaders", "2")
        assert result.exit_code == 0, result.output
        _assert_no_leak(out, result, _secrets(data, _leaders(out)))


@SETTINGS
@hypothesis.given(seed=st.integers(0, 2**32), styles=STYLE_LISTS)
def test_skipped_records_leak_nothing(seed: int, styles: list[str]) -> None:
    data = _data(seed, styles)
    bad, values = _bad_csv_rows(data, random.Random(seed + 1))
    with tempfile.TemporaryDirectory() as tmp:
        path = write_events(data.events, Path(tmp) / "events.csv")
        with path.open("a", encoding="utf-8") as fh:
            fh.write(bad)
        out = Path(tmp) / "out"
        result = profile(path, out, "--no-report", "--on-error", "skip", "--top-leaders", "2")
        assert result.exit_code == 0, result.output
        assert (out / "quarantine.jsonl").exists()
        _assert_no_leak(out, result, _secrets(data, _leaders(out)) | values)


def _tweet(tid: str, n: int, user: dict, reply_to: dict | None, text: str) -> dict:
    stamp = (T0 + timedelta(hours=n)).strftime("%a %b %d %H:%M:%S +0000 %Y")
    tweet = {"id_str": tid, "created_at": stamp, "user": user, "full_text": text}
    tweet["entities"] = {"user_mentions": [user] if reply_to is None else [reply_to["user"]]}
    if reply_to is not None:
        tweet["in_reply_to_status_id_str"] = reply_to["id_str"]
        tweet["in_reply_to_user_id_str"] = reply_to["user"]["id_str"]
        tweet["in_reply_to_screen_name"] = reply_to["user"]["screen_name"]
    return tweet


def _twitter(seed: int, styles: list[str]) -> tuple[list[str], dict[str, set[str]], set[str]]:
    """Tweet lines (users with screen and display names), raw values by user id, other values."""
    rng = random.Random(seed)
    users = [
        {"id_str": _secret(rng, "number"), "screen_name": _secret(rng, s), "name": _secret(rng, s)}
        for s in (styles * 6)[:6]
    ]
    tweets, n = [], 0
    for i, user in enumerate(users):
        for j in range(3):
            post = _tweet(
                _secret(rng, "number"), n, users[(i + j + 1) % 6], None, _secret(rng, "word")
            )
            post["user"] = user
            tweets.append(post)
            n += 1
            for k, other in enumerate(users):
                if k != i and (k + j + i) % 3:
                    tweets.append(
                        _tweet(_secret(rng, "number"), n, other, post, _secret(rng, "emoji"))
                    )
                    n += 1
    by_user = {u["id_str"]: {u["id_str"], u["screen_name"], u["name"]} for u in users}
    others = {t["id_str"] for t in tweets} | {t["full_text"] for t in tweets}
    return [json.dumps(t, ensure_ascii=False) for t in tweets], by_user, others


def _bad_tweets(rng: random.Random, good: str) -> tuple[list[str], set[str]]:
    """Bad records whose reasons would quote a raw number (a float id, a negative id), a handle
    or a key."""
    big = rng.randrange(10**17, 10**18)
    as_float, negative = json.dumps(float(big)), -rng.randrange(10**9, 10**12)
    handle, key = _secret(rng, "word"), _secret(rng, "markup")
    tweet = json.loads(good)
    lines = [
        json.dumps(tweet | {"user": tweet["user"] | {"id_str": float(big)}}),
        json.dumps(tweet | {"id_str": negative}),
        json.dumps(tweet | {"created_at": f"soon @{handle} {big}"}),
        json.dumps({key: {"screen_name": handle}}),  # a file of users by name, not tweets
    ]
    return lines, {as_float, as_float.split("e")[0][2:], str(negative), handle, str(big), key}


@SETTINGS
@hypothesis.given(seed=st.integers(0, 2**32), styles=STYLE_LISTS)
def test_twitter_export_leaks_no_name_id_or_number(seed: int, styles: list[str]) -> None:
    lines, by_user, others = _twitter(seed, styles)
    bad, values = _bad_tweets(random.Random(-seed - 1), lines[0])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tweets.jsonl"
        path.write_text("\n".join([*lines[:5], *bad, *lines[5:]]) + "\n", encoding="utf-8")
        out = Path(tmp) / "out"
        result = profile(path, out, "--no-report", "--on-error", "skip", "--top-leaders", "2")
        assert result.exit_code == 0, result.output
        leaders = _leaders(out)
        secrets = {v for uid, vs in by_user.items() if uid not in leaders for v in vs}
        _assert_no_leak(out, result, secrets | others | values)


def _message(mid: str, n: int, sender: tuple[str, str], parent: str | None, body: str) -> str:
    name, address = sender
    stamp = (T0 + timedelta(hours=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    head = [f"From: {json.dumps(name, ensure_ascii=False)} <{address}>", f"Date: {stamp}"]
    head += ["Subject: plans", f"Message-ID: <{mid}>"]
    head += [f"In-Reply-To: <{parent}>"] if parent else []
    return "From x Fri Mar  1 00:00:00 2024\n" + "\n".join(head) + f"\n\n{body}\n\n"


def _mbox(seed: int, styles: list[str]) -> tuple[str, dict[str, set[str]], set[str]]:
    """An mbox (display names, addresses in mixed case), raw values by account, other values."""
    rng = random.Random(seed)
    senders = [(_secret(rng, s), _secret(rng, "email")) for s in (styles * 6)[:6]]
    messages, others, n = [], set(), 0
    for i, sender in enumerate(senders):
        for j in range(3):
            post = _secret(rng, "word") + "@lists.example"
            messages.append(_message(post, n, sender, None, _secret(rng, "unicode")))
            others.add(post)
            n += 1
            for k, other in enumerate(senders):
                if k != i and (k + j + i) % 3:
                    reply = _secret(rng, "word") + "@lists.example"
                    messages.append(_message(reply, n, other, post, _secret(rng, "markup")))
                    others.add(reply)
                    n += 1
    bad = [_secret(rng, s) for s in ("unicode", "word", "email", "markup")]
    no_address = _message(bad[1], n, senders[0], None, bad[1])
    messages.insert(
        3, no_address.replace(senders[0][1], bad[0] + " Smith", 1).replace("<" + bad[0], bad[0])
    )
    undated = _message(bad[3], n, senders[1], None, bad[3])
    messages.insert(5, undated.replace("Date: ", f"Date: soon {bad[2]} ", 1))
    others |= {*bad, *(m.split("\n\n")[1] for m in messages)}
    by_account = {a.lower(): {a, name} for name, a in senders}
    return "".join(messages), by_account, others


@SETTINGS
@hypothesis.given(seed=st.integers(0, 2**32), styles=STYLE_LISTS)
def test_mbox_leaks_no_address_name_or_message_id(seed: int, styles: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _mbox_leaks_nothing(Path(tmp), seed, styles, "--no-report", "--top-leaders", "2")


def _hmac(value: str, prefix: str) -> str:
    return prefix + hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()[:16]


@SETTINGS
@hypothesis.given(seed=st.integers(0, 2**32), styles=STYLE_LISTS)
def test_named_leaders_keep_their_ids_and_nothing_else_leaks(seed: int, styles: list[str]) -> None:
    data = _data(seed, styles)
    leaders, comment = data.accounts[:2], _secret(random.Random(-seed - 1), "markup")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_events(data.events, Path(tmp) / "events.parquet")
        named = Path(tmp) / "leaders.txt"
        named.write_text(f"{leaders[0]}  # {comment}\n{leaders[1]}\n", encoding="utf-8")
        out = Path(tmp) / "out"
        result = profile(path, out, "--no-report", "--leaders", str(named))
        assert result.exit_code == 0, result.output
        assert _leaders(out) == set(leaders)
        _assert_no_leak(out, result, _secrets(data, set(leaders)) | {comment})
        nodes = pl.read_parquet(out / "edges.parquet").select("source", "target")
        accounts = set(nodes.unpivot()["value"].to_list())
        assert accounts == {a if a in leaders else _hmac(a, "u_") for a in data.accounts}


@SETTINGS
@hypothesis.given(seed=st.integers(0, 2**32), styles=STYLE_LISTS)
def test_leader_not_in_the_data_is_reported_masked(seed: int, styles: list[str]) -> None:
    data = _data(seed, styles)
    unknown = _secret(random.Random(-seed - 1), styles[0])
    with tempfile.TemporaryDirectory() as tmp:
        path = write_events(data.events, Path(tmp) / "events.ndjson")
        named = Path(tmp) / "leaders.txt"
        names = [data.accounts[0], unknown, data.accounts[1].upper(), "@" + data.accounts[2]]
        named.write_text("\n".join(names) + "\n", encoding="utf-8")
        out = Path(tmp) / "out"
        result = profile(path, out, "--no-report", "--leaders", str(named))
        assert result.exit_code == 2, result.output
        assert f"error: {named}:2: leader '" in result.stderr
        assert not out.exists()
        found = leaks(
            Path(tmp) / "nothing", result.stdout + result.stderr, {unknown, *data.accounts}
        )
        assert not found, found[:5]


def _bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@SETTINGS
@hypothesis.given(seed=st.integers(0, 2**32))
def test_same_input_and_key_give_the_same_bytes(seed: int) -> None:
    data = _data(seed, ["markup", "unicode"])
    with tempfile.TemporaryDirectory() as tmp:
        path = write_events(data.events, Path(tmp) / "events.csv")
        out, runs = Path(tmp) / "out", []
        for _ in range(2):  # the second run replaces the first's folder
            result = profile(path, out, "--no-report", "--top-leaders", "2")
            assert result.exit_code == 0, result.output
            runs.append((_bytes(out), result.stdout))
        assert runs[0] == runs[1]


@hypothesis.settings(SETTINGS, max_examples=2)
@hypothesis.given(seed=st.integers(0, 2**32), styles=STYLE_LISTS)
def test_report_and_charts_leak_nothing(seed: int, styles: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = _mbox_leaks_nothing(Path(tmp), seed, styles, "--top-leaders", "3")
        assert (out / "report.html").exists() and (out / "charts" / "profile_map.svg").exists()


def _mbox_leaks_nothing(tmp: Path, seed: int, styles: list[str], *options: str) -> Path:
    """Profile a generated mbox in ``tmp`` (skip mode); no raw value but the leaders' leaks."""
    text, by_account, others = _mbox(seed, styles)
    path = tmp / "list.mbox"
    path.write_text(text, encoding="utf-8")
    out = tmp / "out"
    result = profile(path, out, *options, "--on-error", "skip")
    assert result.exit_code == 0, result.output
    leaders = _leaders(out)
    secrets = {v for a, vs in by_account.items() if a not in leaders for v in vs}
    _assert_no_leak(out, result, secrets | others)
    return out


@hypothesis.given(
    number=st.integers(10**5, 10**19) | st.floats(1e5, 1e19),
    sign=st.sampled_from([1, -1]),
    template=st.sampled_from(["{n}.id must be a string id, got number {v}", "text {v} (kept)"]),
)
def test_mask_reason_hides_numbers_as_json_writes_them(
    number: float, sign: int, template: str
) -> None:
    """A number with 3 digits or more before its exponent (an id, not ``1e+19``) is masked whole."""
    value = json.dumps(sign * number)
    digits = value.lstrip("-").split("e")[0].replace(".", "")
    hypothesis.assume(len(digits) >= 3)
    masked = mask_reason(template.format(n="user", v=value))
    assert value not in masked and not any(
        digits[i : i + 5] in masked for i in range(len(digits) - 4)
    )
