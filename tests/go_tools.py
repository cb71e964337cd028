"""The tools `python3 scripts/dev.py test` builds with `go install` into its cache, as tests find them."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.dev import GoTool


def built_tool(tool: GoTool) -> Path:
    """The tool's binary, or a failure that says how to build it. Also checks that the binary is
    the tool's module at its version: `go install` stamps no release into most tools' own
    version output, but Go's build information in the binary names the module's version."""
    found = tool.path()
    if not found.is_file():
        pytest.fail(
            f"{tool.name} {tool.version} not found at {found}: `python3 scripts/dev.py test` builds "
            f"it (Go needed), or run: {tool.build_command()}"
        )
    stamp = f"{tool.module}\t{tool.version}\t".encode()
    assert stamp in found.read_bytes(), f"{found} is not {tool.module} {tool.version}"
    return found
