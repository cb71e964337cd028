"""A real Helm chart repository on 127.0.0.1 for the tests, and the helm binary they render with.

The chart under tests/charts/hello is packaged by the real helm (built from source by
`python3 scripts/dev.py test`, the release Argo CD 3.5 bundles) at each version the tests ask
for, indexed with `helm repo index`, and served by Python's own HTTP server on a free port of
127.0.0.1: what Kustomize's helmCharts fetches from an `https://` repository, over plain HTTP
(no certificate to make). Nothing leaves the machine.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts import dev
from tests.go_tools import built_tool

CHARTS = Path(__file__).resolve().parent / "charts"
# The versions the repository serves: (chart version, app version).
VERSIONS = (("0.1.0", "1.0.0"), ("0.2.0", "1.1.0"))


def helm() -> Path:
    # `go install` stamps only "v4.2" into `helm version`: built_tool reads Go's build information.
    return built_tool(dev.HELM)


def run_helm(*args: str, cwd: Path) -> str:
    result = subprocess.run([str(helm()), *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"helm {' '.join(args)}: {result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class ChartRepository:
    url: str
    folder: Path


def package_charts(folder: Path) -> None:
    """Every chart of tests/charts at every version of VERSIONS, and the repository's index.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    for chart in sorted(path for path in CHARTS.iterdir() if (path / "Chart.yaml").is_file()):
        for version, app_version in VERSIONS:
            run_helm("package", str(chart), "--version", version, "--app-version", app_version, cwd=folder)
    run_helm("repo", "index", ".", cwd=folder)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Not on the test's output."""


@pytest.fixture(scope="session")
def chart_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChartRepository]:
    folder = tmp_path_factory.mktemp("chart-repository")
    package_charts(folder)
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ChartRepository(url=f"http://127.0.0.1:{server.server_address[1]}", folder=folder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        shutil.rmtree(folder, ignore_errors=True)
