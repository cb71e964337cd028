"""After-update migration: an environment added by an update starts from the release before it.

When an environment is added (a repo-level `copier update --data environments=...`), the
template writes the new overlay's release/ from the app's first release (its image_tag
answer), which is stale by then. This script copies the release of the environment before it
into every release file of the app that git does not track yet.

It belongs to the template repository, not to generated repositories: copier.yml's after-stage
`_migrations` runs it from the clone of the template version being updated to
(`{{ _copier_conf.src_path }}/migrations/seed_releases.py`), in the updated repository, under
Copier's own Python. Only `template/` is rendered into generated repositories, so this folder
never lands there. Only the standard library; the layout's names come from the same clone's
template/tools/gitopslib/layout.py, loaded by path.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

LAYOUT_FILE = Path(__file__).resolve().parent.parent / "template/tools/gitopslib/layout.py"
_spec = importlib.util.spec_from_file_location("_gitops_template_layout", LAYOUT_FILE)
if _spec is None or _spec.loader is None:
    raise ImportError(f"{LAYOUT_FILE}: cannot be loaded")
_layout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_layout)
release_file: Callable[[str, str], str] = _layout.release_file
SEED_NOTE = "# Seeded from {previous}'s release when {env} was added.\n"
SEED_NOTE_START = "# Seeded from "
# A chart's entry as the template writes it (before `images:`): the fields that are the release's,
# which the new environment takes from the one before it; its namespace and values stay its own.
CHART_FIELD = re.compile(r"^(?P<lead>\s+(?:- )?)(?P<field>name|repo|version): (?P<value>.*)$")
VALUES_FILE = re.compile(r"^\s+valuesFile: (?P<value>.*)$")


def untracked_release_files(root: Path, app: str) -> set[str]:
    """The app's release files that git does not track yet (not ignored), relative to `root`."""
    result = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "--", release_file("*", app)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        # git's first line names the problem; more may follow ("Stopping at filesystem boundary").
        reason = next(iter(result.stderr.strip().splitlines()), f"exit {result.returncode}")
        raise RuntimeError(f"git ls-files: {reason}")
    return set(result.stdout.splitlines())


def split_at_release(text: str) -> tuple[list[str], list[str]]:
    """The lines before the top-level `images:` field, and the lines from it on."""
    lines = text.splitlines(keepends=True)
    split = next((i for i, line in enumerate(lines) if line.startswith("images:")), 0)
    return lines[:split], lines[split:]


def chart_fields(lines: list[str]) -> dict[str, str]:
    """The released fields of the chart entry in these lines (after `helmCharts:`), by name."""
    found: dict[str, str] = {}
    in_charts = False
    for line in lines:
        if not line.startswith((" ", "#")):
            in_charts = line.startswith("helmCharts:")
        elif in_charts and (match := CHART_FIELD.match(line.rstrip("\n"))):
            found.setdefault(match["field"], match["value"])
    return found


def with_chart_fields(header: list[str], released: dict[str, str]) -> list[str]:
    """`header` with its chart entry's released fields set to `released` (its other lines kept)."""
    result, in_charts = [], False
    for line in header:
        if not line.startswith((" ", "#")):
            in_charts = line.startswith("helmCharts:")
        match = CHART_FIELD.match(line.rstrip("\n")) if in_charts else None
        if match and match["field"] in released:
            line = f"{match['lead']}{match['field']}: {released[match['field']]}\n"
        result.append(line)
    return result


def values_files(lines: list[str]) -> set[str]:
    """The values files a chart entry names: the environment's own, never copied."""
    names = set()
    for line in lines:
        if match := VALUES_FILE.match(line.rstrip("\n")):
            value = match["value"].split(" #", 1)[0].strip()
            names.add(json.loads(value) if value.startswith('"') else value.strip("'"))
    return names


def copy_release_files(
    source: Path, target: Path, root: Path, own: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """The rest of a release (patches, config its kustomization lists), as promote copies it:
    the files directly in release/, except its kustomization, where it came from and the
    environment's own (`own`: its chart values)."""
    done = []
    skipped = {_layout.KUSTOMIZATION, _layout.PROVENANCE, *own}
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.is_symlink() and path.name not in skipped:
            (target / path.name).write_bytes(path.read_bytes())
            copied = (target / path.name).relative_to(root).as_posix()
            done.append(f"{copied}: copied from {source.parent.parent.name}")
    return done


def seed_new_releases(root: Path, app: str, environments: list[str]) -> list[str]:
    """Seeds each untracked release file from the previous environment; returns what it did.

    Idempotent: a file seeded by an earlier run (still untracked) is seeded again to the same text.
    """
    new_files = untracked_release_files(root, app)
    done = []
    for position, env in enumerate(environments):
        target = release_file(env, app)
        if position == 0 or target not in new_files:
            continue
        previous = environments[position - 1]
        source = root / release_file(previous, app)
        if not source.is_file():
            continue
        header, _ = split_at_release((root / target).read_text(encoding="utf-8"))
        header = [line for line in header if not line.startswith(SEED_NOTE_START)]
        source_header, release = split_at_release(source.read_text(encoding="utf-8"))
        header = with_chart_fields(header, chart_fields(source_header))
        note = SEED_NOTE.format(previous=previous, env=env)
        (root / target).write_text("".join([*header, note, *release]), encoding="utf-8")
        done.append(f"{target}: seeded from {previous}")
        own = values_files(header) | values_files(source_header)
        done += copy_release_files(source.parent, (root / target).parent, root, own)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="seed_releases.py", description="Start new environments of an app from the release before them."
    )
    parser.add_argument("--app", required=True)
    parser.add_argument("--environments", required=True, help="comma-separated, in promotion order")
    args = parser.parse_args(argv)
    try:
        done = seed_new_releases(Path.cwd(), args.app, args.environments.split(","))
    except (OSError, RuntimeError, UnicodeDecodeError) as error:
        print(f"seed_releases.py: {error}", file=sys.stderr)
        return 1
    for line in done:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
