"""What a release may name an image by: an immutable tag or a digest, and the version label it makes.

The one place of this rule: copier.yml's `image_tag` question (extensions/answer_checks.py,
which loads this file by path) and `tools/gitops release` both check a release with
`image_tag_problem`, so an answer and a command refuse the same values with the same words.
Standard library only, and no imports from gitopslib, for the same reason as layout.py.
"""

from __future__ import annotations

import re
from typing import Any

DIGEST_PREFIX = "sha256:"
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", re.ASCII)
IMAGE_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$", re.ASCII)
# Kubernetes label values: what `app.kubernetes.io/version` may hold.
LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", re.ASCII)
MAX_LABEL_VALUE = 63
VERSION_LABEL = "app.kubernetes.io/version"


def shown(value: Any) -> str:
    """The value as the user typed it, short enough for a one-line message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_digest(reference: str) -> bool:
    """Whether a release names its image by digest rather than by tag (not whether it is valid)."""
    return reference.startswith(DIGEST_PREFIX)


def image_tag_problem(tag: Any, question: str = "image_tag") -> str:
    """Why `tag` cannot name a release (empty when it can): `question` starts the message."""
    if not isinstance(tag, str) or not tag:
        return f"{question}: must be a non-empty string, got {shown(tag)}"
    if is_digest(tag):
        return digest_problem(tag, question)
    if tag.lower() == "latest":
        return f"{question}: 'latest' is refused: releases must be immutable tags or digests"
    if not IMAGE_TAG.fullmatch(tag):
        return (
            f"{question}: {shown(tag)} is not an image tag "
            "(up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-')"
        )
    return ""


def digest_problem(digest: str, question: str) -> str:
    """Why `digest` is not an image digest (empty when it is)."""
    if IMAGE_DIGEST.fullmatch(digest):
        return ""
    return f"{question}: {shown(digest)} is not a digest (sha256: followed by 64 lowercase hex digits)"


def version_label(reference: str) -> str | None:
    """The `app.kubernetes.io/version` of a release: its tag when that is a valid label value;
    None for a digest (not a version anyone reads) or a tag that no label can hold."""
    if is_digest(reference) or len(reference) > MAX_LABEL_VALUE or not LABEL_VALUE.fullmatch(reference):
        return None
    return reference
