"""Builds the repositories the benchmarks measure: throwaway template releases and GitOps
repositories with many apps.

A repository with N apps is made by rendering one app with Copier and copying its files
under N names (the template derives every path and name from `app_name`, so the copies equal
what N copies of the template would write, at a fraction of the time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import copier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "template" / "tools"))
from gitopslib.layout import answers_file  # noqa: E402

TEMPLATE_PARTS = ("copier.yml", "template", "extensions", "migrations")
SEED_APP = "seedapp"
IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **IDENTITY}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def template_release(path: Path, version: str = "v1.0.0") -> Path:
    """A git repository holding this template's work tree, tagged `version`."""
    path.mkdir(parents=True)
    for part in TEMPLATE_PARTS:
        source = ROOT / part
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, path / part)
    git(path, "init", "-q", "-b", "main")
    commit_all(path, version)
    git(path, "tag", version)
    return path


def release_change(template: Path, version: str) -> None:
    """A template change that touches every app: one line of the base Deployment."""
    base = "template/applications/base/{% if workload == 'manifests' %}{{ app_name }}{% endif %}"
    deployment = template / base / "deployment.yaml.jinja"
    deployment.write_text(
        deployment.read_text().replace("revisionHistoryLimit: 5", "revisionHistoryLimit: 7")
    )
    commit_all(template, version)
    git(template, "tag", version)


def app_files(repo: Path, app: str) -> list[Path]:
    return [
        path
        for path in repo.rglob("*")
        if path.is_file()
        and ".git" not in path.parts
        and (app in path.parts or path.name == answers_file(app))
    ]


def onboarded_repo(template: Path, destination: Path, apps: int, vcs_ref: str = "v1.0.0") -> Path:
    """What many_app_repo makes, made the slow way: one Copier copy per app, as a team onboards."""
    for index in range(apps):
        copier.run_copy(
            str(template),
            destination,
            data={"app_name": f"app{index:03d}"},
            defaults=True,
            unsafe=True,
            vcs_ref=vcs_ref,
            quiet=True,
        )
    git(destination, "init", "-q", "-b", "main")
    commit_all(destination, f"{apps} apps")
    return destination


def many_app_repo(template: Path, destination: Path, apps: int, vcs_ref: str = "v1.0.0") -> Path:
    """A committed GitOps repository with `apps` apps named app000, app001, ..."""
    copier.run_copy(
        str(template),
        destination,
        data={"app_name": SEED_APP},
        defaults=True,
        unsafe=True,
        vcs_ref=vcs_ref,
        quiet=True,
    )
    seed = app_files(destination, SEED_APP)
    for index in range(apps):
        name = f"app{index:03d}"
        for path in seed:
            target = Path(str(path).replace(SEED_APP, name))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text().replace(SEED_APP, name))
    for path in seed:
        path.unlink()
    for directory in sorted({p.parent for p in seed}, key=lambda p: len(p.parts), reverse=True):
        if directory.exists() and not any(directory.iterdir()):
            directory.rmdir()
    git(destination, "init", "-q", "-b", "main")
    commit_all(destination, f"{apps} apps")
    return destination
