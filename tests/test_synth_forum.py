from __future__ import annotations

import polars as pl
import pytest

from tribe_analysis.events import SCHEMA, derive_threads, validate_events
from tribe_analysis.synth_forum import BEHAVIOURS, PLATFORM_NAME, simulate_forum

DESIGNS = ("forum", "microblog")


@pytest.fixture(scope="module", params=DESIGNS)
def tribe(request):
    return simulate_forum(design=request.param, seed=7)


def leader_frame(tribe) -> pl.DataFrame:
    return tribe.truth.select(pl.col("leader_id").alias("actor_id"), "style", "mix")


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("design", DESIGNS)
def test_same_seed_same_frames(design):
    a = simulate_forum(n_leaders=30, days=20, seed=3, design=design)
    b = simulate_forum(n_leaders=30, days=20, seed=3, design=design)
    c = simulate_forum(n_leaders=30, days=20, seed=4, design=design)
    assert a.events.equals(b.events)
    assert a.truth.equals(b.truth)
    assert a.leaders == b.leaders
    assert not a.events.equals(c.events)


def test_schema_and_validation(tribe):
    ev = tribe.events
    assert ev.schema == SCHEMA
    assert validate_events(ev) == []
    assert 50_000 <= ev.height <= 300_000
    assert ev["event_id"].is_unique().all()
    assert ev.equals(ev.sort("timestamp", "event_id"))
    assert ev["platform"].unique().to_list() == [PLATFORM_NAME]
    assert ev["text"].null_count() == ev.height
    assert ev["mentions"].null_count() == 0
    assert set(ev["action"].unique().to_list()) == {"post", "reply", "share", "reaction"}
    assert (ev.filter(pl.col("action") == "post")["parent_id"].null_count()) == ev.filter(
        pl.col("action") == "post"
    ).height
    # thread_id and target_actor_id agree with the project's own derivation
    blank = ev.with_columns(
        pl.lit(None, dtype=pl.String).alias("thread_id"),
        pl.lit(None, dtype=pl.String).alias("target_actor_id"),
    )
    assert derive_threads(blank).equals(ev)
    assert tribe.leaders == tribe.truth["leader_id"].to_list()
    assert ev.filter(pl.col("actor_id").is_in(tribe.leaders))["actor_id"].n_unique() == len(
        tribe.leaders
    )


def test_every_parent_exists_and_precedes_its_child(tribe):
    ev = tribe.events
    parents = ev.select(
        pl.col("event_id").alias("parent_id"),
        pl.col("timestamp").alias("parent_ts"),
        pl.col("actor_id").alias("parent_actor"),
        pl.col("action").alias("parent_action"),
    )
    children = ev.filter(pl.col("parent_id").is_not_null())
    joined = children.join(parents, on="parent_id", how="left")
    assert joined["parent_ts"].null_count() == 0
    assert (joined["parent_ts"] < joined["timestamp"]).all()
    assert (joined["parent_actor"] == joined["target_actor_id"]).all()
    # reactions and shares are leaves: dropping them never orphans anything
    assert set(joined["parent_action"].unique().to_list()) <= {"post", "reply"}
    period = ev.select(pl.col("timestamp").max() - pl.col("timestamp").min()).item()
    assert period.days < 45


@pytest.mark.parametrize("design", DESIGNS)
def test_platform_variants_drop_the_signal(design):
    kw = dict(n_leaders=40, days=30, seed=5, design=design)
    full = simulate_forum(**kw).events
    assert full.filter(pl.col("action") == "reaction").height > 0
    assert full.filter(pl.col("action") == "share").height > 0
    assert (full["mentions"].list.len() > 0).sum() > 0

    no_react = simulate_forum(**kw, platform="no_reactions").events
    assert no_react.filter(pl.col("action") == "reaction").height == 0
    assert no_react.equals(full.filter(pl.col("action") != "reaction"))

    no_share = simulate_forum(**kw, platform="no_shares").events
    assert no_share.filter(pl.col("action") == "share").height == 0
    assert no_share.equals(full.filter(pl.col("action") != "share"))

    no_ment = simulate_forum(**kw, platform="no_mentions").events
    assert (no_ment["mentions"].list.len() == 0).all()
    assert no_ment.drop("mentions").equals(full.drop("mentions"))

    both = simulate_forum(**kw, platform=("no_reactions", "no_mentions"))
    assert both.platform == ("no_reactions", "no_mentions")
    assert both.events.filter(pl.col("action") == "reaction").height == 0
    assert (both.events["mentions"].list.len() == 0).all()
    for variant in (no_react, no_share, no_ment, both.events):
        assert validate_events(variant) == []


@pytest.mark.parametrize(
    "bad", [{"design": "usenet"}, {"platform": "no_replies"}, {"styles": "lurker"}]
)
def test_bad_arguments(bad):
    with pytest.raises(ValueError):
        simulate_forum(n_leaders=4, days=5, **bad)


# --------------------------------------------------------------------------- planted truth


@pytest.mark.parametrize("style", ["broadcaster", "participator"])
@pytest.mark.parametrize("design", DESIGNS)
def test_all_one_style_tribe(style, design):
    t = simulate_forum(n_leaders=30, days=20, seed=2, design=design, styles=style)
    assert t.truth["style"].unique().to_list() == [style]
    assert validate_events(t.events) == []


def test_default_tribe_is_half_each_and_mixed_within_range(tribe):
    truth = tribe.truth
    counts = dict(truth.group_by("style").len().iter_rows())
    assert counts == {"broadcaster": 65, "participator": 65}
    mixed = truth.filter(pl.col("mix") > 0)
    assert mixed.height == round(0.4 * truth.height)
    assert mixed["mix"].is_between(0.2, 0.45).all()
    for b in BEHAVIOURS:
        assert truth[f"p_{b}"].is_between(0.0, 1.0).all()
    t2 = simulate_forum(n_leaders=50, days=10, seed=1, mixed_share=0.5, mix_range=(0.3, 0.35))
    mixed2 = t2.truth.filter(pl.col("mix") > 0)
    assert mixed2.height == 25
    assert mixed2["mix"].is_between(0.3, 0.35).all()


def test_probabilities_follow_the_planted_styles(tribe):
    pure = (
        tribe.truth.filter(pl.col("mix") == 0)
        .group_by("style")
        .agg(pl.col(f"p_{b}").median() for b in BEHAVIOURS)
    )
    med = {row["style"]: row for row in pure.iter_rows(named=True)}
    for b in BEHAVIOURS:
        assert med["participator"][f"p_{b}"] > 3 * med["broadcaster"][f"p_{b}"]


@pytest.mark.parametrize("design", DESIGNS)
def test_activity_and_audience_heavy_tailed_and_style_free(design):
    kw = dict(n_leaders=130, days=45, seed=11, design=design)
    b = simulate_forum(**kw, styles="broadcaster")
    p = simulate_forum(**kw, styles="participator")
    # the world does not depend on the styles: same rates, audiences and posts per leader
    assert b.truth.select("posts_per_day", "audience").equals(
        p.truth.select("posts_per_day", "audience")
    )

    def posts(t):
        return (
            t.events.filter((pl.col("action") == "post") & pl.col("actor_id").is_in(t.leaders))
            .group_by("actor_id")
            .len()
            .sort("actor_id")
        )

    assert posts(b).equals(posts(p))
    n = posts(b)["len"]
    assert n.len() == 130 and n.min() >= 3
    assert ((n >= 3) & (n <= 15)).sum() >= 5
    assert n.max() >= 5 * n.median()
    aud = b.truth["audience"]
    assert aud.max() >= 5 * aud.median()


# --------------------------------------------------------------------------- behaviour in the events


def test_participators_engage_with_others(tribe):
    ev = tribe.events.join(leader_frame(tribe), on="actor_id")
    per = ev.group_by("actor_id", "style", "mix").agg(
        others=(
            pl.col("action").is_in(["reply", "reaction", "share"])
            & (pl.col("target_actor_id") != pl.col("actor_id"))
        ).mean(),
        shares=(
            (pl.col("action") == "share") & (pl.col("target_actor_id") != pl.col("actor_id"))
        ).sum(),
        mention=(pl.col("mentions").list.len() > 0).filter(pl.col("action") == "post").mean(),
    )
    med = {
        r["style"]: r
        for r in per.drop("actor_id", "mix").group_by("style").median().iter_rows(named=True)
    }
    assert med["participator"]["others"] > 0.5
    assert med["participator"]["others"] > 2 * med["broadcaster"]["others"]
    assert med["participator"]["mention"] > 3 * med["broadcaster"]["mention"]
    # shares of others' posts (rare in forums): compare leaders that are not mixed
    pure = per.filter(pl.col("mix") == 0)
    tot = dict(pure.group_by("style").agg(pl.col("shares").sum()).iter_rows())
    assert tot["participator"] > 3 * max(tot["broadcaster"], 1)


def test_participators_answer_comments_on_their_posts(tribe):
    ev = tribe.events
    comments = ev.filter(
        (pl.col("action") == "reply")
        & pl.col("target_actor_id").is_in(tribe.leaders)
        & (pl.col("actor_id") != pl.col("target_actor_id"))
    ).select("event_id", leader=pl.col("target_actor_id"))
    answers = (
        ev.filter(pl.col("action") == "reply")
        .select(event_id=pl.col("parent_id"), leader=pl.col("actor_id"))
        .unique()
        .with_columns(answered=pl.lit(True))
    )
    share = (
        comments.join(answers, on=["event_id", "leader"], how="left")
        .group_by("leader")
        .agg(pl.col("answered").fill_null(False).mean(), pl.len())
        .filter(pl.col("len") >= 5)
        .join(tribe.truth.select(leader=pl.col("leader_id"), style="style"), on="leader")
    )
    med = dict(share.group_by("style").agg(pl.col("answered").median()).iter_rows())
    assert med["participator"] > 0.3
    assert med["broadcaster"] < 0.15
    assert med["participator"] > 3 * med["broadcaster"]


def test_participators_start_conversations(tribe):
    ev = tribe.events
    roots = ev.filter(pl.col("action") == "post").select(thread_id="event_id", owner="actor_id")
    replies = ev.filter(pl.col("action") == "reply").join(roots, on="thread_id")
    threads = replies.group_by("thread_id", "owner").agg(
        members=pl.col("actor_id").filter(pl.col("actor_id") != pl.col("owner")).n_unique(),
        member_to_member=(
            (pl.col("actor_id") != pl.col("owner")) & (pl.col("target_actor_id") != pl.col("owner"))
        ).sum(),
        owner_in=(
            (pl.col("actor_id") == pl.col("owner")) & (pl.col("target_actor_id") != pl.col("owner"))
        ).any(),
    )
    conv = (
        roots.join(threads, on=["thread_id", "owner"], how="left")
        .with_columns(
            conversation=(
                (pl.col("members") >= 2) & (pl.col("member_to_member") >= 1) & pl.col("owner_in")
            ).fill_null(False)
        )
        .join(tribe.truth.select(owner="leader_id", style="style"), on="owner")
        .group_by("owner", "style")
        .agg(pl.col("conversation").mean())
    )
    med = dict(conv.group_by("style").agg(pl.col("conversation").median()).iter_rows())
    assert med["participator"] > 2 * med["broadcaster"]


def test_members_talk_to_members_and_some_self_replies(tribe):
    replies = tribe.events.filter(pl.col("action") == "reply")
    leaders = tribe.leaders
    member_to_member = replies.filter(
        ~pl.col("actor_id").is_in(leaders) & ~pl.col("target_actor_id").is_in(leaders)
    ).height
    self_replies = replies.filter(pl.col("actor_id") == pl.col("target_actor_id")).height
    assert member_to_member > 0.2 * replies.height
    assert 0 < self_replies < 0.1 * replies.height


def test_designs_differ_structurally():
    forum = simulate_forum(n_leaders=60, days=30, seed=9, design="forum").events
    micro = simulate_forum(n_leaders=60, days=30, seed=9, design="microblog").events

    def share_of(ev, action):
        return ev.filter(pl.col("action") == action).height / ev.height

    assert share_of(forum, "share") < 0.02
    assert share_of(micro, "share") > 0.05
    assert share_of(micro, "reaction") > share_of(micro, "reply")
    mentioned = [(ev["mentions"].list.len() > 0).mean() for ev in (forum, micro)]
    assert mentioned[1] > 2 * mentioned[0]


def test_evidence_tallies_each_behaviour(tribe):
    """``evidence``: takes within opportunities, and their rate follows the planted probability."""
    from scipy.stats import spearmanr

    ev = tribe.evidence
    assert ev["leader_id"].to_list() == tribe.leaders
    assert ev.columns[1:] == [f"{c}_{b}" for b in BEHAVIOURS for c in ("n", "k")]
    for b in BEHAVIOURS:
        assert ev[f"n_{b}"].dtype == ev[f"k_{b}"].dtype == pl.Int64
        assert (ev[f"k_{b}"] <= ev[f"n_{b}"]).all() and (ev[f"k_{b}"] >= 0).all()
    posts = tribe.events.filter(pl.col("action") == "post").group_by("actor_id").len()
    roots = ev.join(posts, left_on="leader_id", right_on="actor_id", how="left")
    assert (roots["n_mention"] >= roots["len"].fill_null(0)).all()  # later posts are dropped
    both = ev.join(tribe.truth, on="leader_id")
    for b in ("see", "comment", "answer", "mention"):
        seen = both.filter(pl.col(f"n_{b}") >= 30)
        rho = spearmanr(seen[f"k_{b}"] / seen[f"n_{b}"], seen[f"p_{b}"])[0]
        assert seen.height >= 20 and rho > 0.6, (b, seen.height, rho)


def test_evidence_does_not_depend_on_the_platform():
    full = simulate_forum(n_leaders=20, days=15, seed=2)
    hidden = simulate_forum(n_leaders=20, days=15, seed=2, platform="no_reactions")
    assert full.evidence.equals(hidden.evidence)
