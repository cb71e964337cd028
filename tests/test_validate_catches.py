"""`tools/gitops validate` names every broken case: one line `path: reason`, exit 1.

The repository is rendered once and passes the real tools/gitops; each case breaks a copy and
runs the same `main` in this process, without the secret scan, which no case here is about
(tests/template_versions.py: gitops_in_process). The usage errors, and one broken case, run the
real command.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import render, run_gitops
from tests.template_versions import copy_repo, edit, gitops_in_process


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("pristine") / "repo", {})


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def validate(repo: Path) -> subprocess.CompletedProcess[str]:
    return gitops_in_process(repo, "validate", scan_secrets=False)


class Breakage(NamedTuple):
    """Replace `old` by `new` in `file`; a problem line must start with `where` and hold `reason`."""

    file: str
    old: str
    new: str
    where: str
    reason: str


BREAKAGES = {
    "overlay-does-not-build": Breakage(
        file="environments/staging/myapp/kustomization.yaml",
        old="../../../applications/base/myapp",
        new="../../../applications/base/missing",
        where="environments/staging/myapp:",
        reason="does not build",
    ),
    "application-namespace-differs-from-overlay": Breakage(
        file="argocd/apps/myapp/prod.yaml",
        old='    namespace: "myapp-prod"\n  syncPolicy',
        new="    namespace: myapp-production\n  syncPolicy",
        where="argocd/apps/myapp/prod.yaml: Application/myapp-prod:",
        reason="differs from the namespace of environments/prod/myapp",
    ),
    "overlay-namespace-differs-from-application": Breakage(
        file="environments/dev/myapp/kustomization.yaml",
        old='namespace: "myapp-dev"',
        new="namespace: shared",
        where="argocd/apps/myapp/dev.yaml: Application/myapp-dev:",
        reason="differs from the namespace",
    ),
    "unpinned-argocd-install": Breakage(
        file="argocd/install/kustomization.yaml",
        old="argo-cd/v3.6.2/manifests",
        new="argo-cd/stable/manifests",
        where="argocd/install/kustomization.yaml:",
        reason="is not pinned",
    ),
    "install-differs-from-gitops-yaml": Breakage(
        file="argocd/install/kustomization.yaml",
        old="argo-cd/v3.6.2/manifests",
        new="argo-cd/v3.5.0/manifests",
        where="argocd/install/kustomization.yaml:",
        reason="gitops.yaml says v3.6.2",
    ),
    "unknown-field-in-base": Breakage(
        file="applications/base/myapp/deployment.yaml",
        old="  revisionHistoryLimit: 5",
        new="  revisionHistoryLimt: 5",
        where="environments/dev/myapp: Deployment/myapp:",
        reason="revisionHistoryLimt",
    ),
    "unknown-field-in-application": Breakage(
        file="argocd/apps/myapp/dev.yaml",
        old='    path: "environments/dev/myapp"',
        new="    pathh: environments/dev/myapp",
        where="argocd/apps/myapp/dev.yaml: Application/myapp-dev:",
        reason="pathh",
    ),
    "latest-image": Breakage(
        file="environments/prod/myapp/release/kustomization.yaml",
        old='newTag: "1.29.3-alpine"',
        new="newTag: latest",
        where="environments/prod/myapp: Deployment/myapp:",
        reason="latest",
    ),
    "deprecated-common-labels": Breakage(
        file="environments/dev/myapp/kustomization.yaml",
        old="labels:\n",
        new="commonLabels:\n  tier: web\nlabels:\n",
        where="environments/dev/myapp/kustomization.yaml:",
        reason="deprecated field commonLabels",
    ),
    "index-based-image-patch": Breakage(
        file="environments/dev/myapp/kustomization.yaml",
        old="patches:\n",
        new=(
            "patches:\n  - target: {kind: Deployment}\n    patch: |\n      - op: replace\n"
            "        path: /spec/template/spec/containers/0/image\n        value: nginx:1.0\n"
        ),
        where="environments/dev/myapp/kustomization.yaml:",
        reason="container index",
    ),
    "project-allows-any-namespace": Breakage(
        file="argocd/apps/myapp/staging.yaml",
        old='      namespace: "myapp-staging"\n  # CreateNamespace',
        new="      namespace: '*'\n  # CreateNamespace",
        where="argocd/apps/myapp/staging.yaml: AppProject/myapp-staging:",
        reason="destinations must be exactly",
    ),
    "project-allows-another-repo": Breakage(
        file="argocd/apps/myapp/dev.yaml",
        old='  sourceRepos:\n    - "https://github.com/example-org/gitops.git"',
        new='  sourceRepos:\n    - "https://github.com/example-org/gitops.git"\n    - "*"',
        where="argocd/apps/myapp/dev.yaml: AppProject/myapp-dev:",
        reason="sourceRepos must be exactly",
    ),
    "project-allows-any-namespace-creation": Breakage(
        file="argocd/apps/myapp/dev.yaml",
        old='      kind: Namespace\n      name: "myapp-dev"',
        new="      kind: Namespace",
        where="argocd/apps/myapp/dev.yaml: AppProject/myapp-dev:",
        reason="allows more than Namespace myapp-dev",
    ),
    "root-app-does-not-recurse": Breakage(
        file="argocd/bootstrap/root-application.yaml",
        old="recurse: true",
        new="recurse: false",
        where="argocd/bootstrap/root-application.yaml: Application/root:",
        reason="recurse must be true",
    ),
    "application-from-another-repo": Breakage(
        file="argocd/apps/myapp/prod.yaml",
        old='    repoURL: "https://github.com/example-org/gitops.git"',
        new='    repoURL: "https://github.com/someone-else/gitops.git"',
        where="argocd/apps/myapp/prod.yaml: Application/myapp-prod:",
        reason="source.repoURL",
    ),
    # validate builds the overlays in one batch: the object is dev's though it lands in
    # staging's namespace (told apart by namespace, it passed as staging's).
    "object-moved-into-another-overlays-namespace": Breakage(
        file="environments/dev/myapp/kustomization.yaml",
        old="components:\n",
        new=(
            "configMapGenerator:\n- name: where\n  literals: [ns=myapp-staging]\n"
            "  options: {disableNameSuffixHash: true}\n"
            "replacements:\n- source: {kind: ConfigMap, name: where, fieldPath: data.ns}\n"
            "  targets:\n  - select: {kind: ConfigMap, name: where}\n    fieldPaths: [metadata.namespace]\n"
            "components:\n"
        ),
        where="environments/dev/myapp: ConfigMap/where:",
        reason="in namespace myapp-staging, expected myapp-dev",
    ),
    "application-on-the-wrong-cluster": Breakage(
        file="argocd/apps/myapp/prod.yaml",
        old='    server: "https://kubernetes.default.svc"\n    namespace: "myapp-prod"\n  sync',
        new='    server: "https://other.example.com"\n    namespace: myapp-prod\n  sync',
        where="argocd/apps/myapp/prod.yaml: Application/myapp-prod:",
        reason="is not prod's cluster",
    ),
}


def test_pristine_repo_passes(pristine: Path) -> None:
    result = run_gitops(pristine, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "3 overlays built, 25 objects validated, 0 problems" in result.stderr


# Named by the real command too: kustomize's own error, passed on.
ON_THE_COMMAND_LINE = {"overlay-does-not-build"}


@pytest.mark.parametrize("case", sorted(BREAKAGES), ids=str)
def test_breakage_is_named(repo: Path, case: str) -> None:
    breakage = BREAKAGES[case]
    edit(repo, breakage.file, breakage.old, breakage.new)
    result = run_gitops(repo, "validate") if case in ON_THE_COMMAND_LINE else validate(repo)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(breakage.where) and breakage.reason in line for line in lines), result.stdout


def test_missing_overlay_of_an_environment(repo: Path) -> None:
    shutil.rmtree(repo / "environments" / "prod" / "myapp")
    result = validate(repo)
    assert result.returncode == 1
    assert "environments/prod/myapp: missing: app myapp has no overlay for environment prod" in result.stdout
    assert "Application/myapp-prod: source.path environments/prod/myapp is not an overlay" in result.stdout


def test_application_the_root_app_does_not_reach(repo: Path) -> None:
    stray = repo / "argocd" / "extra" / "app.yaml"
    stray.parent.mkdir()
    stray.write_text((repo / "argocd/apps/myapp/dev.yaml").read_text().split("---\n")[1])
    result = validate(repo)
    assert result.returncode == 1
    assert "argocd/extra/app.yaml: Application/myapp-dev: not under argocd/apps/" in result.stdout


def test_outside_a_repository_is_a_usage_error(tmp_path: Path, pristine: Path) -> None:
    result = run_gitops(pristine, "-C", str(tmp_path), "validate")
    assert result.returncode == 2
    assert "no gitops.yaml found" in result.stderr


def test_unknown_command_is_a_usage_error(pristine: Path) -> None:
    assert run_gitops(pristine, "frobnicate").returncode == 2


def test_missing_dependencies_are_a_usage_error(pristine: Path) -> None:
    """Without site-packages (-S) the tool still answers --help and says what to install."""
    tool = str(pristine / "tools" / "gitops")
    helped = subprocess.run([sys.executable, "-S", tool, "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "validate" in helped.stdout
    result = subprocess.run(
        [sys.executable, "-S", tool, "validate"], cwd=pristine, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "pip install -r tools/requirements.txt" in result.stderr.strip().splitlines()[-1]


def test_plaintext_secret_is_named(repo: Path) -> None:
    secret = repo / "applications/base/myapp/secret.yaml"
    secret.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n"
    )
    edit(
        repo,
        "applications/base/myapp/kustomization.yaml",
        "  - service.yaml\n",
        "  - service.yaml\n  - secret.yaml\n",
    )
    result = validate(repo)
    assert result.returncode == 1
    assert "environments/prod/myapp: Secret/db: a Secret with its values in Git" in result.stdout
