"""Golden snapshots of whole generated repositories.

They make every change to users' YAML visible in review. Refresh them only on purpose:
    python -m pytest tests/test_golden.py --update-golden
Only rendered files are kept: a file copied verbatim from template/ (tools/, the folder READMEs,
...) is reviewed where it is written. The generated README, mostly prose, is kept for one
answer set only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.answer_sets import ANSWER_SETS
from tests.conftest import TEMPLATE_ROOT, render

GOLDEN = Path(__file__).parent / "golden"
SNAPSHOTS = ["defaults", "four-envs-registry", "all-off"]
README_SNAPSHOT = "defaults"
VERBATIM_SOURCE = TEMPLATE_ROOT / "template"
# Folders and files whose template name is a condition: where their verbatim files come from.
CONDITIONAL_FOLDERS = {
    ".github": "{% if ci_provider == 'github' %}.github{% endif %}",
    ".gitlab": "{% if ci_provider == 'gitlab' %}.gitlab{% endif %}",
    ".gitlab-ci.yml": "{% if ci_provider == 'gitlab' %}.gitlab-ci.yml{% endif %}",
}


def source_of(relative: Path) -> Path:
    first, *rest = relative.parts
    return VERBATIM_SOURCE / CONDITIONAL_FOLDERS.get(first, first) / Path(*rest)


def snapshotted(relative: Path, name: str) -> bool:
    if ".git" in relative.parts or source_of(relative).exists():
        return False  # not rendered: template/<relative> is copied as it is
    return relative.as_posix() != "README.md" or name == README_SNAPSHOT


def normalised_tree(root: Path, name: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or not snapshotted(relative, name):
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
    rendered = normalised_tree(render(tmp_path / "repo", ANSWER_SETS[name]), name)
    snapshot_dir = GOLDEN / name
    if request.config.getoption("--update-golden"):
        shutil.rmtree(snapshot_dir, ignore_errors=True)
        for relative, text in rendered.items():
            (snapshot_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (snapshot_dir / relative).write_text(text)
    expected = normalised_tree(snapshot_dir, name)
    assert sorted(rendered) == sorted(expected), "files differ: refresh with --update-golden if intended"
    for relative, text in rendered.items():
        assert text == expected[relative], f"{relative} differs: refresh with --update-golden if intended"
