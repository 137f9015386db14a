"""ruff is part of the suite, so `main` stays lint-clean."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    result = subprocess.run([ruff, "check", "moderation", "classifier", "tests", "bench"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_kept() -> None:
    """The layering of README "Design" as import-linter contracts ([tool.importlinter] in pyproject.toml):
    classifier/ knows nothing of the service, capabilities sit on core and not on each other, handlers on
    domain modules and never back, no cycles."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), "import-linter is missing: pip install -e '.[test]'"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_over_500_lines() -> None:
    """Small modules with one job (GUIDE: ~400 lines, hard limit 500)."""
    long = {str(f.relative_to(ROOT)): n for f in (*ROOT.glob("moderation/**/*.py"), *ROOT.glob("classifier/**/*.py"))
            if (n := len(f.read_text().splitlines())) > 500}
    assert long == {}, long
