"""A newcomer's first hour: the hints they follow work, and the tool says what they got wrong.

- every subcommand's --help describes it and shows it used;
- a missing dependency names a virtualenv install (Debian's Python refuses a bare pip install);
- validate warns, without failing, on a local branch Argo CD does not deploy, but not in CI;
- the message after the first copy, followed line by line, ends in a passing validate.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from gitopslib import cli

from tests.conftest import TEMPLATE_ROOT, run_gitops
from tests.template_versions import committed_render, git

SUBCOMMANDS = ["validate", "update", "promote", "release", "diff", "status"]
COPY = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated repository committed on `master`, as `git init` without -b leaves it."""
    return committed_render(tmp_path_factory.mktemp("newcomer") / "repo", branch="master")


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_help_has_a_description_and_examples(repo: Path, command: str) -> None:
    result = run_gitops(repo, command, "--help")
    assert result.returncode == 0, result.stderr
    usage, description = result.stdout.split("\n\n")[:2]
    assert usage.startswith(f"usage: tools/gitops {command}")
    assert len(description.split()) >= 8, f"{command}: no description: {description!r}"
    examples = result.stdout.split("examples:\n", 1)[1].splitlines()
    assert examples and all(line.startswith(f"  tools/gitops {command}") for line in examples)
    # Each example is accepted by the parser (its options exist and fit together).
    parser = cli._parser()
    for line in examples:
        words = shlex.split(line.split("#")[0].split(">")[0])[1:]
        assert parser.parse_args(words).command == command


def test_missing_dependency_hint_uses_a_virtualenv(repo: Path, tmp_path: Path) -> None:
    # An interpreter without PyYAML: the standard library only, from a fresh venv.
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    result = subprocess.run(
        [str(venv / "bin" / "python"), str(repo / "tools" / "gitops"), "validate"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("missing Python package yaml: python3 -m venv .venv && . .venv/bin/activate")
    assert line.endswith("python -m pip install -r tools/requirements.txt")


def test_validate_warns_on_a_branch_argo_cd_does_not_deploy(repo: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    result = run_gitops(repo, "validate", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "warning: on branch master, but Argo CD deploys branch main (target_revision in gitops.yaml)"
    )
    assert "warning" not in result.stdout

    in_ci = run_gitops(repo, "validate", env={**env, "CI": "true"})
    assert in_ci.returncode == 0 and "warning" not in in_ci.stderr


def test_validate_is_quiet_on_the_deployed_branch_and_when_detached(repo: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", "-b", "main")
    assert "warning" not in run_gitops(clone, "validate", env=env).stderr
    git(clone, "checkout", "-q", "--detach")
    assert "warning" not in run_gitops(clone, "validate", env=env).stderr


def test_the_next_steps_after_the_first_copy_work_as_printed(tmp_path: Path) -> None:
    """Run the printed steps in a shell, with an empty HOME and no git identity, as a newcomer
    would. Offline: the new venv sees this environment's packages through a .pth file, so pip
    finds every requirement already installed instead of downloading it."""
    destination = tmp_path / "repo"
    copy = subprocess.run(
        [*COPY, str(TEMPLATE_ROOT), str(destination)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Warning" not in copy.stderr.replace("DirtyLocalWarning", "")  # e.g. no MissingFileWarning
    steps = copy.stderr.split("Next steps:\n", 1)[1].split("\nThen", 1)[0].splitlines()
    commands = [line.split("#")[0].strip() for line in steps]
    assert commands[:2] == [f"cd {destination}", "git init -b main"]
    assert commands[-1] == "tools/gitops validate"
    site_packages = next(path for path in sys.path if path.endswith("site-packages"))
    see_ours = f"echo {shlex.quote(site_packages)} > $(echo .venv/lib/python3*/site-packages)/tests.pth"
    venv = "python3 -m venv .venv"
    script = "\n".join(command.replace(venv, f"{venv} && {see_ours}") for command in commands)
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(home)}
    env["PIP_NO_INDEX"] = "1"
    result = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(destination, "symbolic-ref", "--short", "HEAD").strip() == "main"
