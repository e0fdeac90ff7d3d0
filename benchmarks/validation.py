"""Leader labels against planted styles over many simulated tribes.

Simulates tribes with planted leader styles with both simulators (design ``synth``:
:func:`tribe_analysis.synth.simulate_tribe`; designs ``forum`` and ``microblog``:
:func:`tribe_analysis.synth_forum.simulate_forum` on four platform variants), labels
every leader with the fixed constants of :mod:`tribe_analysis.profiles`, and reports
calibration, accuracy, ordering, tribes of one style, the spread by number of
observed parts (where ``FEW_PARTS_SPREAD`` comes from, with held-out checks) and, for
information only, held-out maximum-likelihood fits of the threshold and spread. Writes
``docs/validation_synthetic.md`` (a generated fragment) and prints the same text.

Run: ``.venv/bin/python benchmarks/validation.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine  # noqa: E402

from tribe_analysis import profiles  # noqa: E402
from tribe_analysis.participation import MIN_AUTHORED  # noqa: E402
from tribe_analysis.synth_forum import PLATFORMS  # noqa: E402
from tribe_analysis.validation import (  # noqa: E402
    DESIGNS,
    decision_table,
    expected_calibration_error,
    fit_spread,
    fit_threshold,
    planted_leaders,
    relabel,
    reliability_table,
    style_gap,
)

OUT = Path(__file__).resolve().parents[1] / "docs" / "validation_synthetic.md"
SYNTH_SEEDS = range(8)
FORUM_SEEDS = range(4)
ONE_STYLE_SEEDS = range(2)
STYLES = ("broadcaster", "participator")


def simulate() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The mixed tribes (every design and platform) and the tribes of one style."""
    mixed = [planted_leaders("synth", SYNTH_SEEDS)]
    for design in DESIGNS[1:]:
        for platform in PLATFORMS:
            mixed.append(planted_leaders(design, FORUM_SEEDS, platform=platform))
    one = []
    for design in DESIGNS:
        for style in STYLES:
            for pure in (False, True):
                kwargs = {"mixed_share": 0} if pure else {}
                styles = [style] * 40 if design == "synth" else style
                frame = planted_leaders(design, ONE_STYLE_SEEDS, styles=styles, **kwargs)
                one.append(
                    frame.with_columns(
                        pl.lit(style).alias("tribe"),
                        pl.lit("pure" if pure else "default").alias("leaders"),
                    )
                )
    return pl.concat(mixed), pl.concat(one)


def markdown(frame: pl.DataFrame, digits: int = 3) -> str:
    """A Markdown table of ``frame`` (floats rounded, nulls as a dash)."""

    def cell(value: object) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return str(value)

    lines = [
        "| " + " | ".join(frame.columns) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def reliability_section(mixed: pl.DataFrame) -> list[str]:
    out = ["## Reliability of the stated probability", ""]
    out.append(
        "Leaders with a `p_participator` (an index on at least two parts and at least "
        f"{MIN_AUTHORED} authored actions), in ten equal-width bins of the stated "
        "probability; `observed` is the share of planted participators in the bin. "
        "Pooled over every design and platform, then per design (all its platforms)."
    )
    for name, part in [("all designs", mixed)] + [
        (d, mixed.filter(pl.col("design") == d)) for d in DESIGNS
    ]:
        table = reliability_table(part).select(
            pl.format("{}–{}", pl.col("bin_low").round(1), pl.col("bin_high").round(1)).alias(
                "stated bin"
            ),
            "n",
            "stated",
            "observed",
            "gap",
        )
        ece = expected_calibration_error(part)
        out += ["", f"**{name}** (ECE {ece:.3f})", "", markdown(table)]
    return out


def ece_section(mixed: pl.DataFrame) -> list[str]:
    rows = [("all", expected_calibration_error(mixed))]
    rows += [(d, expected_calibration_error(mixed.filter(pl.col("design") == d))) for d in DESIGNS]
    full = mixed.filter(pl.col("platform") == "full")
    table = pl.DataFrame(rows, schema=["design", "ECE (all platforms)"], orient="row").join(
        pl.DataFrame(
            [("all", expected_calibration_error(full))]
            + [
                (d, expected_calibration_error(full.filter(pl.col("design") == d))) for d in DESIGNS
            ],
            schema=["design", "ECE (full platform)"],
            orient="row",
        ),
        on="design",
    )
    return [
        "## Expected calibration error",
        "",
        "Weighted mean of |stated − observed| over the ten bins.",
        "",
        markdown(table),
    ]


def decision_section(mixed: pl.DataFrame) -> list[str]:
    table = pl.concat(
        [
            decision_table(mixed, by=["design", "platform"]),
            decision_table(mixed, by=["design"]).with_columns(pl.lit("(all)").alias("platform")),
        ],
        how="diagonal",
    ).sort("design", "platform")
    table = table.select(
        "design",
        "platform",
        "leaders",
        pl.col("decided_share").alias("decided share"),
        "accuracy",
        "wrong",
        pl.col("wrong_confident").alias("wrong ≥ 0.95"),
        "ece",
    )
    return [
        "## Decisions per design and platform",
        "",
        "`decided share`: leaders labelled participator or broadcaster, of all leaders; "
        "`accuracy`: decided labels equal to the planted (primary) style; `wrong ≥ 0.95`: "
        "wrong labels stated with probability at least 0.95.",
        "",
        markdown(table),
    ]


def ordering_section(mixed: pl.DataFrame) -> list[str]:
    def summary(frame: pl.DataFrame, leaders: str) -> pl.DataFrame:
        return (
            style_gap(frame)
            .group_by("design", "platform")
            .agg(
                pl.len().alias("runs"),
                (pl.col("gap") > 0).sum().cast(pl.Int64).alias("runs separated"),
                pl.col("gap").min().alias("smallest gap"),
                pl.col("ordered_share").min().alias("lowest ordered share"),
                pl.col("ordered_share").mean().alias("mean ordered share"),
            )
            .with_columns(pl.lit(leaders).alias("leaders"))
        )

    table = (
        pl.concat([summary(mixed, "all"), summary(mixed.filter(pl.col("mix") == 0), "pure")])
        .sort("design", "platform", "leaders")
        .select(
            "design",
            "platform",
            "leaders",
            "runs",
            "runs separated",
            "smallest gap",
            "lowest ordered share",
            "mean ordered share",
        )
    )
    return [
        "## Does every planted participator score above every planted broadcaster?",
        "",
        "Per run: `gap` = lowest planted participator's index − highest planted "
        "broadcaster's (positive: fully separated); `ordered share` = share of "
        "(participator, broadcaster) pairs in that order (the index's AUC). `pure`: "
        "leaders with `mix = 0` only.",
        "",
        markdown(table),
    ]


def one_style_section(one: pl.DataFrame) -> list[str]:
    other = {"broadcaster": "participator", "participator": "broadcaster"}
    decided = pl.col("profile") != profiles.PROFILES[2]
    table = (
        one.group_by("design", "tribe", "leaders")
        .agg(
            pl.len().alias("n"),
            decided.mean().alias("decided share"),
            (pl.col("profile") == pl.col("tribe")).filter(decided).mean().alias("own label"),
            (pl.col("profile") == pl.col("tribe").replace_strict(other))
            .sum()
            .cast(pl.Int64)
            .alias("opposite label"),
        )
        .sort("design", "tribe", "leaders")
        .rename({"tribe": "every leader", "leaders": "mixed leaders"})
        .with_columns(
            pl.col("mixed leaders").replace_strict(
                {"default": "simulator default", "pure": "none (mixed_share=0)"}
            )
        )
    )
    return [
        "## Tribes of one style",
        "",
        f"Every leader planted with one style, seeds {list(ONE_STYLE_SEEDS)} pooled. "
        "`own label`: share of the decided leaders given the planted style; `opposite "
        "label`: leaders given the other style. The simulators' defaults make 30% "
        "(synth) or 40% (forum, microblog) of the leaders mixed: they borrow 20–45% of "
        "their behaviour from the other style but keep their primary style as truth.",
        "",
        markdown(table),
    ]


def _summary(frame: pl.DataFrame, *keys: str) -> tuple:
    """The ``keys`` of :func:`decision_table` over every leader of ``frame``, in order."""
    row = decision_table(frame, by=()).row(0, named=True)
    return tuple(row[key] for key in keys)


def spread_section(mixed: pl.DataFrame) -> list[str]:
    """The spread by number of observed parts, and held-out checks of the few-parts spread."""
    fits = []
    for name, frame in [("all three", mixed)] + [
        (d, mixed.filter(pl.col("design") == d)) for d in DESIGNS
    ]:
        for parts in (3, 4, 5):
            if frame.filter(pl.col("parts_observed") == parts).height >= 20:
                fit = fit_spread(frame, parts)
                fits.append((name, parts, fit["n"], fit["spread"]))
    fits_table = pl.DataFrame(
        fits, schema=["fitted on", "parts observed", "leaders", "spread"], orient="row"
    )
    few = pl.col("parts_observed") == 3
    rows = []
    for design in DESIGNS[1:]:
        train = mixed.filter(pl.col("design") != design)
        test = mixed.filter(pl.col("design") == design)
        held = fit_spread(train, 3)["spread"]
        for name, tau3 in [
            (f"one spread ({profiles.STYLE_SPREAD})", profiles.STYLE_SPREAD),
            (f"package ({profiles.FEW_PARTS_SPREAD})", profiles.FEW_PARTS_SPREAD),
            (f"held-out fit ({held:.3f})", held),
        ]:
            labelled = relabel(test, few_parts_spread=tau3)
            every = _summary(labelled, "decided_share", "accuracy", "wrong_confident", "ece")
            three = _summary(
                labelled.filter(few),
                "leaders",
                "decided_share",
                "accuracy",
                "wrong_confident",
                "ece",
            )
            rows.append((design, name, *every, *three))
    table = pl.DataFrame(
        rows,
        schema=[
            "evaluated on",
            "spread on 3 parts",
            "decided share",
            "accuracy",
            "wrong ≥ 0.95",
            "ECE",
            "leaders on 3 parts",
            "their decided share",
            "their accuracy",
            "their wrong ≥ 0.95",
            "their ECE",
        ],
        orient="row",
    )
    return [
        "## Spread by the number of observed parts",
        "",
        "Maximum-likelihood spread τ of the probit with the threshold held at "
        f"{profiles.PARTICIPATOR_THRESHOLD}, over the leaders whose index rests on 3, 4 or 5 "
        "parts (`validation.fit_spread`; groups of at least 20 leaders). An index on fewer "
        "parts varies more among leaders of one style; the package uses "
        f"τ = {profiles.FEW_PARTS_SPREAD} on {3} parts (the fit on all three designs) and "
        f"τ = {profiles.STYLE_SPREAD} on more.",
        "",
        markdown(fits_table),
        "",
        "Decisions on each independent design (all its platforms) with one spread for "
        "every leader, with the package's spreads, and with the 3-part spread fitted on the "
        "two other designs:",
        "",
        markdown(table),
    ]


def held_out_section(mixed: pl.DataFrame) -> list[str]:
    rows = []
    for design in DESIGNS:
        train = mixed.filter(pl.col("design") != design)
        test = mixed.filter(pl.col("design") == design)
        fit = fit_threshold(train)
        for name, t, tau in [
            ("fixed", profiles.PARTICIPATOR_THRESHOLD, profiles.STYLE_SPREAD),
            ("held-out fit", fit["threshold"], fit["spread"]),
        ]:
            labelled = relabel(test, threshold=t, spread=tau)
            summary = _summary(labelled, "ece", "decided_share", "accuracy", "wrong_confident")
            rows.append((design, name, t, tau, *summary))
    table = pl.DataFrame(
        rows,
        schema=[
            "evaluated on",
            "constants",
            "threshold",
            "spread",
            "ECE",
            "decided share",
            "accuracy",
            "wrong ≥ 0.95",
        ],
        orient="row",
    )
    fits = [("all three", fit_threshold(mixed))]
    fits += [(d, fit_threshold(mixed.filter(pl.col("design") == d))) for d in DESIGNS]
    fits_table = pl.DataFrame(
        [(name, f["n"], f["threshold"], f["spread"], f["log_likelihood"]) for name, f in fits],
        schema=["fitted on", "leaders", "threshold", "spread", "log-likelihood"],
        orient="row",
    )
    return [
        "## Held-out fits (for information; the constants stay fixed)",
        "",
        "Maximum likelihood of the probit p = Φ((index − t) / √(se² + τ²)) on the planted "
        "styles (scipy Nelder–Mead, τ on the log scale), fitted on the two other designs "
        "(all their platforms) and evaluated on the third; `fixed` rows use the "
        f"package's constants (t = {profiles.PARTICIPATOR_THRESHOLD}, "
        f"τ = {profiles.STYLE_SPREAD}). Leaders on 3 parts keep "
        f"τ = {profiles.FEW_PARTS_SPREAD} in every fit.",
        "",
        markdown(table),
        "",
        "Fits on every design together and on each design alone:",
        "",
        markdown(fits_table),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="Markdown file to write")
    args = parser.parse_args()
    start = time.perf_counter()
    mixed, one = simulate()
    simulated = time.perf_counter() - start
    lines = [
        "<!-- Generated by benchmarks/validation.py; do not edit by hand. -->",
        "",
        "# Leader labels on planted styles (synthetic validation)",
        "",
        f"Constants: threshold {profiles.PARTICIPATOR_THRESHOLD}, spread "
        f"{profiles.STYLE_SPREAD} ({profiles.FEW_PARTS_SPREAD} on 3 parts), confidence "
        f"{profiles.CONFIDENCE}, at least "
        f"{MIN_AUTHORED} authored actions. Tribes with half of each style: `synth` "
        f"(`simulate_tribe`, 40 leaders, 60 days, 30% mixed) seeds {list(SYNTH_SEEDS)}; "
        "`forum` and `microblog` (`simulate_forum`, 130 leaders, 45 days, 40% mixed) "
        f"seeds {list(FORUM_SEEDS)} on each platform variant ({', '.join(PLATFORMS)}; the "
        "hidden signals are also given as platform facts to `leader_measures`). "
        f"{mixed.height:,} leaders in all; measures with `ego=False`.",
        "",
        *reliability_section(mixed),
        "",
        *ece_section(mixed),
        "",
        *decision_section(mixed),
        "",
        *ordering_section(mixed),
        "",
        *one_style_section(one),
        "",
        *spread_section(mixed),
        "",
        *held_out_section(mixed),
        "",
        f"Simulation and measures {simulated:.0f} s, everything "
        f"{time.perf_counter() - start:.0f} s on {machine()}.",
        "",
    ]
    text = "\n".join(lines)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
