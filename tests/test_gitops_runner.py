"""run_gitops runs some commands in the test process: there it must say what the real process says.

conftest.run_gitops takes the in-process route only when the repository's tools/ is this
template's tools/ byte for byte; these tests hold the two routes to the same exit code and the
same output, on a repository that passes, on one with problems and on an update of two apps in
worker processes, and show that a changed tools/ file sends the run to a real process.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import (
    run_copier_in_process,
    run_gitops,
    run_gitops_in_process,
    run_gitops_process,
    tools_are_this_templates,
)
from tests.template_versions import committed_render, tree_state
from tests.update_scenarios import COPIER_COMMAND, DEPLOYMENT_TEMPLATE, renovate_arguments, restore, run


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return committed_render(tmp_path_factory.mktemp("runner") / "repo")


def same_outcome(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    process, in_process = run_gitops_process(repo, *args), run_gitops_in_process(repo, *args)
    assert (in_process.returncode, in_process.stdout, in_process.stderr) == (
        process.returncode,
        process.stdout,
        process.stderr,
    )
    return process


def test_both_routes_agree_on_a_repository_that_passes(repo: Path) -> None:
    assert tools_are_this_templates(repo)
    assert same_outcome(repo, "validate").returncode == 0
    assert same_outcome(repo, "status").returncode == 0
    assert same_outcome(repo, "promote", "--from", "nowhere").returncode == 2
    assert same_outcome(repo, "update", "--app", "nowhere").returncode == 2


def test_both_routes_agree_on_an_update(scenario_pristine: Path, tmp_path: Path) -> None:
    """Two apps, each in a worker process of its own (--jobs 2): the same output (but for the
    commits' hashes, which hold their time) and the same tree."""
    by_process = restore(scenario_pristine, tmp_path / "process").repo
    by_this_process = restore(scenario_pristine, tmp_path / "in-process").repo
    arguments = ("update", "--jobs", "2", "--data", "argocd_version=v3.6.3")
    process = run_gitops_process(by_process, *arguments)
    in_process = run_gitops_in_process(by_this_process, *arguments)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "[2/2] shop: updated to v1.0.0" in process.stdout
    assert (in_process.returncode, without_hashes(in_process.stdout), in_process.stderr) == (
        process.returncode,
        without_hashes(process.stdout),
        process.stderr,
    )
    assert tree_state(by_this_process) == tree_state(by_process)


def without_hashes(text: str) -> str:
    return re.sub(r"\(commit [0-9a-f]{7}\)", "(commit ...)", text)


def test_both_routes_agree_on_problems(repo: Path) -> None:
    overlay = repo / "environments" / "dev" / "myapp" / "kustomization.yaml"
    original = overlay.read_text()
    try:
        overlay.write_text(original.replace('namespace: "myapp-dev"', 'namespace: "Not_A_Namespace"'))
        result = same_outcome(repo, "validate")
        assert result.returncode == 1 and "Not_A_Namespace" in result.stdout + result.stderr
    finally:
        overlay.write_text(original)


def test_a_changed_tools_file_runs_the_real_process(repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    subprocess.run(["cp", "-a", str(repo), str(copy)], check=True)
    schema = next((copy / "tools" / "schemas").glob("*/*.json"))
    schema.write_text("not JSON")
    assert not tools_are_this_templates(copy)
    result = run_gitops(copy, "validate")
    # Only the copy's own tools/ reads its broken schema: the in-process route would not see it.
    assert result.returncode == 1 and schema.relative_to(copy).as_posix() in result.stdout + result.stderr


def test_copiers_command_line_gives_the_same_in_this_process(scenario_pristine: Path, tmp_path: Path) -> None:
    """Renovate's `copier update` of one app to a new release, and a refused `copier copy`: the
    same exit code, output and tree from Copier's command line in this process as from
    `python -m copier`."""
    by_process = restore(scenario_pristine, tmp_path / "process")
    by_this_process = restore(scenario_pristine, tmp_path / "in-process")
    template = by_this_process.template  # one template, at the path both repositories record
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 7")
    template.release("v1.1.0")
    update = renovate_arguments("shop", "v1.1.0")
    refused = ["copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", "--data", "app_name=shop"]
    for arguments in (update, [*refused, str(template.path), "."]):
        process = run([*COPIER_COMMAND, *arguments], by_process.repo)
        in_process = run_copier_in_process(by_this_process.repo, *arguments)
        assert (in_process.returncode, in_process.stdout, comparable(in_process.stderr)) == (
            process.returncode,
            process.stdout,
            comparable(process.stderr.replace(str(by_process.repo), str(by_this_process.repo))),
        )
        assert tree_state(by_this_process.repo) == tree_state(by_process.repo)
    assert process.returncode == 1 and "an app called 'shop' already exists" in process.stderr
    assert "revisionHistoryLimit: 7" in by_process.text("applications/base/shop/deployment.yaml")


def comparable(stderr: str) -> str:
    """Copier's temporary clone of the template has a random name in each run, and a traceback
    lists the frames that led to the call (runpy's in a process): its last line is compared."""
    stderr = re.sub(r"copier\._vcs\.clone\.\w+", "copier._vcs.clone.<random>", stderr)
    if stderr.startswith("Traceback (most recent call last):"):
        return "Traceback ...\n" + stderr.rstrip("\n").splitlines()[-1]
    return stderr
