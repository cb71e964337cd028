"""YAML read with libyaml's C parser when PyYAML was built with it (the wheels are).

The same YAML 1.1 safe loading as `yaml.safe_load`, about five times faster: validate reads
every built object and every file of the repository, and half of its time went into PyYAML's
pure-Python scanner. The files under argocd/ are read by argocd_objects.load_documents, which
also refuses anchors, aliases and merge keys.

Every loader here reports a value it cannot construct as a YAMLError with its line, like any
other unreadable input (see ValuesAsErrors).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

# What PyYAML's safe constructors raise for a well-formed scalar they cannot turn into a value:
# `2024-02-30` and `!!timestamp 2020-13-01` (ValueError), `!!int abc`, `!!float x`, `!!bool maybe`
# (KeyError), `!!timestamp abc` (AttributeError: its pattern did not match).
_CONSTRUCTOR_FAILURES = (ValueError, LookupError, AttributeError, TypeError, OverflowError)


class ValuesAsErrors:
    """A loader mix-in: a value the constructor fails on becomes a ConstructorError marked with
    its node's line, so that every `except yaml.YAMLError` sees it instead of a traceback."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except _CONSTRUCTOR_FAILURES as error:
            what = f"{node.tag.rsplit(':', 1)[-1]} value"
            if isinstance(node, yaml.ScalarNode):
                what += f" {str(node.value)[:60]!r}"
            # KeyError and AttributeError say nothing a reader could use ('maybe', 'NoneType' ...).
            detail = f": {error}" if isinstance(error, (ValueError, OverflowError)) else ""
            reason = f"cannot read the {what}{detail}"
            raise yaml.constructor.ConstructorError(None, None, reason, node.start_mark) from None


class PureSafeLoader(ValuesAsErrors, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader."""


_C_SAFE_LOADER: type[Any] | None = getattr(yaml, "CSafeLoader", None)
CSafeLoader: type[Any] | None = (
    type("CSafeLoader", (ValuesAsErrors, _C_SAFE_LOADER), {}) if _C_SAFE_LOADER else None
)
SafeLoader: type[Any] = CSafeLoader or PureSafeLoader


def load(text: str | bytes) -> Any:
    return yaml.load(text, Loader=SafeLoader)


def load_all(text: str | bytes) -> Iterator[Any]:
    return yaml.load_all(text, Loader=SafeLoader)
