"""pyproject.toml, requirements.lock and environment.yml must describe one environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> set[str]:
    """Every package pyproject.toml names: the dependencies and the optional extras."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = data["project"].get("optional-dependencies", {}).values()
    return {_name(d) for d in data["project"]["dependencies"]} | {
        _name(d) for group in extras for d in group
    }


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_name(name)] = version
    return pins


def _pip_section() -> list[str]:
    data = yaml.safe_load((ROOT / "environment.yml").read_text())
    return next(d["pip"] for d in data["dependencies"] if isinstance(d, dict))


def _conda() -> dict[str, str]:
    """Package -> version: conda packages (``name=version``) and pip pins (``name==version``)."""
    data = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in data["dependencies"]:
        if isinstance(dep, str) and dep not in ("pip",) and not dep.startswith("python="):
            name, _, version = dep.partition("=")
            out[_name(name)] = version
    for dep in _pip_section()[:-1]:
        name, _, version = dep.partition("==")
        out[_name(name)] = version
    return out


def test_environment_yml_lists_the_pyproject_packages():
    assert set(_conda()) == _pyproject()


def test_environment_yml_pins_the_lock_versions():
    lock = _lock()
    assert {name: lock.get(name) for name in _conda()} == _conda()


def test_lock_pins_every_dependency_exactly():
    lock = _lock()
    assert _pyproject() <= set(lock)
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+]*", v) for v in lock.values())


def test_environment_yml_installs_the_package():
    data = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = _pip_section()
    assert pip[-1] == "-e ."
    assert all("==" in dep for dep in pip[:-1])  # pinned packages that conda-forge lacks
    assert "conda-forge" in data["channels"]
