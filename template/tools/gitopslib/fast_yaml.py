"""YAML read with libyaml's C parser when PyYAML was built with it (the wheels are).

The same YAML 1.1 safe loading as `yaml.safe_load`, about five times faster: validate reads
every built object and every file of the repository, and half of its time went into PyYAML's
pure-Python scanner. The files under argocd/ are read by argocd_objects.load_documents, which
also refuses anchors, aliases and merge keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

SafeLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str | bytes) -> Any:
    return yaml.load(text, Loader=SafeLoader)


def load_all(text: str | bytes) -> Iterator[Any]:
    return yaml.load_all(text, Loader=SafeLoader)
