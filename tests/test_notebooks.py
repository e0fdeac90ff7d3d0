"""The notebooks are committed executed, so that nbval compares every output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_suite_is_there():
    assert [p.stem for p in NOTEBOOKS] == [
        "01-quickstart",
        "02-explore-your-data",
        "03-compare-leaders",
        "04-workshop-charts",
        "05-style-over-time",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executed_top_to_bottom_in_one_kernel(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for out in cell["outputs"]:
            assert out["output_type"] != "error", cell["source"]
            assert out.get("name") != "stderr", f"{path.name}: stderr output {out.get('text')}"
    assert "charts.setup_notebook()" in "".join(
        code[0]["source"]
    ) or "charts.setup_notebook()" in "".join(code[1]["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_charts_are_checked_not_ignored(path):
    nb = json.loads(path.read_text())
    charts = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        assert "NBVAL_IGNORE_OUTPUT" not in source and "NBVAL_SKIP" not in source
        for out in cell["outputs"]:
            html = "".join(out.get("data", {}).get("text/html", []))
            if "vega-embed" in html:
                charts += 1
                assert "altair-viz-" in html
    assert charts >= 1


def test_a_changed_chart_number_fails_nbval(tmp_path):
    """Edit one value inside a stored chart spec: nbval must report the cell as failing."""
    import re
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    notebook = tmp_path / "notebooks" / "01-quickstart.ipynb"
    notebook.parent.mkdir()
    shutil.copytree(root / "data", tmp_path / "data")
    nb = json.loads((root / "notebooks" / "01-quickstart.ipynb").read_text())
    changed = False
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            html = "".join(out.get("data", {}).get("text/html", []))
            if "vega-embed" in html and not changed:
                edited = re.sub(
                    r'"participation_index": 0\.(\d)',
                    lambda m: f'"participation_index": 0.{(int(m.group(1)) + 1) % 10}',
                    html,
                    count=1,
                )
                assert edited != html
                out["data"]["text/html"] = edited
                changed = True
    notebook.write_text(json.dumps(nb))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            f"--nbval-sanitize-with={root / 'nbval_sanitize.cfg'}",
            "--rootdir",
            str(tmp_path),
            "-c",
            "/dev/null",
            str(notebook),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 1, run.stdout[-2000:]
    assert run.stdout.splitlines()[-1].startswith("1 failed, 4 passed")  # only the chart cell
