"""The generated workflows pass zizmor, their pushes authenticate without persisted credentials,
and `tools/gitops validate` refuses workflows that widen privileges.

The planted workflows go through validate's workflow check alone, in this process (milliseconds
instead of a whole validate), compared with the lines validate prints for it; one refused and one
accepted workflow go through the real tools/gitops.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from gitopslib.workflow_checks import workflow_problems

from tests.answer_sets import ANSWER_SETS
from tests.conftest import render, run_gitops
from tests.template_versions import check_lines, copy_repo, git
from tests.test_workflows import BASH, PR_TOKEN

ZIZMOR = Path(sys.executable).parent / "zizmor"
# The workflows do not depend on the answers today; these sets make sure no answer changes that
# (each with GitHub as its CI: all-off chooses none, which writes no workflows).
AUDITED_SETS = ["defaults", "hardened-gateway", "all-off", "many-environments", "yaml-special-names"]
# GITOPS_DEBUG makes an unexpected error a traceback instead of a one-line summary.
DEBUG_ENV = {"GITOPS_DEBUG": "1"}


@pytest.fixture(scope="module", params=AUDITED_SETS, ids=str)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    answers = {**ANSWER_SETS[request.param], "ci_provider": "github"}
    return render(tmp_path_factory.mktemp(request.param) / "repo", answers)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("pristine") / "repo", {})


def zizmor(*inputs: Path) -> list[dict[str, Any]]:
    """Every finding of medium or higher severity: offline, as the auditor persona (the most
    findings), without configuration files or `# zizmor: ignore` comments that could hide one."""
    if not ZIZMOR.is_file():
        pytest.fail(f"{ZIZMOR} not found: install the test dependencies (python3 scripts/dev.py test)")
    result = subprocess.run(
        [
            str(ZIZMOR),
            *("--offline", "--no-config", "--no-ignores", "--strict-collection", "--persona=auditor"),
            *("--min-severity=medium", "--format=json"),
            *map(str, inputs),
        ],
        capture_output=True,
        text=True,
    )
    # 0: no findings; 10 + the highest severity otherwise; anything else is a failure of zizmor.
    assert result.returncode == 0 or 10 <= result.returncode <= 14, result.stderr
    for path in inputs:
        assert f"completed {path}" in result.stderr, f"zizmor did not audit {path}: {result.stderr}"
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def summary(findings: list[dict[str, Any]]) -> list[str]:
    lines = []
    for finding in findings:
        where = finding["locations"][0]
        row = where["concrete"]["location"]["start_point"]["row"] + 1
        severity = finding["determinations"]["severity"]
        lines.append(
            f"{finding['ident']} ({severity}): {finding['desc']}: {where['symbolic']['key']} line {row}"
        )
    return lines


def test_zizmor_finds_nothing_of_medium_or_higher_severity(generated: Path) -> None:
    workflows = sorted((generated / ".github" / "workflows").glob("*.y*ml"))
    assert {w.name for w in workflows} >= {
        "promote.yaml",
        "release.yaml",
        "template-update.yaml",
        "validate.yaml",
    }
    findings = zizmor(*workflows)
    assert findings == [], "\n".join(summary(findings))


def test_zizmor_reports_a_checkout_that_persists_credentials(tmp_path: Path) -> None:
    """The test above can fail: the same zizmor run reports the pattern this issue removed."""
    workflow = tmp_path / "push.yaml"
    workflow.write_text(
        textwrap.dedent("""\
            name: Push
            on:
              workflow_dispatch: {}
            permissions: {}
            jobs:
              push:
                runs-on: ubuntu-24.04
                permissions:
                  contents: write
                steps:
                  - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
                  - run: git push origin HEAD:main
            """)
    )
    assert [(f["ident"], f["determinations"]["severity"]) for f in zizmor(workflow)] == [
        ("artipacked", "Medium")
    ]


def test_generated_workflows_pass_the_workflow_check(generated: Path) -> None:
    assert workflow_check(generated) == (0, [])


# ---------------------------------------------------------------------------------------------
# The push steps of Promote and Template update authenticate from the environment only.
# ---------------------------------------------------------------------------------------------
TOKEN = "fake-token-for-tests"
ENCODED = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
AUTHORIZATION = f"basic {ENCODED}"


class GitServer(BaseHTTPRequestHandler):
    """Smart HTTP git (git http-backend) that answers only requests with the token's header, as
    github.com does for a push."""

    root: Path

    def do_GET(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def serve(self) -> None:
        scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic" or credentials != ENCODED:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "x-access-token",  # http-backend accepts pushes of authenticated users
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
        }
        for header, variable in (
            ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
            ("Git-Protocol", "GIT_PROTOCOL"),
        ):
            if header in self.headers:
                env[variable] = self.headers[header]
        output = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = output.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode().splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Remote(NamedTuple):
    server_url: str
    bare: Path


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    """A remote at <server>/example-org/gitops.git holding one commit on main."""
    root = tmp_path / "server"
    bare = root / "example-org" / "gitops.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    seed = tmp_path / "seed"
    subprocess.run(["git", "init", "-q", "-b", "main", str(seed)], check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "first"], cwd=seed, check=True)
    subprocess.run(["git", "push", "-q", str(bare), "main"], cwd=seed, check=True)
    handler = type("Handler", (GitServer,), {"root": root})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Remote(f"http://127.0.0.1:{server.server_address[1]}", bare)
    finally:
        server.shutdown()
        server.server_close()


def checkout(remote: Remote, tmp_path: Path) -> Path:
    """What actions/checkout with fetch-depth 0 and persist-credentials false leaves behind."""
    work = tmp_path / "work"
    header = f"http.{remote.server_url}/.extraheader=AUTHORIZATION: {AUTHORIZATION}"
    url = f"{remote.server_url}/example-org/gitops.git"
    subprocess.run(["git", "-c", header, "clone", "-q", url, str(work)], check=True)
    return work


def step_script(repo: Path, workflow: str, job: str, step_name: str) -> tuple[str, dict[str, str]]:
    """The script of a step of a generated workflow, and the environment it declares."""
    parsed = yaml.safe_load((repo / ".github" / "workflows" / workflow).read_text())
    step = next(s for s in parsed["jobs"][job]["steps"] if s.get("name") == step_name)
    return step["run"], {**parsed["jobs"][job].get("env", {}), **step.get("env", {})}


def run_step(script: str, work: Path, remote: Remote, tmp_path: Path, **env: str) -> list[str]:
    """Run a step as the runner does (`shell: bash`) with a `gh` that records its arguments: the
    calls of gh, one a line."""
    bin_dir, runner_temp = tmp_path / "bin", tmp_path / "runner-temp"
    bin_dir.mkdir()
    runner_temp.mkdir(exist_ok=True)
    calls = tmp_path / "gh-calls"
    calls.touch()
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\n')
    gh.chmod(0o755)
    (tmp_path / "script.sh").write_text(script)
    full_env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_SERVER_URL": remote.server_url,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(runner_temp),
        "GH_TOKEN": TOKEN,
        "BASE": "main",
        # Nobody answers a prompt on a runner: a missing credential must fail the push, not hang it.
        "GIT_TERMINAL_PROMPT": "0",
        **env,
    }
    result = subprocess.run(
        [*BASH, str(tmp_path / "script.sh")],
        cwd=work,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"::add-mask::{ENCODED}" in result.stdout  # the runner hides the header in logs
    assert TOKEN not in result.stdout + result.stderr
    return calls.read_text().splitlines()


def assert_no_credential_left(work: Path) -> None:
    config = (work / ".git" / "config").read_text()
    assert TOKEN not in config and ENCODED not in config and "extraheader" not in config, config


def test_the_remote_refuses_a_push_without_the_token(remote: Remote, tmp_path: Path) -> None:
    """The push tests below can fail: without persisted credentials a plain push is refused."""
    work = checkout(remote, tmp_path)
    assert_no_credential_left(work)
    result = subprocess.run(
        ["git", "push", "origin", "HEAD:refs/heads/other"],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        timeout=60,
    )
    assert result.returncode != 0, result.stderr
    assert git(remote.bare, "branch", "--list", "other") == ""


@pytest.mark.parametrize(
    ("workflow", "branch", "summary", "message"),
    [
        ("promote", "promote/42", "promotion.txt", "promote myapp to prod"),
        ("release", "release/myapp-42", "release.txt", "release myapp v2 to dev"),
    ],
)
def test_the_branch_is_pushed_with_the_token_from_the_environment(
    remote: Remote, pristine: Path, tmp_path: Path, workflow: str, branch: str, summary: str, message: str
) -> None:
    script, env = step_script(pristine, f"{workflow}.yaml", workflow, "Open the pull request")
    assert env["GH_TOKEN"] == PR_TOKEN
    work = checkout(remote, tmp_path)
    git(work, "switch", "-q", "-c", branch)
    git(work, "commit", "-q", "--allow-empty", "-m", message)
    (tmp_path / "runner-temp").mkdir()
    (tmp_path / "runner-temp" / summary).write_text("+ newTag: v2\n")
    calls = run_step(script, work, remote, tmp_path, BRANCH=branch)
    assert git(remote.bare, "rev-parse", branch) == git(work, "rev-parse", "HEAD")
    assert len(calls) == 1
    assert calls[0].startswith(f"pr create --base main --head {branch} --title {workflow}")
    assert_no_credential_left(work)
    assert_no_credential_left(work)


def test_template_update_pushes_its_branch_with_the_token_from_the_environment(
    remote: Remote, pristine: Path, tmp_path: Path
) -> None:
    script, env = step_script(pristine, "template-update.yaml", "update", "Open or refresh the pull request")
    assert env["GH_TOKEN"] == PR_TOKEN
    branch = env["BRANCH"]
    work = checkout(remote, tmp_path)
    git(work, "switch", "-q", "-C", branch)
    git(work, "commit", "-q", "--allow-empty", "-m", "Update myapp")
    calls = run_step(script, work, remote, tmp_path, BRANCH=branch)
    assert git(remote.bare, "rev-parse", branch) == git(work, "rev-parse", "HEAD")
    assert len(calls) == 2, calls
    assert calls[0].startswith(f"pr list --head {branch} --state open")
    assert calls[1].startswith(f"pr create --base main --head {branch}")
    assert_no_credential_left(work)


# ---------------------------------------------------------------------------------------------
# validate refuses privilege-widening workflows, one line each, and leaves the benign ones alone.
# ---------------------------------------------------------------------------------------------
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"


class Planted(NamedTuple):
    file: str
    text: str
    # Every one of these is in the single problem line, after `.github/workflows/<file>: `.
    words: tuple[str, ...]


def workflow(on: str, job: str, body: str, top: str = "permissions: {}") -> str:
    """A workflow of one job: `body` holds the job's steps (and permissions), `top` the top-level
    permissions (empty: none, so the repository's default)."""
    header = f"name: Planted\non: {on}\n{top}\njobs:\n  {job}:\n    runs-on: ubuntu-24.04\n"
    return header + textwrap.indent(textwrap.dedent(body), "    ")


DANGEROUS = {
    "pull-request-target-checks-out-head-sha": Planted(
        "label.yaml",
        workflow(
            "pull_request_target",
            "build",
            f"""\
            steps:
              - uses: {CHECKOUT}
                with:
                  ref: ${{{{ github.event.pull_request.head.sha }}}}
              - run: make test
            """,
            top="",
        ),
        ("job build", "pull_request_target", "pull request's head", "secrets", "default permissions (write"),
    ),
    "pull-request-target-checks-out-head-ref": Planted(
        "preview.yml",
        workflow(
            "{pull_request_target: {types: [opened, synchronize]}}",
            "preview",
            f"""\
            permissions:
              contents: read
            steps:
              - uses: {CHECKOUT}
                with:
                  repository: ${{{{ github.event.pull_request.head.repo.full_name }}}}
                  ref: ${{{{ github.event.pull_request.head.ref }}}}
            """,
        ),
        ("job preview", "pull_request_target", "pull request's head", "secrets", "read permissions only"),
    ),
    "pull-request-target-checks-out-the-merge-ref": Planted(
        "merge.yaml",
        workflow(
            "[pull_request_target]",
            "test",
            f"""\
            steps:
              - uses: {CHECKOUT}
                with:
                  ref: refs/pull/${{{{ github.event.number }}}}/merge
            """,
        ),
        ("job test", "pull_request_target", "pull request's head", "secrets", "no permissions"),
    ),
    "pull-request-target-script-checks-out-head": Planted(
        "script.yaml",
        workflow(
            "pull_request_target",
            "try",
            """\
            permissions:
              contents: write
              pull-requests: write
            steps:
              - env:
                  GH_TOKEN: ${{ github.token }}
                run: gh pr checkout "$NUMBER" && make
            """,
        ),
        ("job try", "pull_request_target", "pull request's head", "contents: write, pull-requests: write"),
    ),
    "workflow-run-checks-out-head-sha": Planted(
        "after-ci.yaml",
        workflow(
            "{workflow_run: {workflows: [CI], types: [completed]}}",
            "report",
            f"""\
            steps:
              - uses: {CHECKOUT}
                with:
                  ref: ${{{{ github.event.workflow_run.head_sha }}}}
            """,
        ),
        ("job report", "workflow_run", "pull request's head", "secrets"),
    ),
    "write-all-top-level": Planted(
        "release.yaml",
        workflow("push", "publish", "steps:\n  - run: make release\n", top="permissions: write-all"),
        ("permissions: write-all", "top level", "(publish)", "write to every scope"),
    ),
    "write-all-on-a-job": Planted(
        "deploy.yml",
        workflow("push", "deploy", "permissions: write-all\nsteps:\n  - run: make deploy\n"),
        ("job deploy", "permissions: write-all", "write access to every scope"),
    ),
    "broken-yaml": Planted(
        "broken.yaml",
        "name: Broken\non: push\njobs:\n  build: [runs-on: ubuntu-24.04\n",
        ("not valid YAML", "line"),
    ),
    "not-a-mapping": Planted("list.yaml", "- on: push\n", ("not a YAML mapping",)),
}

BENIGN = {
    # The labeler pattern: the base branch's code, with the pull request only as data.
    "pull-request-target-on-the-base-branch": workflow(
        "pull_request_target",
        "label",
        f"""\
        permissions:
          contents: read
          pull-requests: write
        steps:
          - uses: {CHECKOUT}
            with:
              persist-credentials: false
          - env:
              HEAD_SHA: ${{{{ github.event.pull_request.head.sha }}}}
            run: echo "labelling $HEAD_SHA"
        """,
    ),
    # pull_request runs a fork's code without secrets and with a read-only token.
    "pull-request-checks-out-head": workflow(
        "pull_request",
        "test",
        f"""\
        permissions:
          contents: read
        steps:
          - uses: {CHECKOUT}
            with:
              ref: ${{{{ github.event.pull_request.head.sha }}}}
        """,
    ),
    "explicit-minimal-permissions": "# Never permissions: write-all.\n"
    + workflow(
        "push",
        "publish",
        """\
        permissions:
          contents: write
          packages: write
        steps:
          - run: echo "write-all is refused"
        """,
        top="permissions:\n  contents: read",
    ),
    "read-all": workflow("push", "lint", "steps:\n  - run: make lint\n", top="permissions: read-all"),
}


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def validate(repo: Path) -> tuple[int, list[str]]:
    """Exit code and problem lines of the real validate; GITOPS_DEBUG turns an unexpected error
    into a traceback, which must never appear."""
    result = run_gitops(repo, "validate", env={**os.environ, **DEBUG_ENV})
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert "objects validated" in result.stderr, result.stderr  # validate ran to its end
    return result.returncode, result.stdout.splitlines()


def workflow_check(repo: Path) -> tuple[int, list[str]]:
    """validate's workflow check alone, in this process (an unexpected error is raised): the exit
    code its lines give validate, and the lines."""
    lines = check_lines(repo, workflow_problems)
    return (1 if lines else 0), lines


# Run by the real tools/gitops as well: one refused workflow, one accepted.
ON_THE_COMMAND_LINE = {"pull-request-target-checks-out-head-sha", "pull-request-target-on-the-base-branch"}


@pytest.fixture(scope="module")
def baseline(pristine: Path) -> dict[bool, list[str]]:
    """What validate says of the generated repository (nothing, once every check is done), by
    whether the real command or only its workflow check ran: a planted workflow must add exactly
    its own line to it."""
    return {True: validate(pristine)[1], False: workflow_check(pristine)[1]}


def check(repo: Path, case: str) -> tuple[int, list[str]]:
    return validate(repo) if case in ON_THE_COMMAND_LINE else workflow_check(repo)


@pytest.mark.parametrize("name", DANGEROUS)
def test_validate_refuses_a_privilege_widening_workflow(
    repo: Path, baseline: dict[bool, list[str]], name: str
) -> None:
    case = DANGEROUS[name]
    (repo / ".github" / "workflows" / case.file).write_text(case.text)
    code, lines = check(repo, name)
    assert code == 1
    added = [line for line in lines if line not in baseline[name in ON_THE_COMMAND_LINE]]
    assert len(added) == 1, "\n".join(lines)
    where = f".github/workflows/{case.file}: "
    assert added[0].startswith(where), added[0]
    for word in case.words:
        assert word in added[0][len(where) :], (word, added[0])


@pytest.mark.parametrize("name", BENIGN)
def test_validate_accepts_a_workflow_with_least_privileges(
    repo: Path, baseline: dict[bool, list[str]], name: str
) -> None:
    text = BENIGN[name]
    (repo / ".github" / "workflows" / "planted.yaml").write_text(text)
    assert isinstance(yaml.safe_load(text), dict)  # the case is a workflow, not a broken file
    code, lines = check(repo, name)
    expected = baseline[name in ON_THE_COMMAND_LINE]
    assert lines == expected
    assert code == (1 if expected else 0)
