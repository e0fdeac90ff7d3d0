from __future__ import annotations

import hashlib
import hmac

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tribe_analysis import features as ft
from tribe_analysis import graph
from tribe_analysis.privacy import KeyError_, load_key, mask_reason, pseudonymize
from tribe_analysis.synth import simulate_tribe

KEY = b"a-test-key-of-enough-length"


@pytest.fixture(scope="module")
def tribe():
    return simulate_tribe(n_leaders=6, days=20, seed=9)


def test_ids_replaced_except_leaders_and_text_dropped(tribe):
    events = tribe.events.with_columns(pl.lit("secret words").alias("text"))
    out = pseudonymize(events, KEY, keep=tribe.leaders)
    actors = set(out["actor_id"])
    assert set(tribe.leaders) <= actors
    others = actors - set(tribe.leaders)
    assert others and all(a.startswith("u_") and len(a) == 18 for a in others)
    assert out["text"].null_count() == out.height
    assert all(e.startswith("e_") for e in out["event_id"])
    assert not set(out["event_id"]) & set(events["event_id"])


def test_stable_for_a_key_and_different_for_another(tribe):
    a = pseudonymize(tribe.events, KEY)
    b = pseudonymize(tribe.events, KEY)
    c = pseudonymize(tribe.events, KEY + b"!")
    assert a.equals(b)
    assert set(a["actor_id"]).isdisjoint(set(c["actor_id"]))


def test_graph_structure_and_measures_unchanged(tribe):
    out = pseudonymize(tribe.events, KEY, keep=tribe.leaders)
    before = graph.to_networkx(graph.edge_list(tribe.events))
    after = graph.to_networkx(graph.edge_list(out))
    assert sorted(d for _, d in before.degree()) == sorted(d for _, d in after.degree())
    assert before.number_of_edges() == after.number_of_edges()
    assert sorted(w for *_, w in before.edges(data="weight")) == sorted(
        w for *_, w in after.edges(data="weight")
    )
    m_before = ft.leader_measures(tribe.events, tribe.leaders)
    m_after = ft.leader_measures(out, tribe.leaders)
    from polars.testing import assert_frame_equal

    # equal up to float summation order (constraint sums over alters in id order)
    assert_frame_equal(m_before, m_after, check_exact=False, rel_tol=1e-12, abs_tol=1e-15)


@given(key=st.binary(max_size=150), values=st.lists(st.text(min_size=1), max_size=5))
def test_digests_are_hmac_sha256(key, values):
    """The precomputed-pad HMAC is the standard library's, for keys shorter and longer than a block."""
    from tribe_analysis.privacy import _digests

    got = _digests(key, "u_", pl.Series(values, dtype=pl.String)).to_list()
    assert got == [
        "u_" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:16] for v in values
    ]


def _linked_events(parents: list[str | None], ids: list[str]) -> pl.DataFrame:
    from datetime import UTC, datetime

    from tribe_analysis.events import conform

    n = len(ids)
    return conform(
        pl.DataFrame(
            {
                "event_id": ids,
                "timestamp": [datetime(2024, 1, 1, tzinfo=UTC)] * n,
                "actor_id": [f"a{k % 3}" for k in range(n)],
                "action": ["post" if p is None else "reply" for p in parents],
                "parent_id": parents,
                "thread_id": [p if p is None else "t_outside" for p in parents],
            }
        ),
        platform="events",
    )


def test_links_take_the_pseudonym_of_the_event_they_name():
    events = _linked_events([None, "p", "r", "outside"], ["p", "r", "s", "q"])
    out = pseudonymize(events, KEY)
    own = dict(zip(events["event_id"], out["event_id"], strict=True))
    assert out["parent_id"].to_list()[1:3] == [own["p"], own["r"]]
    outside = out["parent_id"][3]
    assert outside.startswith("e_") and outside not in own.values()
    digest = "e_" + hmac.new(KEY, b"t_outside", hashlib.sha256).hexdigest()[:16]
    assert out["thread_id"].to_list() == [None, digest, digest, digest]
    assert outside == "e_" + hmac.new(KEY, b"outside", hashlib.sha256).hexdigest()[:16]


def test_a_repeated_event_id_named_as_a_parent_keeps_one_pseudonym():
    """Unvalidated frames too: the copies of a repeated id share one pseudonym, the link follows."""
    events = _linked_events([None, None, "p"], ["p", "p", "r"])
    out = pseudonymize(events, KEY)
    assert out["event_id"][0] == out["event_id"][1] == out["parent_id"][2]
    assert out.height == 3


def test_key_required_and_strong(tmp_path, monkeypatch):
    monkeypatch.delenv("TRIBE_ANALYSIS_KEY", raising=False)
    with pytest.raises(KeyError_, match="no pseudonymisation key"):
        load_key()
    short = tmp_path / "key"
    short.write_text("abc\n")
    with pytest.raises(KeyError_, match="key too short"):
        load_key(short)
    with pytest.raises(KeyError_, match="cannot read key file"):
        load_key(tmp_path / "none")
    good = tmp_path / "good"
    good.write_bytes(KEY + b"\n")
    assert load_key(good) == KEY
    monkeypatch.setenv("TRIBE_ANALYSIS_KEY", KEY.decode())
    assert load_key() == KEY


# ------------------------------------------------------------------ issue 10: every output


REASONS = [
    "duplicate id '{v}' (kept once)",
    "duplicate event_id '{v}' (first at a.csv:3)",
    "malformed Date header '{v}'",
    "{{name}} {r} has no time zone (expected Z or an offset)",
    "user.id must be a string id, got object {j}",
    "reaction {r} users must be a list of user ids",
    "(event '{v}' -> parent '{v}')",
]


@given(
    value=st.from_regex(r"[A-Za-z]{2}[0-9]{3}[A-Za-z0-9_.@'\" -]{0,12}", fullmatch=True),
    template=st.sampled_from(REASONS),
)
def test_mask_reason_hides_any_quoted_value(value, template):
    import json

    reason = template.format(v=value, r=repr(value), j=json.dumps({"k": value})[:40])
    masked = mask_reason(reason)
    assert value not in masked and value[:5] not in masked


@given(number=st.integers(100, 10**19), email=st.emails())
def test_mask_reason_hides_numbers_and_addresses(number, email):
    masked = mask_reason(f"account.id must be a string id, got number {number} from {email}")
    assert str(number) not in masked and email not in masked
    assert masked.startswith("account.id must be a string id, got number …")


def test_mask_reason_keeps_what_is_not_data():
    for reason in (
        "missing required column 'actor_id'",
        "not UTF-8: byte 0xe9 at column 24",
        "reply without parent_id",
        "unparseable created_at (expected ISO-8601, e.g. 2024-05-01T12:00:00.000Z)",
    ):
        assert mask_reason(reason) == reason
    assert (
        mask_reason("unknown action 'like' (expected post)") == "unknown action '…' (expected post)"
    )


def _export(tmp_path):
    """A simulated Mastodon export with handles, display text and malformed records.

    Returns the file, every raw value of it (ids, handles, addresses, text) by account,
    and the raw values that belong to no account (event ids, text of bad records).
    """
    import json

    from tribe_analysis.synth import to_mastodon

    tribe = simulate_tribe(n_leaders=4, days=12, seed=21)
    statuses = to_mastodon(tribe.events)

    def account(aid):
        return {"id": aid, "acct": f"{aid}.handle@inst.example"}

    lines = []
    for n, status in enumerate(statuses):
        status["account"] = account(status["account"]["id"])
        status["mentions"] = [account(m["id"]) for m in status["mentions"]]
        if status["reblog"] is not None:
            status["reblog"]["account"] = account(status["reblog"]["account"]["id"])
        if status["content"]:
            status["content"] = f"<p>zq{n}sn words by {status['account']['id']}</p>"
        lines.append(json.dumps(status))
    by_account: dict[str, set[str]] = {}
    for status in statuses:
        aid = status["account"]["id"]
        by_account.setdefault(aid, set()).update({aid, status["account"]["acct"]})
    others = {s["id"] for s in statuses} | {f"zq{n}sn" for n in range(len(statuses))}
    member = next(a for a in sorted(by_account) if a not in tribe.leaders)
    handle = f"{member}.handle@inst.example"
    dup = next(line for line in lines if f'"id": "{member}"' in line)
    bad = [
        '{"id": "e9990001", "account": {"acct": "' + handle + '", "id": "' + member,  # cut off
        json.dumps(
            {
                "id": "e9990002",
                "created_at": f"yesterday {handle}",
                "account": account(member),
                "content": "zqbad1",
            }
        ),
        json.dumps(
            {
                "id": "e9990003",
                "created_at": 1700000000123,
                "account": account(member),
                "content": "zqbad2",
            }
        ),
        json.dumps(
            {
                "id": "e9990004",
                "created_at": "2024-01-02T00:00:00Z",
                "account": {"id": {"h": handle}, "acct": handle},
                "content": "zqbad3",
            }
        ),
        dup,
    ]
    others |= {
        "e9990001",
        "e9990002",
        "e9990003",
        "e9990004",
        "zqbad1",
        "zqbad2",
        "zqbad3",
        "1700000000123",
    }
    path = tmp_path / "statuses.jsonl"
    path.write_text("\n".join([*lines[:50], *bad, *lines[50:]]) + "\n")
    return path, by_account, others


def _leaks(data: str, values: set[str]) -> set[str]:
    """The values that occur in ``data`` as whole tokens (ids, handles, addresses)."""
    import re

    tokens = set(re.findall(r"[A-Za-z0-9_.@-]+", data))
    tokens |= {part for token in tokens for part in re.split(r"[.@-]", token)}
    return values & tokens


def _text_of(path) -> str:
    """A file's bytes as text; a Parquet file's table too (its pages are compressed)."""
    text = path.read_bytes().decode("latin-1")
    if path.suffix == ".parquet":
        text += pl.read_parquet(path).with_columns(pl.all().cast(pl.String)).write_csv()
    return text


def test_pseudonymised_run_leaks_no_raw_value_in_any_output_or_the_console(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from tribe_analysis.cli import main

    monkeypatch.delenv("TRIBE_ANALYSIS_KEY", raising=False)
    export, by_account, others = _export(tmp_path)
    key = tmp_path / "key"
    key.write_bytes(KEY)
    out, raw = tmp_path / "results", tmp_path / "private" / "raw-quarantine.jsonl"
    args = ["profile", str(export), "--top-leaders", "3", "--on-error", "skip", "--pseudonymize"]
    args += ["--key-file", str(key), "--out", str(out), "--quarantine-raw", str(raw)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    leaders = pl.read_csv(out / "profiles.csv")["leader_id"].to_list()
    assert len(leaders) == 3
    secret = others | {v for aid, vs in by_account.items() if aid not in leaders for v in vs}
    files = sorted(p for p in out.rglob("*") if p.is_file())
    names = {p.relative_to(out).as_posix() for p in files}
    assert {"report.html", "charts/profile_map.png", "manifest.json", "quarantine.jsonl"} <= names
    for path in files:
        leaked = _leaks(_text_of(path), secret)
        assert not leaked, f"{path.name} holds {sorted(leaked)[:5]}"
        assert b".results.tmp-" not in path.read_bytes()  # the staging folder's name
    console = result.stdout + result.stderr
    assert not _leaks(console, secret), sorted(_leaks(console, secret))[:5]
    # the quarantine keeps where and why, never the record
    quarantined = [json.loads(line) for line in (out / "quarantine.jsonl").read_text().splitlines()]
    assert len(quarantined) == 5 and {q["record"] for q in quarantined} == {None}
    assert {q["source"] for q in quarantined} == {str(export)}
    assert any(q["reason"].startswith("duplicate id '…'") for q in quarantined)
    # raw records only where the user asked, and the console says so
    assert f"raw records in {raw} (it holds" in result.stderr
    raw_lines = [json.loads(line) for line in raw.read_text().splitlines()]
    assert {r["line"] for r in raw_lines} == {q["line"] for q in quarantined}
    assert any("zqbad1" in r["record"] for r in raw_lines)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["records_quarantined"] == 5 and manifest["pseudonymized"] is True
    # the leaders are the subject: they stay
    assert all(leader in (out / "report.html").read_text() for leader in leaders)


def test_pseudonymised_error_lines_are_masked(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tribe_analysis.cli import main

    monkeypatch.setenv("TRIBE_ANALYSIS_KEY", KEY.decode())
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,timestamp,actor_id,action,parent_id\n"
        "p1,2024-03-01T10:00:00Z,ann,post,\n"
        "p1,2024-03-01T11:00:00Z,bob.secret,post,\n"
        "r1,March 1st bob.secret,bob.secret,reply,p1\n"
    )
    base = ["profile", str(path), "--out", str(tmp_path / "out")]
    plain = CliRunner().invoke(main, base)
    hidden = CliRunner().invoke(main, [*base, "--pseudonymize"])
    assert plain.exit_code == hidden.exit_code == 2
    assert "duplicate event_id 'p1'" in plain.stderr and "bob.secret" in plain.stderr
    assert f"error: {path}:3: duplicate event_id '…'" in hidden.stderr
    assert "bob.secret" not in hidden.stderr and "'p1'" not in hidden.stderr
