"""A real Helm chart repository on 127.0.0.1 for the tests, and the helm binary they render with.

The chart under tests/charts/hello is packaged by the real helm (built from source by
`python3 scripts/dev.py test`, the release Argo CD 3.5 bundles) at each version the tests ask
for, indexed with `helm repo index`, and served by Python's own HTTP server on free ports of
127.0.0.1: over plain HTTP (the tests of Kustomize's own behaviour), and over HTTPS with a
certificate for 127.0.0.1 made by openssl, which helm trusts through SSL_CERT_FILE (kubectl hands
its environment to helm): the `https://` repository a generated repository's `chart_repo` names.
Nothing leaves the machine.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import ssl
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
    url: str  # http://127.0.0.1:<port>
    folder: Path
    secure_url: str  # https://127.0.0.1:<port>: the same charts
    certificate: Path  # what SSL_CERT_FILE names for helm to trust secure_url

    def environment(self) -> dict[str, str]:
        """The environment a build of a chart from secure_url runs with."""
        return {**os.environ, "SSL_CERT_FILE": str(self.certificate)}


def certificate_for_localhost(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl not found: the charts' TLS certificate needs it")
    key, certificate = folder / "key.pem", folder / "certificate.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(certificate),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, certificate


class WorkerTrust:
    """What trust_for_this_worker changed in os.environ, put back by close()."""

    def __init__(self, changed: dict[str, str | None]) -> None:
        self.changed = changed

    def close(self) -> None:
        for name, value in self.changed.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def trust_for_this_worker(folder: Path, certificate: Path) -> WorkerTrust:
    """Every process this worker starts (tools/gitops, kubectl and the helm it runs) trusts the
    repository's certificate beside the system's CAs, and finds the pinned helm first on PATH, as
    a user's machine would have them: a generated repository's `chart_repo` names secure_url, and
    its builds run through the same code as any other test's."""
    system = ssl.get_default_verify_paths().cafile
    bundle = folder / "ca-bundle.pem"
    bundle.write_bytes((Path(system).read_bytes() if system else b"") + certificate.read_bytes())
    changed = {name: os.environ.get(name) for name in ("SSL_CERT_FILE", "PATH")}
    os.environ["SSL_CERT_FILE"] = str(bundle)
    os.environ["PATH"] = f"{helm().parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return WorkerTrust(changed)


def serve(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


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
    charts = folder / "charts"
    package_charts(charts)
    key, certificate = certificate_for_localhost(folder)
    handler = functools.partial(QuietHandler, directory=str(charts))
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificate), str(key))
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    threads = [serve(plain), serve(secure)]
    trusted = trust_for_this_worker(folder, certificate)
    try:
        yield ChartRepository(
            url=f"http://127.0.0.1:{plain.server_address[1]}",
            folder=charts,
            secure_url=f"https://127.0.0.1:{secure.server_address[1]}",
            certificate=certificate,
        )
    finally:
        trusted.close()
        for server in (plain, secure):
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join()
        shutil.rmtree(folder, ignore_errors=True)
