"""Releases: what `release/` of an overlay holds, how two releases compare, where one came from.

A release is everything in `environments/<env>/<app>/release/`: the Kustomize Component
(image with tag or digest, and any release-scoped config the team adds there) and the files
it uses. Environment-bound settings (namespace, replicas, resources, hosts) live in the
overlay's kustomization.yaml and are never part of a release. `provenance.yaml` records
where a promoted release came from; it is not part of the release itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from .git import file_at

RELEASE_DIR = "environments/{env}/{app}/release"
RELEASE_FILE = RELEASE_DIR + "/kustomization.yaml"
PROVENANCE_NAME = "provenance.yaml"
PROVENANCE_FILE = RELEASE_DIR + "/" + PROVENANCE_NAME
NOT_RELEASE_KEYS = {"apiVersion", "kind"}


def release_file(env: str, app: str) -> str:
    return RELEASE_FILE.format(env=env, app=app)


def parse(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else None


def read_text(root: Path, path: str, ref: str | None = None) -> str | None:
    """A file from the work tree, or as it was at `ref` (None when absent)."""
    if ref is None:
        file = root / path
        return file.read_text() if file.is_file() else None
    content = file_at(root, ref, path)
    return content.decode() if content is not None else None


def identity(release: dict[str, Any] | None) -> str:
    """Equal for equal releases, whatever their comments and formatting."""
    content = {k: v for k, v in (release or {}).items() if k not in NOT_RELEASE_KEYS}
    return "sha256:" + hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def describe(release: dict[str, Any] | None) -> str:
    """Short label: the tag or digest of each image."""
    if not release:
        return "(none)"
    labels = []
    for image in release.get("images") or []:
        if not isinstance(image, dict):
            continue
        label = image.get("digest") or image.get("newTag") or "?"
        labels.append(str(label)[:19] if str(label).startswith("sha256:") else str(label))
    return ", ".join(labels) or "(no image)"
