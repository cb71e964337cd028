"""`tools/gitops promote`: move a release from one environment to the next one.

The release (everything in the source overlay's release/) is read from a commit (HEAD, or
--from-ref) and copied onto the target's release/, keeping the target file's comments and
formatting; env-bound settings in the overlay's kustomization.yaml are never touched. The
rendered difference of the target is shown before anything is kept; a source that does not
build or validate is refused, and so is skipping an environment or leaving one before its soak
is over unless --force (gates.py; with --require-healthy also a release Argo CD does not report
Synced and Healthy). Where the release came from, and what --force let through, is recorded in
release/provenance.yaml, which `tools/gitops validate` reads.

Users' work is never lost: uncommitted or untracked changes in the target's release/ (which
promote would overwrite) or in the source's (which promoting from HEAD would silently leave
out) are refused; every refusal is one line and leaves the repository exactly as it was; a
promotion that changes nothing writes nothing and creates no branch or commit.
"""

from __future__ import annotations

import copy
import difflib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import releases, roundtrip
from .errors import UsageError
from .gates import Leaving, check_gates
from .git import commit_all, dirty_paths, git, is_work_tree, require_identity
from .interrupts import interruptible
from .kustomize import BuildResult, build_overlays, overlay_namespace, rendered_text
from .layout import KUSTOMIZATION, PROVENANCE, environment_files, release_dir
from .overlay_checks import built_object_problems
from .problems import Problem
from .repo import Overlay, Repo, yaml_reason
from .schemas import schema_problems


class PromotionRefusedError(Exception):
    """The promotion would deploy something broken: exit 1, nothing changed."""

    def __init__(self, app: str, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.app = app
        self.problems = problems


@dataclass(frozen=True)
class Request:
    apps: list[str]
    source: str
    target: str
    from_ref: str | None
    forced: bool
    require_healthy: bool = False


@dataclass(frozen=True)
class Source:
    """The commit the source release is read from: as the user named it, and its id."""

    ref: str
    commit: str


@dataclass(frozen=True)
class Committed:
    """What promote reads from git, for every app at once (git processes cost about as much as a
    build: four per app were a third of `promote --all`): each source release/ as committed in
    the source commit, and the files each target release/ tracks at HEAD."""

    sources: dict[str, dict[str, bytes]]
    tracked: dict[str, dict[str, str]]

    @classmethod
    def read(cls, repo: Repo, request: Request, source: Source) -> Committed:
        sources = [release_dir(request.source, app) for app in request.apps]
        targets = [release_dir(request.target, app) for app in request.apps]
        return cls(
            releases.folders_at(repo.root, source.commit, sources),
            releases.names_in(repo.root, "HEAD", targets),
        )


@dataclass
class Plan:
    """What promoting one app writes in its target's release/: nothing when it is already there."""

    app: str
    directory: str
    before: dict[str, Any]
    after: dict[str, Any]
    writes: dict[str, bytes] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    identity: str = ""  # of the source's release folder (releases.folder_identity)

    @property
    def changed(self) -> bool:
        return bool(self.writes or self.stale)


@dataclass
class Outcome:
    app: str
    before: str
    after: str
    diff: str
    changed: bool


def resolve_request(
    repo: Repo,
    app: str | None,
    all_apps: bool,
    source: str,
    target: str | None,
    from_ref: str | None,
    force: bool,
    require_healthy: bool = False,
) -> Request:
    order = repo.environments
    if source not in order:
        raise UsageError(f"--from {source}: not an environment of gitops.yaml ({', '.join(order)})")
    position = order.index(source)
    if target is None:
        if position + 1 == len(order):
            raise UsageError(f"--from {source}: it is the last environment, there is nothing to promote to")
        target = order[position + 1]
    if target not in order:
        raise UsageError(f"--to {target}: not an environment of gitops.yaml ({', '.join(order)})")
    if order.index(target) <= position:
        raise UsageError(
            f"--to {target}: comes before {source}; to roll back, promote an earlier release with --from-ref"
        )
    if order.index(target) > position + 1 and not force:
        skipped = ", ".join(order[position + 1 : order.index(target)])
        raise UsageError(f"--to {target}: skips {skipped}; promote through it, or pass --force")
    known = repo.apps()
    if all_apps:
        apps = [a for a in known if (repo.root / Overlay(target, a).path).is_dir()]
    elif app in known:
        apps = [app]
    else:
        raise UsageError(f"--app {app}: no such app ({', '.join(known)})")
    return Request(
        apps=apps,
        source=source,
        target=target,
        from_ref=from_ref,
        forced=force,
        require_healthy=require_healthy,
    )


def checked_objects(overlay: Overlay, built: BuildResult, namespace: str | None) -> list[dict[str, Any]]:
    """The overlay's objects from `built`; refuses when it did not build or does not validate
    (`namespace`: the one the overlay sets, as validate reads it: a team may have changed it)."""
    if overlay in built.errors:
        problem = Problem(overlay.path, f"does not build: {built.errors[overlay]}")
        raise PromotionRefusedError(overlay.app, [problem])
    objects = built.objects[overlay]
    problems = built_object_problems(overlay, objects, namespace)
    for obj in objects:
        name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        problems += [Problem(f"{overlay.path}: {name}", reason) for reason in schema_problems(obj)]
    if problems:
        raise PromotionRefusedError(overlay.app, problems)
    return objects


def resolve_source(repo: Repo, from_ref: str | None) -> Source:
    """The commit to read the source release from; a usage error when there is none."""
    if not is_work_tree(repo.root):
        raise UsageError(f"{repo.root}: not a git work tree; promote reads releases from commits")
    ref = from_ref or "HEAD"
    # A leading dash would be read as an option of rev-parse (e.g. --output=...), not as a ref.
    commit = "" if ref.startswith("-") else _commit_of(repo.root, ref)
    if commit:
        return Source(ref, commit)
    if from_ref is None:
        raise UsageError(f"{repo.root}: no commit yet; promote reads releases from commits, commit first")
    raise UsageError(f"--from-ref {from_ref}: not a commit of this repository")


def _commit_of(root: Path, ref: str) -> str:
    # ^{commit}: without it a tree or blob id passes, and ls-tree reads a "release" from it.
    return git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).strip()


def check_branch(repo: Repo, branch: str, dry_run: bool) -> None:
    """Refuses, before anything is written, what would make creating the branch or committing fail."""
    if dirty_paths(repo.root):
        raise UsageError("--branch needs a clean git work tree: commit or stash first")
    if branch.startswith("-") or not git(repo.root, "check-ref-format", "--branch", branch, check=False):
        raise UsageError(f"--branch {branch}: not a valid branch name")
    if git(repo.root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False):
        raise UsageError(f"--branch {branch}: already exists; choose another name, or delete it first")
    if not dry_run:
        require_identity(repo.root)


def check_committed(repo: Repo, request: Request) -> None:
    """Refuses uncommitted or untracked changes in a release/ that promote reads or writes."""
    read = [release_dir(request.source, app) for app in request.apps if request.from_ref is None]
    written = [release_dir(request.target, app) for app in request.apps]
    if not git(repo.root, "status", "--porcelain", "--untracked-files=all", "--", *written, *read):
        return  # all clean, as they usually are: one git process, not two per app
    for app in request.apps:
        target = release_dir(request.target, app)
        # Edits there would be overwritten; new files would be committed as part of the promoted release.
        refuse_uncommitted(repo.root, target, "promote rewrites this release")
        if request.from_ref is None:
            # With --from-ref the source's work tree is not read at all: nothing there is left out.
            source = release_dir(request.source, app)
            refuse_uncommitted(repo.root, source, "promote reads this release from HEAD, without them")


def refuse_uncommitted(root: Path, directory: str, why: str) -> None:
    status = git(root, "status", "--porcelain", "--untracked-files=all", "--", directory)
    names = sorted({Path(line[3:].strip('"')).name for line in status.splitlines()})
    if names:
        raise releases.ReleaseError(
            directory, f"uncommitted changes ({', '.join(names)}): commit or stash them first; {why}"
        )


def plan_app(repo: Repo, request: Request, source: Source, app: str, committed: Committed) -> Plan:
    """Reads both releases and works out what to write; refuses (ReleaseError) what cannot be read."""
    source_path, files = _source_files(request, source, app, committed)
    source_text = releases.decoded(source_path, files[KUSTOMIZATION])
    directory = release_dir(request.target, app)
    target_path = f"{directory}/{KUSTOMIZATION}"
    target_text = _target_text(repo, target_path)
    source_release = releases.mapping(source_path, source_text)
    plan = Plan(app, directory, releases.mapping(target_path, target_text), copy.deepcopy(source_release))
    # A chart's namespace and values stay the target's: the source's are another environment's.
    if problem := releases.chart_names_problem(source_release, plan.before):
        raise releases.ReleaseError(target_path, problem)
    releases.keep_environment_fields(plan.after, plan.before)
    # Compared as releases, not as text: an equal release with other comments is left alone.
    if releases.identity(plan.before) != releases.identity(plan.after):
        target, promoted = round_trip(target_path, target_text), round_trip(source_path, source_text)
        releases.keep_environment_fields(promoted, copy.deepcopy(target))
        plan.writes[KUSTOMIZATION] = roundtrip.dump(roundtrip.assign(target, promoted)).encode()
    _plan_other_files(repo, plan, files, environment_files(source_release), committed)
    # The release as the source holds it, which the target holds once written (its own values and
    # namespace are no part of a release): what the gates and the provenance record name.
    plan.identity = releases.identity(source_release, files)
    return plan


def _plan_other_files(
    repo: Repo, plan: Plan, files: dict[str, bytes], source_values: set[str], committed: Committed
) -> None:
    """Copied as bytes, so Kustomize reads in the target exactly what it read in the source; the
    chart values files (each side's own) are the environment's and neither copied nor removed."""
    kept = {KUSTOMIZATION, PROVENANCE, *environment_files(plan.before), *source_values}
    for name, content in files.items():
        if name not in kept and _read_bytes(repo.root / plan.directory / name) != content:
            plan.writes[name] = content
    # Tracked files only: the release/ is committed (checked), so an ignored file is the user's own.
    tracked = committed.tracked[plan.directory]
    plan.stale = sorted(set(tracked) - set(files) - kept)


def _source_files(
    request: Request, source: Source, app: str, committed: Committed
) -> tuple[str, dict[str, bytes]]:
    """The files of the source release as committed, and the path of its kustomization.yaml."""
    directory = release_dir(request.source, app)
    files = dict(committed.sources[directory])
    files.pop(PROVENANCE, None)
    path = f"{directory}/{KUSTOMIZATION}"
    if KUSTOMIZATION not in files:
        raise releases.ReleaseError(
            path, f"not in {source.ref} ({source.commit[:12]}): no release to promote"
        )
    return path, files


def _target_text(repo: Repo, path: str) -> str:
    file = repo.root / path
    if not file.is_file():
        raise releases.ReleaseError(path, "missing: there is no release to promote onto")
    try:
        return releases.decoded(path, file.read_bytes())
    except OSError as error:
        raise releases.ReleaseError(path, error.strerror or str(error)) from None


def _read_bytes(file: Path) -> bytes | None:
    try:
        return file.read_bytes() if file.is_file() else None
    except OSError:
        return None


def round_trip(path: str, text: str) -> Any:
    # ruamel.yaml refuses a little more than PyYAML (duplicate keys): named as the same problem.
    try:
        return roundtrip.load(text)
    except roundtrip.YAMLError as error:
        raise releases.ReleaseError(path, f"not valid YAML: {yaml_reason(error)}") from None


def _provenance(request: Request, source_commit: str, release: str, overridden: str | None) -> str:
    # What --force let through (a soak not yet over), as one JSON string: it can hold any character.
    override = f"overridden: {json.dumps(overridden)}\n" if overridden else ""
    return (
        "# Where this release came from: written by tools/gitops promote, read by tools/gitops validate.\n"
        f"from_environment: {request.source}\n"
        f"from_commit: {source_commit}\n"
        f"forced: {'true' if request.forced else 'false'}\n"
        f"{override}"
        f"release: {release}\n"
        f"{releases.IDENTITY_FIELD}: {releases.FOLDER_IDENTITY}\n"
    )


def _pass_gates(repo: Repo, request: Request, source: Source, plans: list[Plan]) -> list[Problem]:
    """Checks the soak and health gates of every release about to move; the problems that refuse
    the promotion, else writes each provenance.yaml (with what --force let through)."""
    changed = [plan for plan in plans if plan.changed]
    leaving = [Leaving(plan.app, plan.after, plan.identity) for plan in changed]
    gates = check_gates(repo, request.source, leaving, source.commit, request.forced, request.require_healthy)
    if gates.problems:
        return gates.problems
    for plan in changed:
        provenance = _provenance(request, source.commit, plan.identity, gates.overridden.get(plan.app))
        plan.writes[PROVENANCE] = provenance.encode()
    return []


def _write(directory: Path, plan: Plan) -> None:
    for name, content in plan.writes.items():
        (directory / name).write_bytes(content)
    for name in plan.stale:
        (directory / name).unlink(missing_ok=True)


def snapshot(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def restore(snapshots: dict[Path, dict[Path, bytes]]) -> None:
    for directory, saved in snapshots.items():
        for path in directory.iterdir():
            if path.is_file() and path not in saved:
                path.unlink()
        for path, content in saved.items():
            path.write_bytes(content)


def _unchanged(plan: Plan) -> Outcome:
    return Outcome(plan.app, releases.describe(plan.before), releases.describe(plan.after), "", False)


def _promote_all(
    repo: Repo, request: Request, plans: list[Plan], snapshots: dict[Path, dict[Path, bytes]]
) -> list[Outcome]:
    """Writes every planned release and checks what each renders; `snapshots` gets what to restore.

    Every overlay is built in two batches, not three builds per app (BENCHMARKS.md): the sources
    (refused if they do not build or validate) with the targets as they are, then the targets
    as promoted. The first app in order that is refused stops the promotion."""
    changed = [plan for plan in plans if plan.changed]
    targets = {plan.app: Overlay(request.target, plan.app) for plan in changed}
    # The source's release/ is committed (checked): with no --from-ref its work tree is the
    # release read from HEAD, and it must build and validate.
    reread = request.from_ref is None
    sources = {plan.app: Overlay(request.source, plan.app) for plan in changed if reread}
    now = build_overlays(repo, [*sources.values(), *targets.values()])
    for plan in changed:
        directory = repo.root / plan.directory
        snapshots[directory] = snapshot(directory)
        _write(directory, plan)
    promoted = build_overlays(repo, list(targets.values()))
    outcomes = []
    for plan in plans:
        outcome = _unchanged(plan)
        if plan.changed:
            if source := sources.get(plan.app):
                checked_objects(source, now, overlay_namespace(repo, source))
            target = targets[plan.app]
            after = rendered_text(checked_objects(target, promoted, overlay_namespace(repo, target)))
            before = "" if target in now.errors else rendered_text(now.objects[target])
            outcome.changed = True
            outcome.diff = rendered_diff(target, before, after, "promoted")
        outcomes.append(outcome)
    return outcomes


def rendered_diff(overlay: Overlay, before: str, after: str, change: str) -> str:
    """What the overlay renders now and after the `change` (e.g. "promoted"), as a unified diff."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"{overlay.path} (now)",
            tofile=f"{overlay.path} ({change})",
        )
    )


def _commit_message(request: Request, outcomes: list[Outcome], source_commit: str) -> str:
    names = ", ".join(o.app for o in outcomes)
    lines = [f"Promote {names} from {request.source} to {request.target}", ""]
    lines += [f"- {o.app}: {o.before} -> {o.after}" for o in outcomes]
    lines += ["", f"Source: {request.source} at {source_commit}" + (" (forced)" if request.forced else "")]
    return "\n".join(lines)


def commit_on_branch(root: Path, branch: str, message: str) -> str:
    """Commits the written promotion on a new branch; if the commit is refused (a hook), the
    branch is deleted and the index reset, and the caller restores the release files."""
    original = git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    original = original or git(root, "rev-parse", "HEAD").strip()
    git(root, "switch", "--quiet", "--create", branch)
    try:
        return commit_all(root, message)
    except BaseException:  # a refused commit, or an interruption before it was made
        git(root, "reset", "--quiet", check=False)
        git(root, "checkout", "--quiet", original, "--", check=False)
        git(root, "branch", "--quiet", "-D", branch, check=False)
        raise


def _print_outcomes(request: Request, outcomes: list[Outcome], dry_run: bool, out: TextIO) -> None:
    for outcome in outcomes:
        change = "would promote" if dry_run else "promoted"
        change = change if outcome.changed else "unchanged"
        summary = f"{request.target} {outcome.before} -> {outcome.after} ({change}, from {request.source})"
        print(f"{outcome.app}: {summary}", file=out)
        if outcome.diff:
            print(outcome.diff, file=out, end="" if outcome.diff.endswith("\n") else "\n")


def _apply(
    repo: Repo, request: Request, plans: list[Plan], source: Source, branch: str | None, dry_run: bool
) -> tuple[list[Outcome], str]:
    """Writes every planned release (and commits them on `branch`); restores every one of them on
    any failure, and all of them after a dry run. Returns the outcomes and the commit, if any."""
    snapshots: dict[Path, dict[Path, bytes]] = {}
    with interruptible():
        try:
            outcomes = _promote_all(repo, request, plans, snapshots)
            promoted = [o for o in outcomes if o.changed]
            commit = ""
            if branch is not None and not dry_run:
                message = _commit_message(request, promoted, source.commit)
                commit = commit_on_branch(repo.root, branch, message)
        except BaseException:  # Ctrl-C and SIGTERM too (interruptible)
            restore(snapshots)
            raise
        if dry_run:
            restore(snapshots)
    return outcomes, commit


def _print_nothing_to_promote(request: Request, plans: list[Plan], dry_run: bool, out: TextIO) -> None:
    _print_outcomes(request, [_unchanged(plan) for plan in plans], dry_run, out)
    where = f"{request.target} already runs this release of {request.source}"
    print(f"nothing to promote: {where}; nothing written, no branch or commit created", file=out)


def relative_path(repo: Repo, filename: object) -> str:
    path = Path(str(filename))
    return repo.relative(path) if path.is_relative_to(repo.root) else str(path)


def promote(
    repo: Repo, request: Request, dry_run: bool, branch: str | None, out: TextIO | None = None
) -> int:
    out = sys.stdout if out is None else out  # read at call time: a redirected stdout must be honoured
    source = resolve_source(repo, request.from_ref)
    if branch is not None:
        check_branch(repo, branch, dry_run)
    try:
        check_committed(repo, request)
        committed = Committed.read(repo, request, source)
        plans = [plan_app(repo, request, source, app, committed) for app in request.apps]
    except releases.ReleaseError as error:
        print(error.problem, file=out)
        return 1
    if not any(plan.changed for plan in plans):
        _print_nothing_to_promote(request, plans, dry_run, out)
        return 0
    if gate_problems := _pass_gates(repo, request, source, plans):
        for problem in gate_problems:
            print(problem, file=out)
        print(f"promotion from {request.source} to {request.target} refused: nothing written", file=out)
        return 1
    try:
        outcomes, commit = _apply(repo, request, plans, source, branch, dry_run)
    except PromotionRefusedError as refused:
        for problem in refused.problems:
            print(problem, file=out)
        print(f"{refused.app}: promotion from {request.source} to {request.target} refused", file=out)
        return 1
    except OSError as error:  # written files are restored; name the one that failed
        print(f"{relative_path(repo, error.filename)}: {error.strerror}", file=out)
        return 1
    _print_outcomes(request, outcomes, dry_run, out)
    if dry_run:
        print("dry run: nothing changed", file=out)
    elif commit:
        print(f"committed {commit} on branch {branch}: push it and open a pull request", file=out)
    return 0
