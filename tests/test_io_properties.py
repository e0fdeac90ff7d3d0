"""Property tests of the readers: any mix of good and bad records, nothing lost.

For any sequence of good and bad records (and blank lines), in every mode:
``records_read == records_loaded + len(skipped)``; a strict read fails exactly
when a record is bad, naming the first bad one's line; a lenient read loads every
good record with the right types and quarantines every bad one exactly once, with
its physical line number and verbatim text.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import hypothesis
from hypothesis import strategies as st

from tests.conftest import consistent
from tribe_analysis import events as ev
from tribe_analysis import io

SETTINGS = hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)


def _event(i: int, **change) -> dict:
    return {
        "event_id": f"e{i}",
        "timestamp": f"2024-01-01T00:{i % 60:02d}:00Z",
        "actor_id": f"u{i % 4}",
        "action": "post",
        "mentions": [f"u{(i + 1) % 4}"] if i % 2 else [],
        "text": f"event {i}",
    } | change


NDJSON_BAD = {
    "invalid JSON": lambda i: json.dumps(_event(i))[:-9],
    "mentions as text": lambda i: json.dumps(_event(i, mentions="a|b")),
    "id as object": lambda i: json.dumps(_event(i, event_id={"id": i})),
    "id as list": lambda i: json.dumps(_event(i, actor_id=[i])),
    "text as number": lambda i: json.dumps(_event(i, text=i)),
    "not an object": lambda i: json.dumps([i]),
    "unknown action": lambda i: json.dumps(_event(i, action="like")),
    "several problems": lambda i: json.dumps(_event(i, action="like", timestamp="soon")),
}
NDJSON_KINDS = ["good", "good", "good", "blank", *NDJSON_BAD]


def _ndjson_line(kind: str, i: int) -> str:
    if kind == "good":
        return json.dumps(_event(i, event_id=i) if i % 5 == 0 else _event(i))  # ids as numbers too
    if kind == "blank":
        return "   "
    return NDJSON_BAD[kind](i)


def _check(path: Path, kinds: list[str], lines: list[int], texts: list[str], want_id) -> None:
    """The properties of the module docstring for one written file."""
    bad = [k for k, kind in enumerate(kinds) if kind not in ("good", "blank")]
    good = [k for k, kind in enumerate(kinds) if kind == "good"]
    try:
        strict = io.read(path, format="events")
    except ev.EventsError as exc:
        if bad:
            assert exc.problems[0].line == lines[bad[0]]
        else:
            assert not good and "no events" in str(exc), f"a good file was refused: {exc}"
            return
    else:
        assert not bad
        consistent(strict)
    result = io.read(path, format="events", on_error="skip")
    consistent(result)
    assert result.records_read == len(good) + len(bad)
    assert sorted((s.line, s.record) for s in result.skipped) == [(lines[k], texts[k]) for k in bad]
    for k in bad:  # several problems of one record: one quarantined record, every reason
        [item] = [s for s in result.skipped if s.line == lines[k]]
        assert ("; " in item.reason) == (kinds[k] == "several problems"), item.reason
    assert sorted(result.events["event_id"]) == sorted(want_id(k) for k in good)
    assert result.events.schema == ev.SCHEMA


@SETTINGS
@hypothesis.given(st.lists(st.sampled_from(NDJSON_KINDS), min_size=1, max_size=12))
def test_canonical_ndjson_any_mix_of_good_and_bad_lines(kinds):
    texts = [_ndjson_line(kind, k) for k, kind in enumerate(kinds)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.ndjson"
        path.write_text("".join(f"{t}\n" for t in texts), encoding="utf-8")
        _check(
            path,
            kinds,
            list(range(1, len(kinds) + 1)),
            texts,
            lambda k: str(k) if k % 5 == 0 else f"e{k}",
        )


CSV_HEADER = "event_id,timestamp,actor_id,action,parent_id,mentions,text"
CSV_BAD = {
    "too few fields": lambda i: f"e{i},2024-01-01T00:00:00Z,u1,post",
    "too many fields": lambda i: f"e{i},2024-01-01T00:00:00Z,u1,post,,,x,y",
    "unknown action": lambda i: f"e{i},2024-01-01T00:00:00Z,u1,like,,,x",
    "several problems": lambda i: f"e{i},soon,u1,like,,,x",
    "stray quote": lambda i: f'e{i},2024-01-01T00:00:00Z,u1,post,,,say "hi"',
}
CSV_KINDS = ["good", "good", "multi-line", "blank", *CSV_BAD]


def _csv_record(kind: str, i: int) -> str:
    if kind == "good":
        return f'e{i},2024-01-01T00:{i % 60:02d}:00Z,u{i % 4},post,,u1|u2,"text, {i}"'
    if kind == "multi-line":
        return f'e{i},2024-01-01T00:00:00Z,u1,post,,,"two\nlines, ""quoted"""'
    if kind == "blank":
        return ""
    return CSV_BAD[kind](i)


@SETTINGS
@hypothesis.given(
    st.lists(st.sampled_from(CSV_KINDS), min_size=1, max_size=12),
    st.booleans(),
)
def test_canonical_csv_any_mix_of_good_and_bad_records(kinds, unclosed):
    texts = [_csv_record(kind, k) for k, kind in enumerate(kinds)]
    if unclosed:  # a quote left open runs to the end of the file: one last bad record
        kinds, texts = [*kinds, "unclosed"], [*texts, 'z,2024-01-01T00:00:00Z,u,post,,,"open']
    lines, line = [], 2
    for text in texts:
        lines.append(line)
        line += text.count("\n") + 1
    kinds = ["good" if k == "multi-line" else k for k in kinds]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        path.write_text(CSV_HEADER + "\n" + "".join(f"{t}\n" for t in texts), encoding="utf-8")
        _check(path, kinds, lines, texts, lambda k: f"e{k}")


def _comment(i: int) -> dict:
    return {"name": f"t1_{i}", "author": "bob", "created_utc": 1500000000 + i,
            "parent_id": "t3_x", "link_id": "t3_x", "body": f"comment {i}"}  # fmt: skip


REDDIT_BAD = {
    "invalid JSON": lambda i: json.dumps(_comment(i))[:-3],
    "body as number": lambda i: json.dumps(_comment(i) | {"body": i}),
    "author as object": lambda i: json.dumps(_comment(i) | {"author": {"name": "x"}}),
    "no time": lambda i: json.dumps({k: v for k, v in _comment(i).items() if k != "created_utc"}),
}


@SETTINGS
@hypothesis.given(
    st.lists(st.sampled_from(["good", "good", "blank", *REDDIT_BAD]), min_size=1, max_size=12),
    st.booleans(),
)
def test_platform_json_lines_any_mix_of_good_and_bad_lines(kinds, windows):
    texts = [
        json.dumps(_comment(k))
        if kind == "good"
        else ""
        if kind == "blank"
        else REDDIT_BAD[kind](k)
        for k, kind in enumerate(kinds)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "comments.jsonl"
        data = "".join(f"{t}\n" for t in texts).encode()
        path.write_bytes(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n") if windows else data)
        if not any(kind != "blank" for kind in kinds):
            return
        kinds = [k if k != "blank" else "blank" for k in kinds]
        try:
            strict = io.read(path, format="reddit")
        except ev.EventsError as exc:
            assert any(k not in ("good", "blank") for k in kinds)
            first = next(i for i, k in enumerate(kinds) if k not in ("good", "blank"))
            assert exc.problems[0].line == first + 1
        else:
            consistent(strict)
        result = io.read(path, format="reddit", on_error="skip")
        consistent(result)
        bad = [(k + 1, texts[k]) for k, kind in enumerate(kinds) if kind not in ("good", "blank")]
        assert sorted((s.line, s.record) for s in result.skipped) == bad
        want = {f"t1_{k}" for k, kind in enumerate(kinds) if kind == "good"}
        assert set(result.events["event_id"]) == want
