"""A real OCI registry on 127.0.0.1 holding the tests' chart, for helmCharts entries with `oci://`.

go-containerregistry's in-memory registry (built by `python3 scripts/dev.py test`) takes the
chart of tests/charts/hello at every version of tests/helm_repository.VERSIONS through the real
`helm push` (plain HTTP, on its own port). Kustomize pulls `oci://` charts over HTTPS only, with
no way to pass helm's --plain-http, so the registry is reached through TLS: a small proxy in this
process on another port of 127.0.0.1, with a certificate for 127.0.0.1 made by openssl, which
helm trusts through SSL_CERT_FILE (kubectl hands its environment to helm). The proxy only
forwards bytes; every answer is the registry's.
"""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts import dev
from tests.api_server import free_ports, stop, wait_until
from tests.go_tools import built_tool
from tests.helm_repository import certificate_for_localhost, package_charts, run_helm

READY_TIMEOUT = 30.0
# Headers the proxy sets itself: the body is read whole and sent with its own length.
HOP_BY_HOP = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding", "host"})


@dataclass(frozen=True)
class OciRegistry:
    url: str  # oci://127.0.0.1:<tls port>/charts
    certificate: Path  # what SSL_CERT_FILE names for helm


def registry() -> Path:
    return built_tool(dev.REGISTRY)


def tls_proxy(upstream: str, port: int, key: Path, certificate: Path) -> http.server.ThreadingHTTPServer:
    class Forward(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = urllib.request.Request(
                upstream + self.path,
                data=self.rfile.read(length) if length else None,
                method=self.command,
                headers={k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP},
            )
            try:
                response = urllib.request.urlopen(request, timeout=30)
            except urllib.error.HTTPError as error:
                response = error
            body = response.read()
            self.send_response(response.status)
            for name, value in response.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        # http.server's names for the methods it calls.
        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            """Not on the test's output."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Forward)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificate), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def answers_v2(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OciRegistry]:
    folder = tmp_path_factory.mktemp("oci-registry")
    plain, secure = free_ports(2)
    log = folder / "registry.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(registry()), "-port", str(plain)], stdout=output, stderr=subprocess.STDOUT
        )
    proxy = None
    try:
        upstream = f"http://127.0.0.1:{plain}"
        wait_until(
            lambda: answers_v2(f"{upstream}/v2/"), process, "registry", log, time.monotonic() + READY_TIMEOUT
        )
        charts = folder / "charts"
        package_charts(charts)
        for package in sorted(charts.glob("*.tgz")):
            run_helm("push", str(package), f"oci://127.0.0.1:{plain}/charts", "--plain-http", cwd=charts)
        key, certificate = certificate_for_localhost(folder)
        proxy = tls_proxy(upstream, secure, key, certificate)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        yield OciRegistry(url=f"oci://127.0.0.1:{secure}/charts", certificate=certificate)
    finally:
        if proxy is not None:
            proxy.shutdown()
            proxy.server_close()
        stop(process)
