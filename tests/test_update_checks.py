"""The validation of one app's update reads that app's files only, and still sees what it must.

An update of N apps validates each app once: reading every app's files each time made the run
quadratic in apps. These tests hold the narrowed reading to two things: no other app's file is
opened, and the lookups that may lead outside the app's folders (an AppProject defined elsewhere,
an Application pointing at another app's overlay) still find what the whole repository holds.
"""

from __future__ import annotations

import builtins
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitopslib.update_checks import app_problems

from tests.conftest import render
from tests.template_versions import commit_all, git

APP, OTHER = "cart", "shop"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("two-apps") / "repo"
    for app in (OTHER, APP):
        render(repo, {"app_name": app})
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Two apps")
    return repo


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "repo", symlinks=True))


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def argocd_documents(repo: Path, app: str, env: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((repo / f"argocd/apps/{app}/{env}.yaml").read_text()))


def write_documents(path: Path, documents: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Every file Python opens while the test runs (kubectl's reads are its own, out of sight)."""
    paths: list[Path] = []
    original = io.open

    def recording_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, Path)):
            paths.append(Path(file).resolve())
        return original(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", recording_open)
    monkeypatch.setattr(builtins, "open", recording_open)
    yield paths


def test_reads_no_file_of_another_app(repo: Path, opened: list[Path]) -> None:
    # Every overlay of the app built: a change to its base since the commit named.
    deployment = repo / f"applications/base/{APP}/deployment.yaml"
    deployment.write_text(
        deployment.read_text().replace("revisionHistoryLimit: 5", "revisionHistoryLimit: 6")
    )
    assert app_problems(repo, APP, head(repo)) == []
    inside = [
        path.relative_to(repo.resolve()).as_posix() for path in opened if repo.resolve() in path.parents
    ]
    assert f"argocd/apps/{APP}/dev.yaml" in inside and f"environments/dev/{APP}/kustomization.yaml" in inside
    others = [path for path in inside if OTHER in path.split("/") or path == f".copier-answers.{OTHER}.yml"]
    assert others == []


def test_a_project_defined_in_another_folder_is_found(repo: Path) -> None:
    project, application = argocd_documents(repo, APP, "dev")
    write_documents(repo / f"argocd/apps/{APP}/dev.yaml", [application])
    write_documents(repo / "argocd/apps/shared-projects/projects.yaml", [project])
    assert app_problems(repo, APP, head(repo)) == []


def test_a_project_defined_nowhere_is_named(repo: Path) -> None:
    application = argocd_documents(repo, APP, "dev")[1]
    write_documents(repo / f"argocd/apps/{APP}/dev.yaml", [application])
    assert app_problems(repo, APP, head(repo)) == [
        f"argocd/apps/{APP}/dev.yaml: Application/{APP}-dev: "
        f"AppProject {APP}-dev does not exist under argocd/apps/"
    ]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        # Another app's overlay: its namespace is read to compare (shop-dev, not cart-dev).
        (
            f"environments/dev/{OTHER}",
            f"destination.namespace {APP}-dev differs from the namespace of "
            f"environments/dev/{OTHER}: {OTHER}-dev",
        ),
        (
            f"environments/../{APP}",
            f"source.path environments/../{APP} is not an overlay environments/<env>/<app>",
        ),
        ("environments/dev/nothing", "source.path environments/dev/nothing is not an overlay"),
    ],
    ids=["other-apps-overlay", "dot-dot", "no-such-overlay"],
)
def test_an_application_pointing_outside_its_overlay(repo: Path, path: str, reason: str) -> None:
    project, application = argocd_documents(repo, APP, "dev")
    application["spec"]["source"]["path"] = path
    write_documents(repo / f"argocd/apps/{APP}/dev.yaml", [project, application])
    problems = app_problems(repo, APP, head(repo))
    assert any(reason in problem for problem in problems), problems
    assert all(
        problem.startswith(f"argocd/apps/{APP}/dev.yaml: Application/{APP}-dev: ") for problem in problems
    )
