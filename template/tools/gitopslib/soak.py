"""The soak gate: how long a release ran in an environment before it may leave it.

gitops.yaml's `soak` gives the time per environment. It is measured on the first-parent history of
the deployed branch (target_revision): a release arrives in an environment with the commit of that
chain that made it the environment's release (a merge commit, or a commit pushed or rebased onto the
branch), at that commit's committer date, never an author date or a commit of a branch merged in.
So the time a pull request spends in review does not count as soak, and neither does a rebase.
It stays until the chain replaces it (or until now).

Used by `tools/gitops promote` (refuses to move a release out too early unless --force) and by
`tools/gitops validate` (checks every environment's release against the history).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import yaml

from . import fast_yaml, layout, releases
from .durations import duration_problem, duration_seconds
from .git import git
from .history import History
from .problems import Problem
from .repo import Repo

CLONE_HINT = "CI clones need the whole history (GitHub: fetch-depth: 0, GitLab: GIT_DEPTH: 0)"


@dataclass(frozen=True)
class Stay:
    """One time a release was an environment's on the deployed branch."""

    identity: str
    arrival_commit: str
    arrived_at: int  # committer date, Unix seconds
    left_at: int | None  # when the branch replaced it; None: it still is the environment's

    def length(self, until: float) -> float:
        return (until if self.left_at is None else min(self.left_at, until)) - self.arrived_at


class SoakUnmeasurableError(Exception):
    """The history soak is measured on is not in this clone: the reason, one line."""


def soak_of(repo: Repo, env: str) -> str | None:
    """The environment's soak as gitops.yaml gives it (a Go duration), None when it has none.
    Valid only where soak_setting_problem finds nothing: callers check that first."""
    soak = repo.settings.get("soak")
    value = soak.get(env) if isinstance(soak, dict) else None
    return value if isinstance(value, str) and not duration_problem(value) else None


def soak_setting_problem(repo: Repo) -> str:
    """Why gitops.yaml's `soak` cannot be read as soak times ("" when it can): a gate that cannot
    read its setting must not let releases through as if there were none."""
    soak = repo.settings.get("soak")
    if soak is None or soak == {}:
        return ""
    if not isinstance(soak, dict):
        return f"soak: must be a mapping of environment to duration, e.g. {{staging: 24h}}, got {soak!r}"
    environments = repo.environments
    for env, value in soak.items():
        if env not in environments[:-1]:
            where = (
                "the last environment, which releases never leave"
                if env in environments
                else "no environment"
            )
            return f"soak: {env!r} is {where} (environments: {', '.join(environments)})"
        if reason := duration_problem(value):
            return f"soak: {env}: {reason}"
    return ""


def deployed_ref(root: Path, target_revision: str) -> str:
    """The ref whose first-parent history soak is measured on: the remote's branch (what Argo CD
    reads: a local branch may be behind it, or hold commits never pushed), else the local branch
    (a clone without a remote), else a tag of that name."""
    for ref in (f"refs/remotes/origin/{target_revision}", f"refs/heads/{target_revision}"):
        if git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False):
            return ref
    if git(root, "rev-parse", "--verify", "--quiet", f"refs/tags/{target_revision}^{{commit}}", check=False):
        return f"refs/tags/{target_revision}"
    raise SoakUnmeasurableError(f"no branch {target_revision} in this clone to measure soak on; {CLONE_HINT}")


class Stays:
    """Every release each environment's release/ folder held on the deployed branch."""

    def __init__(self, repo: Repo) -> None:
        if git(repo.root, "rev-parse", "--is-shallow-repository", check=False).strip() == "true":
            raise SoakUnmeasurableError(
                f"a shallow clone holds too little history to measure soak; {CLONE_HINT}"
            )
        self.ref = deployed_ref(repo.root, str(repo.settings.get("target_revision") or ""))
        # As the user names it: main, origin/main, or a tag.
        self.branch = self.ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")
        self._root = repo.root
        self._history = History(
            repo.root, f"{layout.RELEASE_DIRS_GLOB}/*", layout.release_dir_of, first_parent_of=self.ref
        )

    def of(self, env: str, app: str) -> list[Stay]:
        """The releases the environment held on the branch, newest first."""
        stays: list[Stay] = []
        current: tuple[str, str, int] | None = None  # identity, arrival commit, arrival time
        for commit, committed_at, files in reversed(self._history.changes(layout.release_dir(env, app))):
            identity = releases.committed_identity(files)
            if current is not None and identity == current[0]:
                continue  # provenance.yaml alone changed: the same release stays
            if current is not None:
                stays.append(Stay(current[0], current[1], current[2], committed_at))
            current = None if identity is None else (identity, commit, committed_at)
        if current is not None:
            stays.append(Stay(current[0], current[1], current[2], None))
        return stays[::-1]

    def soak_set_at(self, env: str, soak: str) -> int | None:
        """When the branch's gitops.yaml began to give `env` this soak (the committer date of the
        first-parent commit that set it); None when the branch does not give it yet (the change
        being validated sets it)."""
        log = git(
            self._root, "log", "--first-parent", "--format=%H %ct", self.ref, "--", layout.SETTINGS_FILE
        )
        since = None
        for line in log.splitlines():
            commit, committed_at = line.split()
            text = git(self._root, "show", f"{commit}:./{layout.SETTINGS_FILE}", check=False)
            try:
                settings = fast_yaml.load(text)
            except yaml.YAMLError:
                break
            held = settings.get("soak") if isinstance(settings, dict) else None
            if not isinstance(held, dict) or held.get(env) != soak:
                break
            since = int(committed_at)
        return since

    def stay_before(self, env: str, app: str, identity: str, commit: str) -> Stay | None:
        """The newest stay of this release in the environment that began at or before `commit`
        (one of the branch's commits or of a branch made from it)."""
        for stay in self.of(env, app):
            if stay.identity == identity and _is_ancestor(self._root, stay.arrival_commit, commit):
                return stay
        return None


def _is_ancestor(root: Path, ancestor: str, commit: str) -> bool:
    command = ["git", "merge-base", "--is-ancestor", ancestor, commit]
    return subprocess.run(command, cwd=root, capture_output=True).returncode == 0


def shown_duration(seconds: float) -> str:
    """A length of time as a Go duration, to the minute: 3h5m, 45m, 0m."""
    minutes = max(int(seconds // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m" if hours else f"{minutes}m"


def shown_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def promotion_soak_problem(
    stays: Stays, env: str, app: str, identity: str, label: str, source_commit: str, soak: str
) -> str:
    """Why the release may not leave `env` yet ("" when it has soaked long enough)."""
    stay = stays.stay_before(env, app, identity, source_commit)
    if stay is None:
        fetch = " (git fetch, if it is behind)" if stays.ref.startswith("refs/remotes/") else ""
        return (
            f"release {label} has not reached {env} on {stays.branch}{fetch}: its soak of {soak} counts "
            f"from the commit that brings it there (or promote with --force)"
        )
    ran = stay.length(time.time())
    needed = float(duration_seconds(soak))
    if ran >= needed:
        return ""
    return (
        f"release {label} has run in {env} for {shown_duration(ran)} of its soak of {soak} (since "
        f"{stay.arrival_commit[:12]} on {stays.branch}, {shown_time(stay.arrived_at)}); promote it "
        f"after {shown_time(stay.arrived_at + needed)}, or with --force"
    )


def soak_problems(repo: Repo) -> list[Problem]:
    """validate: every release that left an environment with a soak stayed there that long on the
    deployed branch before it reached the next environment (or the promotion was forced)."""
    if problem := soak_setting_problem(repo):
        return [Problem(layout.SETTINGS_FILE, problem)]
    soaks = {env: soak for env in repo.environments if (soak := soak_of(repo, env))}
    if not soaks:
        return []
    history = History(repo.root, f"{layout.RELEASE_DIRS_GLOB}/*", layout.release_dir_of)
    if not history.available:
        return []  # not a git work tree, or no commit: promotion_checks skips its check too
    try:
        stays = Stays(repo)
    except SoakUnmeasurableError as error:
        return [Problem(layout.SETTINGS_FILE, f"soak: cannot be checked: {error}")]
    now = time.time()
    problems = []
    for app in repo.apps():
        for previous, env in pairwise(repo.environments):
            soak = soaks.get(previous)
            if soak and (problem := _stay_problem(repo, stays, history, (previous, soak), env, app, now)):
                problems.append(Problem(layout.release_file(env, app), problem))
    return problems


def _stay_problem(
    repo: Repo, stays: Stays, history: History, left: tuple[str, str], env: str, app: str, now: float
) -> str:
    """Why the release of `env` left the environment before it too early ("" when it did not);
    `left` is that environment and its soak."""
    previous, soak = left
    directory = layout.release_dir(env, app)
    files = releases.read_files(repo.root, directory)
    if layout.KUSTOMIZATION not in files or releases.forced(repo.root, directory):
        return ""
    identity = releases.folder_identity(files)
    first = history.first_version(directory)
    if first is None or releases.committed_identity(first) == identity:
        return ""  # the release it was onboarded with: it never came from the previous environment
    # When it arrived in env on the branch; not yet (a pull request that promotes it): now.
    arrivals = [stay for stay in stays.of(env, app) if stay.identity == identity]
    arrived = arrivals[0].arrived_at if arrivals else now
    since = stays.soak_set_at(previous, soak)
    if arrivals and (since is None or arrived < since):
        return ""  # it arrived before this soak was the rule: a new soak judges later promotions
    before = [
        stay for stay in stays.of(previous, app) if stay.identity == identity and stay.arrived_at <= arrived
    ]
    label = releases.describe(releases.parse(releases.decoded(directory, files[layout.KUSTOMIZATION])))
    if not before:
        return f"release {label} never ran in {previous} on {stays.branch}, whose soak is {soak}"
    ran = before[0].length(arrived)
    if ran >= float(duration_seconds(soak)):
        return ""
    return (
        f"release {label} ran in {previous} for {shown_duration(ran)} on {stays.branch} before it "
        f"reached {env}, less than {previous}'s soak of {soak} (promote with --force to skip it)"
    )
