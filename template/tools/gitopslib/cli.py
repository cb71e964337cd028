"""Command line of tools/gitops. Exit codes: 0 ok, 1 problems found, 2 usage error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import UsageError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
INSTALL_HINT = "python3 -m pip install -r tools/requirements.txt"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tools/gitops", description="Validate (and later promote) this GitOps repository."
    )
    parser.add_argument("-C", "--repo", type=Path, default=Path.cwd(), help="repository (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "validate",
        help="build every overlay, validate every object strictly, check cross-file invariants",
    )
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


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    try:
        if args.command == "validate":
            return run_validate(args.repo)
    except ModuleNotFoundError as error:
        print(f"missing Python package {error.name}: {INSTALL_HINT}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE
