"""`tools/gitops validate` names every broken case: one line `path: reason`, exit 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import render, run_gitops


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("pristine") / "repo", {})


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "repo"))


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    path = repo / relative
    text = path.read_text()
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1))


# (file, text to replace, replacement, the problem line must start with, and contain)
BREAKAGES = {
    "overlay-does-not-build": (
        "environments/staging/myapp/kustomization.yaml", "../../../applications/base/myapp",
        "../../../applications/base/missing", "environments/staging/myapp:", "does not build",
    ),
    "application-namespace-differs-from-overlay": (
        "argocd/apps/myapp/prod.yaml", "    namespace: myapp-prod\n  syncPolicy",
        "    namespace: myapp-production\n  syncPolicy", "argocd/apps/myapp/prod.yaml: Application/myapp-prod:",
        "differs from the namespace of environments/prod/myapp",
    ),
    "overlay-namespace-differs-from-application": (
        "environments/dev/myapp/kustomization.yaml", "namespace: myapp-dev", "namespace: shared",
        "argocd/apps/myapp/dev.yaml: Application/myapp-dev:", "differs from the namespace",
    ),
    "unpinned-argocd-install": (
        "argocd/install/kustomization.yaml", "argo-cd/v3.6.2/manifests", "argo-cd/stable/manifests",
        "argocd/install/kustomization.yaml:", "is not pinned",
    ),
    "install-differs-from-gitops-yaml": (
        "argocd/install/kustomization.yaml", "argo-cd/v3.6.2/manifests", "argo-cd/v3.5.0/manifests",
        "argocd/install/kustomization.yaml:", "gitops.yaml says v3.6.2",
    ),
    "unknown-field-in-base": (
        "applications/base/myapp/deployment.yaml", "  revisionHistoryLimit: 5", "  revisionHistoryLimt: 5",
        "environments/dev/myapp: Deployment/myapp:", "revisionHistoryLimt",
    ),
    "unknown-field-in-application": (
        "argocd/apps/myapp/dev.yaml", "    path: environments/dev/myapp", "    pathh: environments/dev/myapp",
        "argocd/apps/myapp/dev.yaml: Application/myapp-dev:", "pathh",
    ),
    "latest-image": (
        "environments/prod/myapp/release/kustomization.yaml", 'newTag: "1.29.3-alpine"', "newTag: latest",
        "environments/prod/myapp: Deployment/myapp:", "latest",
    ),
    "deprecated-common-labels": (
        "environments/dev/myapp/kustomization.yaml", "labels:\n", "commonLabels:\n  tier: web\nlabels:\n",
        "environments/dev/myapp/kustomization.yaml:", "deprecated field commonLabels",
    ),
    "index-based-image-patch": (
        "environments/dev/myapp/kustomization.yaml", "components:",
        "patches:\n  - target: {kind: Deployment}\n    patch: |\n      - op: replace\n"
        "        path: /spec/template/spec/containers/0/image\n        value: nginx:1.0\ncomponents:",
        "environments/dev/myapp/kustomization.yaml:", "container index",
    ),
    "project-allows-any-namespace": (
        "argocd/apps/myapp/staging.yaml", "      namespace: myapp-staging\n  # CreateNamespace",
        "      namespace: '*'\n  # CreateNamespace", "argocd/apps/myapp/staging.yaml: AppProject/myapp-staging:",
        "destinations must be exactly",
    ),
    "project-allows-another-repo": (
        "argocd/apps/myapp/dev.yaml", '  sourceRepos:\n    - "https://github.com/example-org/gitops.git"',
        '  sourceRepos:\n    - "https://github.com/example-org/gitops.git"\n    - "*"',
        "argocd/apps/myapp/dev.yaml: AppProject/myapp-dev:", "sourceRepos must be exactly",
    ),
    "project-allows-any-namespace-creation": (
        "argocd/apps/myapp/dev.yaml", "      kind: Namespace\n      name: myapp-dev", "      kind: Namespace",
        "argocd/apps/myapp/dev.yaml: AppProject/myapp-dev:", "allows more than Namespace myapp-dev",
    ),
    "root-app-does-not-recurse": (
        "argocd/bootstrap/root-application.yaml", "recurse: true", "recurse: false",
        "argocd/bootstrap/root-application.yaml: Application/root:", "recurse must be true",
    ),
    "application-from-another-repo": (
        "argocd/apps/myapp/prod.yaml", '    repoURL: "https://github.com/example-org/gitops.git"',
        '    repoURL: "https://github.com/someone-else/gitops.git"',
        "argocd/apps/myapp/prod.yaml: Application/myapp-prod:", "source.repoURL",
    ),
    "application-on-the-wrong-cluster": (
        "argocd/apps/myapp/prod.yaml", '    server: "https://kubernetes.default.svc"\n    namespace: myapp-prod\n  sync',
        '    server: "https://other.example.com"\n    namespace: myapp-prod\n  sync',
        "argocd/apps/myapp/prod.yaml: Application/myapp-prod:", "is not prod's cluster",
    ),
}  # fmt: skip


def test_pristine_repo_passes(pristine: Path) -> None:
    result = run_gitops(pristine, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "3 overlays built, 14 objects validated, 0 problems" in result.stderr


@pytest.mark.parametrize("case", sorted(BREAKAGES), ids=str)
def test_breakage_is_named(repo: Path, case: str) -> None:
    relative, old, new, where, reason = BREAKAGES[case]
    edit(repo, relative, old, new)
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(where) and reason in line for line in lines), result.stdout


def test_missing_overlay_of_an_environment(repo: Path) -> None:
    shutil.rmtree(repo / "environments" / "prod" / "myapp")
    result = run_gitops(repo, "validate")
    assert result.returncode == 1
    assert "environments/prod/myapp: missing: app myapp has no overlay for environment prod" in result.stdout
    assert "Application/myapp-prod: source.path environments/prod/myapp is not an overlay" in result.stdout


def test_application_the_root_app_does_not_reach(repo: Path) -> None:
    stray = repo / "argocd" / "extra" / "app.yaml"
    stray.parent.mkdir()
    stray.write_text((repo / "argocd/apps/myapp/dev.yaml").read_text().split("---\n")[1])
    result = run_gitops(repo, "validate")
    assert result.returncode == 1
    assert "argocd/extra/app.yaml: Application/myapp-dev is not under argocd/apps/" in result.stdout


def test_outside_a_repository_is_a_usage_error(tmp_path: Path, pristine: Path) -> None:
    result = run_gitops(pristine, "-C", str(tmp_path), "validate")
    assert result.returncode == 2
    assert "no gitops.yaml found" in result.stderr


def test_unknown_command_is_a_usage_error(pristine: Path) -> None:
    assert run_gitops(pristine, "frobnicate").returncode == 2
