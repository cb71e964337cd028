"""The update scenario suite's common ground: two apps, a template to release, both updaters.

Every scenario starts from the same state: a throwaway copy of this template released as
v1.0.0, and a repository with two apps onboarded from it, each with its own release in dev.
Building that takes seconds, so a module builds it once and each test restores a copy: the
template at the same path (the answers files record it as `_src_path`), the repository in the
test's own folder.

The two updaters:
- `tools`: the generated repo's `tools/gitops update`, one run for every app;
- `copier`: Renovate's copier manager, exactly (`copier update --skip-answered --defaults
  --trust --answers-file F --vcs-ref TAG`), one run per answers file, committing whatever it
  leaves as Renovate does (markers included: the pull request's validate has to catch them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BASE_TEMPLATE_DIR, run_copier_in_process, run_gitops
from tests.template_versions import TemplateRepo, commit_all, edit, git
from tests.test_gitops_update import APPS, two_app_repo

UPDATERS = ("tools", "copier")
DEPLOYMENT_TEMPLATE = f"{BASE_TEMPLATE_DIR}/deployment.yaml.jinja"
SERVICE_TEMPLATE = f"{BASE_TEMPLATE_DIR}/service.yaml.jinja"
BASE_KUSTOMIZATION_TEMPLATE = f"{BASE_TEMPLATE_DIR}/kustomization.yaml.jinja"


def deployment(app: str) -> str:
    return f"applications/base/{app}/deployment.yaml"


def base_file(app: str, name: str) -> str:
    return f"applications/base/{app}/{name}"


@dataclass
class Scenario:
    template: TemplateRepo
    repo: Path

    def edit(self, relative: str, old: str, new: str) -> None:
        """A user's edit in the repository (not committed)."""
        edit(self.repo, relative, old, new)

    def text(self, relative: str) -> str:
        return (self.repo / relative).read_text()

    def validate(self) -> subprocess.CompletedProcess[str]:
        return run_gitops(self.repo, "validate")

    def status(self) -> str:
        return git(self.repo, "status", "--porcelain")

    def head(self) -> str:
        return git(self.repo, "rev-parse", "HEAD").strip()


def build_pristine(root: Path) -> None:
    """`root/pristine-template` and `root/pristine-repo`, restored by `restore`."""
    template = TemplateRepo.from_work_tree(root / "template")
    repo = two_app_repo(template, root / "pristine-repo")
    # Validated once, as a team's repository is: the copies start with its secret-scan cache.
    validated = run_gitops(repo, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    template.path.rename(root / "pristine-template")


def restore(root: Path, destination: Path) -> Scenario:
    template = root / "template"
    if template.exists():
        shutil.rmtree(template)
    shutil.copytree(root / "pristine-template", template, symlinks=True)
    repo = shutil.copytree(root / "pristine-repo", destination / "repo", symlinks=True)
    return Scenario(TemplateRepo(template), Path(repo))


COPIER_COMMAND = [sys.executable, "-m", "copier"]


def renovate_arguments(app: str, vcs_ref: str, data: dict[str, str] | None = None) -> list[str]:
    """Renovate's copier manager command line after `copier`, exactly, plus any `--data` a user
    would add."""
    arguments = ["update", "--skip-answered", "--defaults", "--trust",
                 "--answers-file", f".copier-answers.{app}.yml", "--vcs-ref", vcs_ref]  # fmt: skip
    for key, value in (data or {}).items():
        arguments += ["--data", f"{key}={value}"]
    return arguments


def tools_arguments(vcs_ref: str, data: dict[str, str] | None, jobs: str | None) -> list[str]:
    arguments = ["update", "--vcs-ref", vcs_ref]
    for key, value in (data or {}).items():
        arguments += ["--data", f"{key}={value}"]
    return arguments + (["--jobs", jobs] if jobs else [])


def run(
    command: list[str], repo: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """In its own session, so that a test can kill the whole run (process group) and only it."""
    environment = {**os.environ, **(env or {})}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    return subprocess.run(
        command, cwd=repo, capture_output=True, text=True, env=environment, start_new_session=True
    )


def update(
    scenario: Scenario,
    updater: str,
    vcs_ref: str,
    data: dict[str, str] | None = None,
    *,
    commit: bool = True,
    jobs: str | None = None,
    env: dict[str, str] | None = None,
) -> list[subprocess.CompletedProcess[str]]:
    """Every app with `updater`; the copier updater commits after each app unless told not to."""
    if updater == "tools":
        if env is None:  # conftest.run_gitops: in this process when the repo's tools/ is this template's
            return [run_gitops(scenario.repo, *tools_arguments(vcs_ref, data, jobs))]
        command = [sys.executable, str(scenario.repo / "tools/gitops"), *tools_arguments(vcs_ref, data, jobs)]
        return [run(command, scenario.repo, env)]
    results = []
    for app in APPS:
        arguments = renovate_arguments(app, vcs_ref, data)
        if env is None:  # Copier's own command line, in this process (conftest.run_copier_in_process)
            results.append(run_copier_in_process(scenario.repo, *arguments))
        else:
            results.append(run([*COPIER_COMMAND, *arguments], scenario.repo, env))
        if commit and scenario.status():
            commit_all(scenario.repo, f"Update {app} to {vcs_ref}")
    return results


def output(results: list[subprocess.CompletedProcess[str]]) -> str:
    return "".join(result.stdout + result.stderr for result in results)


def assert_succeeded(results: list[subprocess.CompletedProcess[str]]) -> None:
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr


def assert_no_traceback(results: list[subprocess.CompletedProcess[str]]) -> None:
    assert "Traceback" not in output(results), output(results)


def answered_version(repo: Path, app: str) -> str:
    for line in (repo / f".copier-answers.{app}.yml").read_text().splitlines():
        if line.startswith("_commit: "):
            return line.removeprefix("_commit: ")
    raise AssertionError(f"no _commit in the answers of {app}")


# Fixtures for every scenario module (the root conftest loads this module as a plugin).
@pytest.fixture(scope="module")
def scenario_pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per module: restoring it is much cheaper than onboarding two apps."""
    root = tmp_path_factory.mktemp("scenarios")
    build_pristine(root)
    return root


@pytest.fixture
def scenario(scenario_pristine: Path, tmp_path: Path) -> Scenario:
    return restore(scenario_pristine, tmp_path)
