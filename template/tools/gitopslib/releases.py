"""Releases: what `release/` of an overlay holds, how two releases compare, where one came from.

A release is everything in `environments/<env>/<app>/release/` (the files directly in it, as
promote copies them): the Kustomize Component (image with tag or digest, and any
release-scoped config the team adds there) and the files it uses. Environment-bound settings
(namespace, replicas, resources, hosts) live in the overlay's kustomization.yaml and are never
part of a release. `provenance.yaml` records where a promoted release came from; it differs
per environment by design and is not part of the release itself.

`files_at`, `decoded` and `mapping` read a release for promotion: from a commit, and with a
one-line `path: reason` (ReleaseError) for what cannot be read, instead of a traceback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from . import fast_yaml
from .errors import BrokenFileError
from .git import cat_files, file_at, git
from .layout import (
    ENVIRONMENT_CHART_FIELDS,
    KUSTOMIZATION,
    PROVENANCE,
    chart_entries,
    environment_files,
    image_entries,
)
from .problems import Problem
from .repo import yaml_reason

NOT_RELEASE_KEYS = {"apiVersion", "kind"}


def parse(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        data = fast_yaml.load(text)
    except yaml.YAMLError:
        # A release committed broken stays in history: the history reads it as no release,
        # the work-tree readers (read_release) name the problem.
        return None
    return data if isinstance(data, dict) else None


def read_text(root: Path, path: str, ref: str | None = None) -> str | None:
    """A file from the work tree, or as it was at `ref` (None when absent)."""
    if ref is None:
        file = root / path
        return file.read_text() if file.is_file() else None
    content = file_at(root, ref, path)
    return content.decode() if content is not None else None


def released(release: dict[str, Any] | None) -> dict[str, Any]:
    """What of a parsed release moves with it: all but its kind and its chart entries' fields
    that are the environment's (namespace, values)."""
    content = {k: v for k, v in (release or {}).items() if k not in NOT_RELEASE_KEYS}
    if chart_entries(content):
        content["helmCharts"] = [
            {k: v for k, v in entry.items() if k not in ENVIRONMENT_CHART_FIELDS}
            if isinstance(entry, dict)
            else entry
            for entry in content["helmCharts"]
        ]
    return content


def chart_names_problem(source: Any, target: Any) -> str:
    """Why promote cannot carry the target's environment fields over (empty when it can): both
    releases must hold the same charts by name, each once. A chart added, renamed or removed in
    the source would leave the target with another environment's namespace and values."""
    names = [[entry.get("name") for entry in chart_entries(side)] for side in (source, target)]
    if sorted(map(str, names[0])) == sorted(map(str, names[1])) and len(set(map(str, names[0]))) == len(
        names[0]
    ):
        return ""
    shown = [", ".join(map(str, side)) or "none" for side in names]
    return (
        f"helmCharts: the source holds {shown[0]}, this release {shown[1]}: promote moves the versions "
        "of the same charts only; change the charts of each environment in its own release"
    )


def keep_environment_fields(source: Any, target: Any) -> None:
    """Puts the target's environment fields (ENVIRONMENT_CHART_FIELDS) into the source's chart
    entry of the same name, in place: what promote writes keeps the target's namespace and values.
    Works on plain and round-trip YAML alike; chart_names_problem says when the names differ."""
    kept = {entry.get("name"): entry for entry in chart_entries(target)}
    for entry in chart_entries(source):
        if (own := kept.get(entry.get("name"))) is None:
            continue
        for field in ENVIRONMENT_CHART_FIELDS:
            if field in own:
                entry[field] = own[field]
            else:
                entry.pop(field, None)


def identity(release: dict[str, Any] | None, files: Mapping[str, bytes] | None = None) -> str:
    """Equal for equal releases, whatever the comments and formatting of their kustomization.yaml.

    `release` is the parsed kustomization.yaml; `files` the files of release/ by name (its
    kustomization.yaml, provenance.yaml and the chart entries' values files are left out here),
    compared as bytes, as promote copies them. A chart entry's namespace and values are the
    environment's: two environments running the same chart version and images hold one release.
    A release of kustomization.yaml alone keeps the identity it had when nothing else counted:
    provenance records written then still name it.
    """
    content: Any = released(release)
    not_released = {KUSTOMIZATION, PROVENANCE, *environment_files(release)}
    others = {
        name: hashlib.sha256(data).hexdigest()
        for name, data in (files or {}).items()
        if name not in not_released
    }
    if others:
        content = [content, others]
    # default=str: YAML reads an unquoted tag such as 2024-01-01 as a date.
    return "sha256:" + hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def folder_identity(files: Mapping[str, bytes], errors: str = "strict") -> str:
    """The identity of a release folder's files by name. Its kustomization.yaml is decoded with
    `errors` (UnicodeDecodeError when strict); one that is not YAML counts as empty."""
    text = files[KUSTOMIZATION].decode(errors=errors) if KUSTOMIZATION in files else None
    return identity(parse(text), files)


# Marks a provenance record whose `release` is the identity of the whole folder. Records written
# before (by promote of an earlier template release) name the identity of kustomization.yaml alone.
IDENTITY_FIELD, FOLDER_IDENTITY = "identity", "release-folder"


def recorded(record: Mapping[str, Any], files: Mapping[str, bytes]) -> bool:
    """Whether a provenance record names the release these files make (decoded leniently)."""
    if record.get("release") == folder_identity(files, errors="replace"):
        return True
    if record.get(IDENTITY_FIELD) == FOLDER_IDENTITY or KUSTOMIZATION not in files:
        return False
    legacy = identity(parse(files[KUSTOMIZATION].decode(errors="replace")))
    return bool(record.get("release") == legacy)


def committed_identity(files: Mapping[str, bytes] | None) -> str | None:
    """A release folder's identity as a commit left it; None when it holds no release (no
    kustomization.yaml). A file committed as non-UTF-8 stays in history; validate names it in the
    work tree."""
    if not files or KUSTOMIZATION not in files:
        return None
    return folder_identity(files, errors="replace")


def forced(root: Path, directory: str) -> bool:
    """Whether the release in `directory` was promoted with --force, as its provenance.yaml
    records for exactly the files it holds now."""
    path = root / directory / PROVENANCE
    try:
        provenance = fast_yaml.load(path.read_text()) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return (
        isinstance(provenance, dict)
        and provenance.get("forced") is True
        and recorded(provenance, read_files(root, directory))
    )


def read_files(root: Path, directory: str) -> dict[str, bytes]:
    """The files directly in `directory` of the work tree, by name (empty when it is absent);
    provenance.yaml left out. A file that cannot be read is a ReleaseError."""
    folder = root / directory
    if not folder.is_dir():
        return {}
    files = {}
    for path in sorted(folder.iterdir()):
        if path.name == PROVENANCE or not path.is_file():
            continue
        try:
            files[path.name] = path.read_bytes()
        except OSError as error:
            raise ReleaseError(f"{directory}/{path.name}", error.strerror or str(error)) from None
    return files


def describe(release: dict[str, Any] | None) -> str:
    """Short label: each chart with its version, then the tag or digest of each image."""
    if not release:
        return "(none)"
    labels = [f"{entry.get('name')} {entry.get('version')}" for entry in chart_entries(release)]
    for image in image_entries(release):
        label = image.get("digest") or image.get("newTag") or "?"
        labels.append(str(label)[:19] if str(label).startswith("sha256:") else str(label))
    return ", ".join(labels) or "(no image)"


class ReleaseError(BrokenFileError):
    """A release file that cannot be used, as one problem: `path: reason`."""

    @property
    def problem(self) -> Problem:
        return Problem(self.path, self.reason)


def names_in(root: Path, commit: str, directories: list[str]) -> dict[str, dict[str, str]]:
    """The files directly in each of `directories` as committed in `commit`: name -> blob id
    (empty when absent), from one git process for them all.

    Read with ls-tree rather than `git show commit:path`: its pathspec and the paths it prints
    are relative to `root` even when the GitOps repository is a folder of a larger git repository.
    """
    found: dict[str, dict[str, str]] = {directory: {} for directory in directories}
    if not directories:
        return found
    listing = git(root, "ls-tree", "-z", commit, "--", *(f"{directory}/" for directory in directories))
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        _mode, kind, blob = meta.split()
        folder, _, name = path.rpartition("/")
        if kind == "blob" and folder in found:
            found[folder][name] = blob
    return found


def names_at(root: Path, commit: str, directory: str) -> dict[str, str]:
    """The files directly in `directory` as committed in `commit`: name -> blob id (empty when absent)."""
    return names_in(root, commit, [directory])[directory]


def folders_at(root: Path, commit: str, directories: list[str]) -> dict[str, dict[str, bytes]]:
    """The files directly in each of `directories` as committed in `commit`, by name, as bytes:
    two git processes for any number of folders."""
    listings = names_in(root, commit, directories)
    blobs = sorted({blob for names in listings.values() for blob in names.values()})
    read = cat_files(root, blobs)
    contents = {blob: content for blob, (_, _, content) in zip(blobs, read, strict=True)}
    return {
        folder: {name: contents[blob] for name, blob in names.items()} for folder, names in listings.items()
    }


def files_at(root: Path, commit: str, directory: str) -> dict[str, bytes]:
    """The files directly in `directory` as committed in `commit`, by name, as bytes."""
    return folders_at(root, commit, [directory])[directory]


def decoded(path: str, content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise ReleaseError(path, f"not UTF-8 text (line {line})") from None


def mapping(path: str, text: str) -> dict[str, Any]:
    """The release a kustomization.yaml holds; refuses what is not a YAML mapping."""
    try:
        data = fast_yaml.load(text)
    except yaml.YAMLError as error:
        raise ReleaseError(path, f"not valid YAML: {yaml_reason(error)}") from None
    if not isinstance(data, dict):
        raise ReleaseError(path, f"must be a YAML mapping, not {type(data).__name__}")
    return data
