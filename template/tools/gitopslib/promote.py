"""`tools/gitops promote`: move a release from one environment to the next one.

The release (everything in the source overlay's release/) is copied onto the target's
release/, keeping the target file's comments and formatting; env-bound settings in the
overlay's kustomization.yaml are never touched. The rendered difference of the target is
shown before anything is kept; a source that does not build or validate is refused, and so
is skipping an environment unless --force. Where the release came from is recorded in
release/provenance.yaml, which `tools/gitops validate` reads.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from . import releases, roundtrip
from .errors import UsageError
from .git import commit_all, dirty_paths, git, is_work_tree, require_identity
from .kustomize import build_text, kustomize_command
from .overlay_checks import built_object_problems
from .problems import Problem
from .repo import Overlay, Repo
from .schemas import schema_problems


class PromotionRefusedError(Exception):
    """The promotion would deploy something broken: exit 1, nothing changed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class Request:
    apps: list[str]
    source: str
    target: str
    from_ref: str | None
    forced: bool


@dataclass
class Outcome:
    app: str
    before: str
    after: str
    diff: str


def resolve_request(
    repo: Repo,
    app: str | None,
    all_apps: bool,
    source: str,
    target: str | None,
    from_ref: str | None,
    force: bool,
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
    return Request(apps=apps, source=source, target=target, from_ref=from_ref, forced=force)


def _checked_build(repo: Repo, overlay: Overlay, command: list[str]) -> str:
    """The overlay's rendered YAML; refuses when it does not build or validate."""
    import yaml

    text, error = build_text(command, repo.root / overlay.path)
    if error:
        raise PromotionRefusedError([Problem(overlay.path, f"does not build: {error}")])
    objects = [doc for doc in yaml.safe_load_all(text) if doc]
    namespace = f"{overlay.app}-{overlay.env}"
    problems = built_object_problems(overlay, objects, namespace)
    for obj in objects:
        name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        problems += [Problem(f"{overlay.path}: {name}", reason) for reason in schema_problems(obj)]
    if problems:
        raise PromotionRefusedError(problems)
    return text


def _source_files(repo: Repo, request: Request, app: str) -> dict[str, str]:
    """The files of the source release, from the work tree or from --from-ref."""
    directory = releases.RELEASE_DIR.format(env=request.source, app=app)
    if request.from_ref is None:
        names = [p.name for p in sorted((repo.root / directory).iterdir()) if p.is_file()]
    else:
        listing = git(repo.root, "ls-tree", "--name-only", f"{request.from_ref}:{directory}", check=False)
        names = listing.split()
    files = {}
    for name in names:
        if name == releases.PROVENANCE_NAME:
            continue
        text = releases.read_text(repo.root, f"{directory}/{name}", request.from_ref)
        if text is not None:
            files[name] = text
    if "kustomization.yaml" not in files:
        where = f"{request.from_ref}:{directory}" if request.from_ref else directory
        raise PromotionRefusedError(
            [Problem(where, "no release to promote (release/kustomization.yaml missing)")]
        )
    return files


def _provenance(request: Request, source_commit: str, release_text: str) -> str:
    release = releases.parse(release_text)
    return (
        "# Where this release came from: written by tools/gitops promote, read by tools/gitops validate.\n"
        f"from_environment: {request.source}\n"
        f"from_commit: {source_commit}\n"
        f"forced: {'true' if request.forced else 'false'}\n"
        f"release: {releases.identity(release)}\n"
    )


def _write_release(repo: Repo, request: Request, app: str, files: dict[str, str], source_commit: str) -> None:
    directory = repo.root / releases.RELEASE_DIR.format(env=request.target, app=app)
    target_kustomization = directory / "kustomization.yaml"
    merged = roundtrip.load(target_kustomization.read_text())
    roundtrip.assign(merged, roundtrip.load(files["kustomization.yaml"]))
    target_kustomization.write_text(roundtrip.dump(merged))
    for name, text in files.items():
        if name != "kustomization.yaml":
            (directory / name).write_text(text)
    for stale in directory.iterdir():
        if stale.is_file() and stale.name not in files and stale.name != releases.PROVENANCE_NAME:
            stale.unlink()
    (directory / releases.PROVENANCE_NAME).write_text(
        _provenance(request, source_commit, target_kustomization.read_text())
    )


def _snapshot(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def _restore(directory: Path, snapshot: dict[Path, bytes]) -> None:
    for path in directory.iterdir():
        if path.is_file() and path not in snapshot:
            path.unlink()
    for path, content in snapshot.items():
        path.write_bytes(content)


def promote_app(repo: Repo, request: Request, app: str, source_commit: str, dry_run: bool) -> Outcome:
    command = kustomize_command()
    source, target = Overlay(request.source, app), Overlay(request.target, app)
    if request.from_ref is None:
        _checked_build(repo, source, command)
    files = _source_files(repo, request, app)
    target_dir = repo.root / releases.RELEASE_DIR.format(env=request.target, app=app)
    before_release = releases.parse(releases.read_text(repo.root, releases.release_file(request.target, app)))
    before_text, error = build_text(command, repo.root / target.path)
    snapshot = _snapshot(target_dir)
    try:
        _write_release(repo, request, app, files, source_commit)
        after_text = _checked_build(repo, target, command)
    except BaseException:
        _restore(target_dir, snapshot)
        raise
    if dry_run:
        _restore(target_dir, snapshot)
    diff = "".join(
        difflib.unified_diff(
            before_text.splitlines(keepends=True) if not error else [],
            after_text.splitlines(keepends=True),
            fromfile=f"{target.path} (now)",
            tofile=f"{target.path} (promoted)",
        )
    )
    after_release = releases.parse(files["kustomization.yaml"])
    return Outcome(app, releases.describe(before_release), releases.describe(after_release), diff)


def _commit_message(request: Request, outcomes: list[Outcome], source_commit: str) -> str:
    names = ", ".join(o.app for o in outcomes)
    lines = [f"Promote {names} from {request.source} to {request.target}", ""]
    lines += [f"- {o.app}: {o.before} -> {o.after}" for o in outcomes]
    lines += ["", f"Source: {request.source} at {source_commit}" + (" (forced)" if request.forced else "")]
    return "\n".join(lines)


def promote(repo: Repo, request: Request, dry_run: bool, branch: str | None, out: TextIO = sys.stdout) -> int:
    in_git = is_work_tree(repo.root)
    if branch is not None and (not in_git or dirty_paths(repo.root)):
        raise UsageError("--branch needs a clean git work tree: commit or stash first")
    if branch is not None and not dry_run:
        # Checked before the release files are written: the commit comes last, and a refusal
        # there would leave the promotion written on a new branch, uncommitted.
        require_identity(repo.root)
    ref = request.from_ref or "HEAD"
    source_commit = git(repo.root, "rev-parse", ref, check=False).strip() if in_git else ""
    if request.from_ref and not source_commit:
        raise UsageError(f"--from-ref {request.from_ref}: not a commit of this repository")
    source_commit = source_commit or "(not a git repository)"
    outcomes = []
    for app in request.apps:
        try:
            outcome = promote_app(repo, request, app, source_commit, dry_run)
        except PromotionRefusedError as refused:
            for problem in refused.problems:
                print(problem, file=out)
            print(f"{app}: promotion from {request.source} to {request.target} refused", file=out)
            return 1
        outcomes.append(outcome)
        change = "unchanged" if outcome.before == outcome.after and not outcome.diff else "promoted"
        summary = f"{request.target} {outcome.before} -> {outcome.after} ({change}, from {request.source})"
        print(f"{app}: {summary}", file=out)
        if outcome.diff:
            print(outcome.diff, file=out, end="" if outcome.diff.endswith("\n") else "\n")
    if dry_run:
        print("dry run: nothing changed", file=out)
    elif branch is not None:
        git(repo.root, "switch", "-c", branch)
        commit = commit_all(repo.root, _commit_message(request, outcomes, source_commit))
        print(f"committed {commit} on branch {branch}: push it and open a pull request", file=out)
    return 0
