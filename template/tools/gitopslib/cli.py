"""Command line of tools/gitops. Exit codes: 0 ok, 1 problems found (or interrupted), 2 usage error."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from .errors import INSTALL_HINT, BrokenFileError, MissingGitIdentityError, UsageError
from .interrupts import Interrupted

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
# Set to see the traceback of an unexpected error instead of its one-line summary.
DEBUG_VARIABLE = "GITOPS_DEBUG"


class _Parser(argparse.ArgumentParser):
    """argparse prints the whole usage before its error; every error of this tool is one line.
    Subcommand parsers are made of the same class, so theirs are too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _command(
    commands: argparse._SubParsersAction[_Parser], name: str, summary: str, description: str, examples: str
) -> _Parser:
    """A subcommand whose --help says what it does and shows it used."""
    return commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + "\n".join(f"  {line.strip()}" for line in examples.strip().splitlines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tools/gitops",
        description=(
            "Tools of this GitOps repository. "
            "Exit codes: 0 ok, 1 problems found (or interrupted), 2 usage error."
        ),
    )
    parser.add_argument("-C", "--repo", type=Path, default=Path.cwd(), help="repository (default: here)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    validate = _command(
        commands,
        "validate",
        "build every overlay, validate every object strictly, check cross-file invariants",
        "Builds every overlay with Kustomize, checks each object against strict schemas and the\n"
        "repository's rules, and prints one `path: reason` line per problem (exit 1 if any).",
        """
        tools/gitops validate
        tools/gitops validate --changed-since origin/main    # only what a branch can affect
        tools/gitops validate --shard 2/4 --shard-report shard-2.json    # one CI runner's share
        """,
    )
    validate.add_argument(
        "--changed-since", metavar="REF", help="build only the overlays that changed since REF can affect"
    )
    validate.add_argument(
        "--shard",
        metavar="I/N",
        help="validate the Ith of N shares of the overlays (shard 1 also runs the checks that need no "
        "build); `tools/gitops shards merge` checks what needs every shard",
    )
    validate.add_argument(
        "--shard-report", type=Path, metavar="FILE", help="write what `tools/gitops shards merge` needs here"
    )
    shards = _command(
        commands,
        "shards",
        "split validate across CI runners: plan the shards, list one's overlays, merge their reports",
        "For a repository too large for one CI job: `plan` prints the shards as a JSON list for a\n"
        "CI matrix (one per 400 overlays), `list` the overlays of one shard, `merge` checks what\n"
        "needs every shard's builds (a host two overlays route, an exception nothing used),\n"
        "`pipeline` writes GitLab's child pipeline of the shards (the `shards` job runs it).",
        """
        tools/gitops shards plan    # ["1/3", "2/3", "3/3"]
        tools/gitops shards pipeline --image python:3.12-bookworm > validate-shards.gitlab-ci.yml
        tools/gitops shards list 2/3
        tools/gitops shards merge reports/*/shard.json
        """,
    )
    steps = shards.add_subparsers(dest="step", required=True, parser_class=_Parser)
    plan = steps.add_parser("plan", help="the shards of this repository, as a JSON list")
    plan.add_argument("--overlays-per-shard", type=int, metavar="N", help="overlays per shard (default: 400)")
    pipeline = steps.add_parser("pipeline", help="GitLab's child pipeline that validates the shards")
    pipeline.add_argument("--image", default="", help="the image its jobs run in (default: the runner's)")
    pipeline.add_argument(
        "--overlays-per-shard", type=int, metavar="N", help="overlays per shard (default: 400)"
    )
    listing = steps.add_parser("list", help="the overlays of one shard, one folder per line")
    listing.add_argument("shard", metavar="I/N")
    merged = steps.add_parser("merge", help="check the reports of every shard together (exit 1 on problems)")
    merged.add_argument("reports", nargs="*", type=Path, metavar="REPORT")
    update = _command(
        commands,
        "update",
        "copier update every app (or one), one commit per app, stop at the first conflict",
        "Runs `copier update` for each app to the newest template release (or --vcs-ref), one\n"
        "commit per app, in a clean work tree; stops with exit 1 at the first conflict.",
        """
        tools/gitops update
        tools/gitops update --app shop --vcs-ref v0.3.0
        tools/gitops update --data argocd_version=v3.6.3    # a repo-level change, every app
        """,
    )
    update.add_argument("--app", help="update only this app")
    update.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="answer to change for every app updated (repeatable), e.g. argocd_version=v3.6.3",
    )
    update.add_argument("--vcs-ref", help="template version to update to (default: its newest release)")
    update.add_argument(
        "--jobs",
        type=int,
        default=min(os.cpu_count() or 1, 4),
        help="apps updated side by side in separate git worktrees (default: CPUs, at most 4)",
    )
    promote = _command(
        commands,
        "promote",
        "move a release from one environment to the next, showing the rendered diff",
        "Copies the release (image tag or digest) of one environment to the next, as committed,\n"
        "prints the rendered difference and leaves the change for a commit (or commits it on --branch).",
        """
        tools/gitops promote --app shop --from dev
        tools/gitops promote --all --from staging --dry-run
        tools/gitops promote --app shop --from staging --branch promote/shop-prod
        tools/gitops promote --app shop --from staging --require-healthy
        """,
    )
    which = promote.add_mutually_exclusive_group(required=True)
    which.add_argument("--app", help="the app to promote")
    which.add_argument("--all", action="store_true", help="every app")
    promote.add_argument(
        "--from", dest="source", required=True, metavar="ENV", help="environment to promote from"
    )
    promote.add_argument("--to", dest="target", metavar="ENV", help="default: the environment after --from")
    promote.add_argument("--from-ref", metavar="REF", help="take the source release as it was at this commit")
    promote.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    promote.add_argument(
        "--force",
        action="store_true",
        help="allow skipping environments and leaving one before its soak is over (recorded)",
    )
    promote.add_argument(
        "--require-healthy",
        action="store_true",
        help="refuse unless Argo CD reports the source Synced and Healthy running this release",
    )
    promote.add_argument("--branch", metavar="NAME", help="create this branch and commit the promotion on it")
    release = _command(
        commands,
        "release",
        "set a new release (image tag or digest, chart version) of an app in the first environment",
        "Sets the image tag or digest of an app in the first environment of gitops.yaml, as\n"
        "committed, keeping comments; checks it like the image_tag answer (no latest), records it\n"
        "in provenance.yaml and leaves the change for a commit (or commits it on --branch). An app\n"
        "with a Helm chart also takes --chart-version, alone or with the image's.",
        """
        tools/gitops release --app shop --tag 1.4.2
        tools/gitops release --app shop --digest "$DIGEST"    # sha256:<64 hex>, as the registry gave it
        tools/gitops release --app shop --image shop-proxy --tag 2.0.1    # a sidecar's image
        tools/gitops release --app shop --tag 1.4.2 --branch release/shop-1.4.2
        tools/gitops release --app shop --chart-version 2.3.0 --tag 1.5.0    # a chart and its image
        """,
    )
    release.add_argument("--app", required=True, help="the app to release")
    reference = release.add_mutually_exclusive_group()
    reference.add_argument("--tag", help="immutable image tag (latest is refused)")
    reference.add_argument("--digest", metavar="sha256:...", help="image digest")
    release.add_argument(
        "--chart-version", metavar="X.Y.Z", help="the chart's version, exact (workload helm-chart; no ranges)"
    )
    release.add_argument(
        "--image", metavar="NAME", help="the images: entry to set, by name (default: the app's own image)"
    )
    release.add_argument("--branch", metavar="NAME", help="create this branch and commit the release on it")
    diff = _command(
        commands,
        "diff",
        "rendered difference of every affected overlay since a git ref",
        "Builds every overlay a change since REF affects, at REF and now, and prints the difference\n"
        "of the rendered objects (what Argo CD would change), e.g. as a pull-request summary.",
        """
        tools/gitops diff --base origin/main
        tools/gitops diff --base origin/main --markdown > summary.md
        """,
    )
    diff.add_argument("--base", required=True, metavar="REF", help="e.g. origin/main")
    diff.add_argument("--markdown", action="store_true", help="format for a pull request summary")
    status = _command(
        commands,
        "status",
        "release of every app in every environment",
        "Shows the release (image tag or digest) of every app in every environment, in promotion\n"
        "order, and where a promotion is pending.",
        """
        tools/gitops status
        tools/gitops status --app shop --json
        """,
    )
    status.add_argument("--app", help="only this app")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def run_validate(
    repo_path: Path,
    changed_since: str | None = None,
    shard: str | None = None,
    shard_report: Path | None = None,
) -> int:
    # Imported here so that --help works before tools/requirements.txt is installed.
    from .branch_check import branch_warning
    from .repo import load_repo
    from .shards import parse_shard, write_report
    from .validate import validate_repo

    if shard_report is not None and shard is None:
        raise UsageError("--shard-report needs --shard")
    share = parse_shard(shard) if shard is not None else None
    repo = load_repo(repo_path)
    report = validate_repo(repo, changed_since, share)
    if shard_report is not None and report.shard is not None:
        write_report(shard_report, report.shard)
    for problem in report.problems:
        print(problem)
    print(report.summary + (f" (shard {share})" if share else ""), file=sys.stderr)
    if warning := branch_warning(repo.root, str(repo.settings.get("target_revision") or "")):
        print(warning, file=sys.stderr)
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def run_update(args: argparse.Namespace) -> int:
    from .repo import find_root
    from .update import parse_data, update_apps

    root = find_root(args.repo.resolve())
    return update_apps(root, args.app, parse_data(args.data), args.vcs_ref, jobs=max(args.jobs, 1))


def run_promote(args: argparse.Namespace) -> int:
    from .promote import promote, resolve_request
    from .repo import load_repo

    repo = load_repo(args.repo)
    request = resolve_request(
        repo, args.app, args.all, args.source, args.target, args.from_ref, args.force, args.require_healthy
    )
    return promote(repo, request, dry_run=args.dry_run, branch=args.branch)


def run_release(args: argparse.Namespace) -> int:
    from .release_command import release, resolve_request
    from .repo import load_repo

    repo = load_repo(args.repo)
    request = resolve_request(repo, args.app, args.tag, args.digest, args.image, args.chart_version)
    return release(repo, request, branch=args.branch)


def run_status(args: argparse.Namespace) -> int:
    from .repo import load_repo
    from .status import print_status

    return print_status(load_repo(args.repo), args.app, args.json)


def run_diff(args: argparse.Namespace) -> int:
    from .changes import require_commit
    from .rendered_diff import print_diff
    from .repo import load_repo

    repo = load_repo(args.repo)
    require_commit(repo, args.base, "--base")
    return print_diff(repo, args.base, args.markdown)


def run_shards(args: argparse.Namespace) -> int:
    from .repo import load_repo
    from .shards import merge, parse_shard, planned

    repo = load_repo(args.repo)
    if args.step in ("plan", "pipeline"):
        sizes = {} if args.overlays_per_shard is None else {"per_shard": args.overlays_per_shard}
        overlays = len(repo.overlays())
        shards = planned(overlays, **sizes)
        if args.step == "plan":
            print(json.dumps(shards))
        else:
            from .gitlab_shards import child_pipeline

            print(child_pipeline(shards, overlays, args.image), end="")
        return EXIT_OK
    if args.step == "list":
        for overlay in parse_shard(args.shard).overlays(repo.overlays()):
            print(overlay.path)
        return EXIT_OK
    result = merge(repo, args.reports)
    for problem in result.problems:
        print(problem)
    print(result.summary, file=sys.stderr)
    return EXIT_PROBLEMS if result.problems else EXIT_OK


COMMANDS = {
    "validate": lambda args: run_validate(args.repo, args.changed_since, args.shard, args.shard_report),
    "shards": run_shards,
    "promote": run_promote,
    "release": run_release,
    "status": run_status,
    "diff": run_diff,
    "update": run_update,
}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # --help
        return EXIT_USAGE if exit_.code else EXIT_OK
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except ModuleNotFoundError as error:
        print(f"missing Python package {error.name}: {INSTALL_HINT}", file=sys.stderr)
        return EXIT_USAGE
    except (MissingGitIdentityError, BrokenFileError) as error:
        print(error, file=sys.stderr)
        return EXIT_PROBLEMS
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print(unexpected(args.command, error), file=sys.stderr)
        return EXIT_PROBLEMS
    except (KeyboardInterrupt, Interrupted) as interruption:
        # promote and release put back what they wrote as the interruption unwinds them; an
        # interrupted update leaves its marker, which the next run names with how to recover.
        name = "Ctrl-C" if isinstance(interruption, KeyboardInterrupt) else interruption.signal_name
        print(f"tools/gitops {args.command}: interrupted ({name})", file=sys.stderr)
        return EXIT_PROBLEMS


def unexpected(command: str, error: Exception) -> str:
    """One line for an error no check foresaw: what the user can act on first (a file an
    OSError names), else the error itself, marked as a bug of the tool."""
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return (
        f"tools/gitops {command}: unexpected {type(error).__name__}: {' '.join(str(error).split())} "
        f"(a bug in tools/gitops; {DEBUG_VARIABLE}=1 shows where)"
    )
