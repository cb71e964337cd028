"""Comment-preserving YAML edits (ruamel.yaml round trip) for the files promotion changes."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as YAMLError  # what load() raises; callers name the file


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    # The template writes sequences indented under their key: `images:\n  - name: ...`.
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def load(text: str) -> Any:
    return _yaml().load(text)


def dump(data: Any) -> str:
    stream = io.StringIO()
    _yaml().dump(data, stream)
    return stream.getvalue()


def assign(target: Any, source: Any) -> Any:
    """Make `target` equal to `source`, changing only what differs, so comments stay put."""
    if isinstance(target, CommentedMap) and isinstance(source, dict):
        for key in [k for k in target if k not in source]:
            del target[key]
        for key, value in source.items():
            target[key] = assign(target[key], value) if key in target else value
        return target
    if isinstance(target, CommentedSeq) and isinstance(source, list) and len(target) == len(source):
        for index, value in enumerate(source):
            target[index] = assign(target[index], value)
        return target
    return source
