"""Accounts whose role is known from the real exports' PROVENANCE get a label that fits it.

News outlets broadcast: they must never come out participator. Moderators and
community managers who mostly answer people, and the list founder who answers
threads, must never come out broadcaster. Accounts with one tweet have too little
evidence: undetermined. No pseudo-account is ever a leader. Each role is checked
in a run that names the accounts as leaders and in the default ``--top-leaders 20``
run (where the account is chosen). ``docs/validation.md`` has the table.

Skipped with a reason where ../shared is absent; a failure under CI=true.
"""

from __future__ import annotations

import polars as pl
import pytest
from click.testing import CliRunner

from tribe_analysis.cli import main
from tribe_analysis.features import is_pseudo_account

from .conftest import real_data_dir

NEVER_PARTICIPATOR = "never participator"
NEVER_BROADCASTER = "never broadcaster"
UNDETERMINED = "undetermined"

# export -> (folder, input files, extra options, {actor_id: (name, expectation, why)})
ROLES = {
    "twitter": (
        "twitter_pheme_rumoureval2017",
        ["tweets.ndjson"],
        [],
        {
            "5402612": ("BBCBreaking", NEVER_PARTICIPATOR, "news outlet (PROVENANCE leaders)"),
            "64643056": ("RT_com", NEVER_PARTICIPATOR, "news outlet (PROVENANCE leaders)"),
            "428333": ("cnnbrk", NEVER_PARTICIPATOR, "news outlet (PROVENANCE leaders)"),
            "3108351": ("WSJ", NEVER_PARTICIPATOR, "news outlet (PROVENANCE leaders)"),
            "1652541": ("Reuters", UNDETERMINED, "news outlet, one tweet in the sample"),
            "18424289": ("AJENews", UNDETERMINED, "news outlet, one tweet in the sample"),
            "25067168": ("euronews", UNDETERMINED, "news outlet, one tweet in the sample"),
            "7744592": ("TODAYshow", UNDETERMINED, "news outlet, one tweet in the sample"),
        },
    ),
    "bluesky": (
        "bluesky_nytimes_2026",
        ["p02_snowball_archive_posts.ndjson", "p01_nytimes_author_feed_posts.ndjson"],
        [],
        {
            "did:plc:eclio37ymobqex2ncko63h4r": (
                "@nytimes.com",
                NEVER_PARTICIPATOR,
                "news outlet (PROVENANCE: the collection's seed account)",
            ),
        },
    ),
    "stackexchange": (
        "stackexchange_history_meta",
        ["."],
        [],
        {
            "771": ("T.E.D.", NEVER_BROADCASTER, "moderator; 575 of 586 actions are replies"),
            "1401": ("Mark C. Wallace", NEVER_BROADCASTER, "moderator; 272 of 297 are replies"),
            "4935": ("Semaphore", NEVER_BROADCASTER, "moderator (post:3622); 217 of 226 replies"),
            "24858": ("sempaiscuba", NEVER_BROADCASTER, "moderator (post:3622); 134 of 141"),
            "85": ("Steven Drennon", NEVER_BROADCASTER, "pro-tem moderator (post:135); 118 of 120"),
            "690": ("Jon Ericson", NEVER_BROADCASTER, "community manager; 39 of 46 replies"),
        },
    ),
    "mbox": (
        "mailinglist_everything_list",
        ["everything-list-1998-1999.mbox"],
        [],
        {
            "weidai.domain.name.hidden": (
                "Wei Dai",
                NEVER_BROADCASTER,
                "list founder who answers threads (PROVENANCE); 129 of 153 messages are replies",
            ),
        },
    ),
}


def _run(name: str, tmp_path_factory, *, named: bool) -> pl.DataFrame:
    folder, files, extra, roles = ROLES[name]
    root = real_data_dir(folder)
    work = tmp_path_factory.mktemp(f"{name}-{'named' if named else 'top'}")
    args = ["profile", *[str(root / f) for f in files], "--no-report", "--out", str(work / "out")]
    if named:
        leaders = work / "leaders.txt"
        leaders.write_text("".join(f"{leader}\n" for leader in roles))
        args += ["--leaders", str(leaders)]
    else:
        args += ["--top-leaders", "20"]
    result = CliRunner().invoke(main, [*args, *extra])
    assert result.exit_code == 0, result.output
    return pl.read_csv(work / "out" / "profiles.csv", schema_overrides={"leader_id": pl.String})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, bool], pl.DataFrame]:
    return {
        (name, named): _run(name, tmp_path_factory, named=named)
        for name in ROLES
        for named in (True, False)
    }


def _check(label: str, expectation: str) -> bool:
    if expectation == NEVER_PARTICIPATOR:
        return label != "participator"
    if expectation == NEVER_BROADCASTER:
        return label != "broadcaster"
    return label == "undetermined"


@pytest.mark.real
@pytest.mark.parametrize("name", sorted(ROLES))
def test_known_roles_in_named_runs(runs, name):
    table = runs[(name, True)]
    labels = dict(table.select("leader_id", "profile").iter_rows())
    roles = ROLES[name][3]
    assert set(labels) == set(roles)
    wrong = {
        f"{who} ({leader}): {labels[leader]}, expected {expect} — {why}"
        for leader, (who, expect, why) in roles.items()
        if not _check(labels[leader], expect)
    }
    assert not wrong, wrong


@pytest.mark.real
@pytest.mark.parametrize("name", sorted(ROLES))
def test_known_roles_in_top_20_runs(runs, name):
    table = runs[(name, False)]
    assert 0 < table.height <= 20
    labels = dict(table.select("leader_id", "profile").iter_rows())
    roles = ROLES[name][3]
    wrong = {
        f"{who} ({leader}): {labels[leader]}, expected {expect} — {why}"
        for leader, (who, expect, why) in roles.items()
        if leader in labels and not _check(labels[leader], expect)
    }
    assert not wrong, wrong
    assert not table.filter(is_pseudo_account("leader_id")).height


@pytest.mark.real
def test_outlets_are_chosen_as_leaders_on_twitter(runs):
    chosen = set(runs[("twitter", False)]["leader_id"])
    assert {"5402612", "64643056", "428333"} <= chosen  # BBCBreaking, RT_com, cnnbrk


@pytest.mark.real
def test_no_pseudo_account_is_chosen_on_reddit(tmp_path):
    root = real_data_dir("reddit_cmv_branches_2017")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "profile",
            str(root / "branches"),
            "--top-leaders",
            "20",
            "--no-report",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "profiles.csv")
    assert "[deleted]" not in set(table["leader_id"])
    assert not table.filter(is_pseudo_account("leader_id")).height
