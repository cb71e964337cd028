"""`tools/gitops seed-releases`: a new environment starts from the release before it.

When an environment is added (a repo-level `copier update --data environments=...`), the
template writes the new overlay's release/ from the app's first release (its image_tag
answer), which is stale by then. This command, run by the template's after-update
migration, copies the release of the environment before it into every release file git
does not track yet. Only the standard library: it runs under Copier's own Python.
"""

from __future__ import annotations

from pathlib import Path

from .git import untracked_paths

RELEASE_FILE = "environments/{env}/{app}/release/kustomization.yaml"


def _split_at_release(text: str) -> tuple[list[str], list[str]]:
    """The lines before the top-level `images:` field, and the lines from it on."""
    lines = text.splitlines(keepends=True)
    split = next((i for i, line in enumerate(lines) if line.startswith("images:")), 0)
    return lines[:split], lines[split:]


def seed_new_releases(root: Path, app: str, environments: list[str]) -> list[str]:
    """Seeds each untracked release file from the previous environment; returns what it did."""
    new_files = untracked_paths(root, f"environments/*/{app}/release/kustomization.yaml")
    done = []
    for position, env in enumerate(environments):
        target = RELEASE_FILE.format(env=env, app=app)
        if position == 0 or target not in new_files:
            continue
        previous = environments[position - 1]
        source = root / RELEASE_FILE.format(env=previous, app=app)
        if not source.is_file():
            continue
        header, _ = _split_at_release((root / target).read_text())
        _, release = _split_at_release(source.read_text())
        note = f"# Seeded from {previous}'s release when {env} was added.\n"
        (root / target).write_text("".join([*header, note, *release]))
        done.append(f"{target}: seeded from {previous}")
    return done
