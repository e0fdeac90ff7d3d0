"""Slack export reader on small hand-made exports (no real export is available)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import consistent, one_problem, rows
from tribe_analysis import events as ev
from tribe_analysis.io import slack

T0 = "1700000000.000100"  # 2023-11-14 22:13:20.0001 UTC
T1 = "1700000060.000200"
T2 = "1700000120.000300"
T3 = "1700003600.000400"

PARENT = {
    "type": "message",
    "ts": T0,
    "user": "U1",
    "text": "Plans for <@U2> and <@U3|cid>?",
    "thread_ts": T0,
    "reply_count": 2,
    "reactions": [
        {"name": "thumbsup", "users": ["U2", "U3"], "count": 2},
        {"name": "eyes", "users": ["U2"], "count": 1},
    ],
}
REPLY = {"ts": T1, "user": "U2", "text": "yes", "thread_ts": T0, "parent_user_id": "U1"}
BROADCAST = {
    "ts": T2,
    "user": "U3",
    "text": "sure",
    "thread_ts": T0,
    "subtype": "thread_broadcast",
}
JOIN = {"ts": T2, "user": "U4", "subtype": "channel_join", "text": "<@U4> has joined"}
WELCOMED = {
    "ts": T3,
    "user": "U5",
    "subtype": "channel_join",
    "text": "<@U5> has joined",
    "reactions": [{"name": "wave", "users": ["U1"], "count": 1}],
}
BOT = {"ts": T1, "bot_id": "B9", "subtype": "bot_message", "text": "deploy done"}


def export(root: Path, days: dict[str, dict[str, list]], *, channels: list | None = None) -> Path:
    """Write an export: {folder: {"YYYY-MM-DD": [messages] or raw text}}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "ann"}]))
    if channels is None:
        channels = [{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}]
    (root / "channels.json").write_text(json.dumps(channels))
    for folder, files in days.items():
        (root / folder).mkdir(exist_ok=True)
        for day, content in files.items():
            text = content if isinstance(content, str) else json.dumps(content, indent=4)
            (root / folder / f"{day}.json").write_text(text, "utf-8")
    return root


def test_messages_threads_reactions_and_mentions(tmp_path):
    root = export(
        tmp_path / "ws",
        {
            "general": {"2023-11-14": [PARENT, REPLY, JOIN], "2023-11-15": [BROADCAST]},
            "random": {"2023-11-14": [WELCOMED, BOT]},
        },
    )
    result = slack.read([root])
    assert result.platform == "slack"
    assert result.observability == {"post": True, "reply": True, "share": False, "reaction": True}
    # the plain join is ignored and not counted; the welcomed join counts (its reaction is kept)
    assert (result.records_read, result.records_loaded, result.skipped) == (5, 5, [])
    got = rows(result)
    parent = got[f"C1:{T0}"]
    assert (parent["actor_id"], parent["action"], parent["thread_id"]) == ("U1", "post", f"C1:{T0}")
    assert parent["mentions"] == ["U2", "U3"]
    assert str(parent["timestamp"]) == "2023-11-14 22:13:20.000100+00:00"
    reply = got[f"C1:{T1}"]
    assert (reply["action"], reply["parent_id"], reply["target_actor_id"]) == (
        "reply",
        f"C1:{T0}",
        "U1",
    )
    broadcast = got[f"C1:{T2}"]  # no parent_user_id: the target comes from the thread parent
    assert (broadcast["action"], broadcast["target_actor_id"]) == ("reply", "U1")
    reactions = {k: v for k, v in got.items() if v["action"] == "reaction"}
    assert set(reactions) == {
        f"C1:{T0}:thumbsup:U2",
        f"C1:{T0}:thumbsup:U3",
        f"C1:{T0}:eyes:U2",
        f"C2:{T3}:wave:U1",
    }
    thumbs = reactions[f"C1:{T0}:thumbsup:U3"]
    assert (thumbs["actor_id"], thumbs["parent_id"], thumbs["target_actor_id"]) == (
        "U3",
        f"C1:{T0}",
        "U1",
    )
    assert thumbs["timestamp"] == parent["timestamp"]  # reaction time is not exported
    wave = reactions[f"C2:{T3}:wave:U1"]
    assert (wave["parent_id"], wave["target_actor_id"]) == (f"C2:{T3}", "U5")
    assert got[f"C2:{T1}"]["actor_id"] == "B9"  # the bot message
    assert f"C2:{T3}" not in got  # the join itself is no event
    assert f"C1:{T2}" in got and got[f"C1:{T2}"]["actor_id"] == "U3"  # not the join (ignored)


def test_notices_about_other_messages_are_no_events(tmp_path):
    """An edit, a deletion and a thread-reply notice name another message and have no
    top-level user: not records (they were bad records that stopped a strict read)."""
    edited = REPLY | {"text": "yes!", "edited": {"user": "U2", "ts": T2}}
    notices = [
        {"type": "message", "subtype": "message_changed", "ts": T3, "hidden": True,
         "message": edited, "previous_message": REPLY},
        {"type": "message", "subtype": "message_deleted", "ts": T3, "hidden": True,
         "deleted_ts": "1700000030.000000", "previous_message": {"ts": "1700000030.000000"}},
        {"type": "message", "subtype": "message_replied", "ts": T3, "hidden": True,
         "message": PARENT},
    ]  # fmt: skip
    root = export(tmp_path / "ws", {"general": {"2023-11-14": [PARENT, edited, *notices]}})
    result = slack.read([root])
    assert (result.records_read, result.records_loaded, result.skipped) == (2, 2, [])
    assert rows(result)[f"C1:{T1}"]["text"] == "yes!"


def test_unlisted_folder_uses_its_name(tmp_path):
    root = export(tmp_path / "ws", {"secret": {"2023-11-14": [PARENT]}}, channels=[])
    assert f"secret:{T0}" in rows(slack.read([root]))


def test_sniff(tmp_path):
    root = export(tmp_path / "ws", {"general": {"2023-11-14": [PARENT]}})
    assert slack.sniff(root)
    assert not slack.sniff(root / "users.json")
    assert not slack.sniff(root / "general")
    assert not slack.sniff(tmp_path / "missing")
    se_dump = tmp_path / "se"
    se_dump.mkdir()
    (se_dump / "Posts.xml").write_text("<posts>\n</posts>\n")
    assert not slack.sniff(se_dump)
    (root / "general" / "2023-11-14.json").unlink()
    assert not slack.sniff(root)


# --------------------------------------------------------------------------- bad records


BAD = [
    ({"ts": 1700000000.5, "user": "U1", "text": "x"}, "ts must be a string, got float"),
    ({"user": "U1", "text": "x"}, "missing ts"),
    ({"ts": "yesterday", "user": "U1"}, "malformed ts 'yesterday'"),
    ({"ts": T3, "text": "who?"}, "missing user (and no bot_id)"),
    ({"ts": T3, "user": {"id": "U1"}}, "user must be a string, got dict"),
    ({"ts": T3, "user": "U1", "thread_ts": 5}, "thread_ts must be a string, got int"),
    (
        {"ts": T3, "user": "U1", "reactions": [{"name": "x", "users": "U2"}]},
        "reaction 'x' users must be a list of user ids",
    ),
    ("just text", "expected a message object, got str"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD)
def test_bad_message_strict_and_skip(tmp_path, bad, reason):
    root = export(tmp_path / "ws", {"general": {"2023-11-14": [PARENT, bad, REPLY]}})
    day = root / "general" / "2023-11-14.json"
    line = 1 + json.dumps([PARENT], indent=4).count("\n")  # where the second element starts
    with pytest.raises(ev.EventsError) as excinfo:
        slack.read([root])
    assert one_problem(excinfo) == f"{day}:{line}: {reason}"
    result = slack.read([root], on_error="skip")
    consistent(result)
    assert (result.records_read, result.records_loaded) == (3, 2)
    [skipped] = result.skipped
    assert (skipped.line, skipped.reason) == (line, reason)
    assert json.loads(skipped.record) == bad  # verbatim JSON of the element
    assert {f"C1:{T0}", f"C1:{T1}"} <= set(result.events["event_id"])


def test_truncated_daily_file(tmp_path):
    text = json.dumps([PARENT, REPLY], indent=4)
    cut = text[: text.index('"parent_user_id"')]
    root = export(tmp_path / "ws", {"general": {"2023-11-14": cut, "2023-11-15": [BROADCAST]}})
    day = root / "general" / "2023-11-14.json"
    with pytest.raises(ev.EventsError) as excinfo:
        slack.read([root])
    line = 1 + json.dumps([PARENT], indent=4).count("\n")
    assert one_problem(excinfo).startswith(f"{day}:{line}: invalid JSON (")
    assert one_problem(excinfo).endswith("the rest of the file is not read)")
    result = slack.read([root], on_error="skip")
    consistent(result)
    assert set(result.events.filter(result.events["action"] != "reaction")["event_id"]) == {
        f"C1:{T0}",
        f"C1:{T2}",
    }
    assert result.skipped[0].record.startswith("{")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "1: empty file (expected a JSON array of messages)"),
        ('{"ts": "1"}', "1: not a JSON array (expected a JSON array of messages)"),
        (b'[{"ts": "1700000000.0", "user": "U1", "text": "caf\xe9"}]', "1: not UTF-8: byte 0xe9"),
    ],
)
def test_bad_daily_file_is_one_bad_record(tmp_path, content, reason):
    root = export(tmp_path / "ws", {"general": {"2023-11-15": [BROADCAST]}})
    day = root / "general" / "2023-11-14.json"
    if isinstance(content, bytes):
        day.write_bytes(content)
    else:
        day.write_text(content)
    with pytest.raises(ev.EventsError) as excinfo:
        slack.read([root])
    assert one_problem(excinfo).startswith(f"{day}:{reason}")
    result = slack.read([root], on_error="skip")
    consistent(result)
    assert (result.records_read, result.records_loaded) == (2, 1)


# --------------------------------------------------------------------------- bad inputs


def test_bad_inputs_are_errors_in_both_modes(tmp_path):
    root = export(tmp_path / "ws", {"general": {"2023-11-14": [PARENT]}})
    zipped = tmp_path / "export.zip"
    zipped.write_bytes(b"PK\x03\x04")
    not_slack = tmp_path / "other"
    not_slack.mkdir()
    (not_slack / "tweets.ndjson").write_text('{"id_str": "1"}\n')
    broken = export(tmp_path / "broken", {})
    (broken / "channels.json").write_text("[{")
    empty = export(tmp_path / "empty", {"general": {"2023-11-14": []}})
    cases = [
        (tmp_path / "missing", "no such folder"),
        (zipped, "is a file: give the export folder (unzip the export first)"),
        (not_slack, "not a Slack export (no channels.json or groups.json)"),
        (empty, "no slack records found"),
    ]
    for path, reason in cases:
        for mode in ("strict", "skip"):
            with pytest.raises(ev.EventsError) as excinfo:
                slack.read([path], on_error=mode)
            assert one_problem(excinfo) == f"{path}: {reason}"
    with pytest.raises(ev.EventsError) as excinfo:
        slack.read([broken], on_error="skip")
    assert one_problem(excinfo).startswith(f"{broken / 'channels.json'}: not a JSON channel list")
    assert slack.read([root]).records_read == 1


def test_overlapping_exports_keep_messages_once(tmp_path):
    first = export(tmp_path / "a", {"general": {"2023-11-14": [PARENT, REPLY]}})
    second = export(tmp_path / "b", {"general": {"2023-11-14": [REPLY, BROADCAST]}})
    for mode in ("strict", "skip"):
        result = slack.read([first, second], on_error=mode)
        consistent(result)
        assert result.events.filter(result.events["action"] != "reaction").height == 3
        [dup] = result.skipped
        assert dup.source == str(second / "general" / "2023-11-14.json")
        assert (dup.line, dup.reason) == (
            2,
            f"duplicate id 'C1:{T1}' (kept once; first at {first / 'general' / '2023-11-14.json'}:27)",
        )
