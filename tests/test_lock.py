"""The lock files (.ci/lock) cover pyproject.toml's dependencies, agree with each other, and pin with hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def _pins(path: Path) -> dict[str, str]:
    return {_name(m.group(1)): m.group(2) for m in PIN.finditer(path.read_text())}


def test_lock_files_cover_pyproject_and_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, test = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-test.txt")
    missing_runtime = {_name(r) for r in project["dependencies"]} - runtime.keys()
    missing_test = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]} - test.keys()
    assert not missing_runtime and not missing_test, (
        f"pyproject.toml has dependencies the lock files lack ({sorted(missing_runtime | missing_test)}): "
        "regenerate them with `bash .ci/lock`")
    differ = {n: (v, test.get(n)) for n, v in runtime.items() if test.get(n) != v}
    assert not differ, f"requirements.txt and requirements-test.txt pin differently: {differ}; run `bash .ci/lock`"
    assert "standardwebhooks" not in runtime  # a test-only package


def test_every_pin_has_a_hash() -> None:
    for name in ("requirements.txt", "requirements-test.txt"):
        text = (ROOT / name).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
        unhashed = [b.split()[0] for b in blocks if PIN.match(b) and "--hash=sha256:" not in b]
        assert not unhashed, f"{name}: pins without hashes: {unhashed}"
