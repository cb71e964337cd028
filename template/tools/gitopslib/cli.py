"""Command line of tools/gitops. Exit codes: 0 ok, 1 problems found, 2 usage error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import UsageError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
INSTALL_HINT = "python3 -m pip install -r tools/requirements.txt"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tools/gitops", description="Tools of this GitOps repository.")
    parser.add_argument("-C", "--repo", type=Path, default=Path.cwd(), help="repository (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "validate",
        help="build every overlay, validate every object strictly, check cross-file invariants",
    )
    update = commands.add_parser(
        "update",
        help="copier update every app (or one), one commit per app, stop at the first conflict",
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
    seed = commands.add_parser(
        "seed-releases",
        help="start new environments of an app from the release before them (run by copier update)",
    )
    seed.add_argument("--app", required=True)
    seed.add_argument("--environments", required=True, help="comma-separated, in promotion order")
    return parser


def run_validate(repo_path: Path) -> int:
    # Imported here so that --help works before tools/requirements.txt is installed.
    from .repo import load_repo
    from .validate import validate_repo

    repo = load_repo(repo_path)
    report = validate_repo(repo)
    for problem in report.problems:
        print(problem)
    print(report.summary, file=sys.stderr)
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def run_update(args: argparse.Namespace) -> int:
    from .repo import find_root
    from .update import parse_data, update_apps

    root = find_root(args.repo.resolve())
    return update_apps(root, args.app, parse_data(args.data), args.vcs_ref)


def run_seed(args: argparse.Namespace) -> int:
    from .seed import seed_new_releases

    for line in seed_new_releases(args.repo.resolve(), args.app, args.environments.split(",")):
        print(line)
    return EXIT_OK


COMMANDS = {"validate": lambda args: run_validate(args.repo), "update": run_update, "seed-releases": run_seed}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    try:
        return COMMANDS[args.command](args)
    except ModuleNotFoundError as error:
        print(f"missing Python package {error.name}: {INSTALL_HINT}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
