"""The tools `python3 scripts/dev.py test` builds with `go install` into its cache, as tests find them."""

from __future__ import annotations

from pathlib import Path

import pytest


def built_tool(name: str, found: Path, version: str, build_command: str, module: str = "") -> Path:
    """`found`, or a failure that says how to build it. With `module`, also checks that the binary
    is that module at `version`: `go install` stamps no release into most tools' own version
    output, but Go's build information in the binary names the module's version."""
    if not found.is_file():
        pytest.fail(
            f"{name} {version} not found at {found}: `python3 scripts/dev.py test` builds it "
            f"(Go needed), or run: {build_command}"
        )
    if module:
        assert f"{module}\t{version}\t".encode() in found.read_bytes(), f"{found} is not {module} {version}"
    return found
