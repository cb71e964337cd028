"""Golden snapshots of whole generated repositories.

They make every change to users' YAML visible in review. Refresh them only on purpose:
    python -m pytest tests/test_golden.py --update-golden
tools/ is left out: it is copied verbatim from template/tools/, not rendered.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.answer_sets import ANSWER_SETS
from tests.conftest import render

GOLDEN = Path(__file__).parent / "golden"
SNAPSHOTS = ["defaults", "four-envs-registry", "all-off"]
NOT_SNAPSHOTTED = {"tools"}


def normalised_tree(root: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.parts[0] in NOT_SNAPSHOTTED or ".git" in relative.parts:
            continue
        text = path.read_text()
        if path.name.startswith(".copier-answers."):
            text = "\n".join(
                line for line in text.splitlines() if not line.startswith(("_commit:", "_src_path:"))
            )
        files[relative.as_posix()] = text
    return files


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_generated_repo_matches_snapshot(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    rendered = normalised_tree(render(tmp_path / "repo", ANSWER_SETS[name]))
    snapshot_dir = GOLDEN / name
    if request.config.getoption("--update-golden"):
        shutil.rmtree(snapshot_dir, ignore_errors=True)
        for relative, text in rendered.items():
            (snapshot_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (snapshot_dir / relative).write_text(text)
    expected = normalised_tree(snapshot_dir)
    assert sorted(rendered) == sorted(expected), "files differ: refresh with --update-golden if intended"
    for relative, text in rendered.items():
        assert text == expected[relative], f"{relative} differs: refresh with --update-golden if intended"
