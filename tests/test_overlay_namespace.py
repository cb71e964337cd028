"""An overlay whose namespace is not `<app>-<env>`: validate accepts it, and promote, which checks
the objects it would deploy against the namespace the overlay sets (as validate does), promotes
into it. Promote once expected `<app>-<env>` and refused what validate accepted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from gitopslib import layout

from tests.conftest import render, run_gitops
from tests.template_versions import commit_all, git

APP = "myapp"
NAMESPACE = "payments-staging"


def move_staging_namespace(repo: Path) -> None:
    """The overlay, its Application's destination and its AppProject's destination and Namespace."""
    overlay = repo / layout.overlay_dir("staging", APP) / layout.KUSTOMIZATION
    kustomization = yaml.safe_load(overlay.read_text())
    kustomization["namespace"] = NAMESPACE
    overlay.write_text(yaml.safe_dump(kustomization, sort_keys=False))
    argocd = repo / f"argocd/apps/{APP}/staging.yaml"
    project, application = yaml.safe_load_all(argocd.read_text())
    [destination] = project["spec"]["destinations"]
    [namespace_kind] = project["spec"]["clusterResourceWhitelist"]
    destination["namespace"] = namespace_kind["name"] = application["spec"]["destination"]["namespace"] = (
        NAMESPACE
    )
    argocd.write_text(yaml.safe_dump_all([project, application], sort_keys=False))
    settings = repo / layout.SETTINGS_FILE
    declared = f"exceptions:\n- kind: Namespace\n  name: {NAMESPACE}\n  reason: the team's own namespace\n"
    settings.write_text(settings.read_text().replace("exceptions: []\n", declared))


def test_promote_into_an_overlay_with_its_own_namespace(tmp_path: Path, kubectl: str) -> None:
    repo = render(tmp_path / "repo", {})
    move_staging_namespace(repo)
    release = repo / layout.release_file("dev", APP)
    release.write_text(release.read_text().replace('"1.29.3-alpine"', '"1.30.0"'))
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Generate; staging deploys into its own namespace; dev runs 1.30.0")
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr

    result = run_gitops(repo, "promote", "--app", APP, "--from", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{APP}: staging 1.29.3-alpine -> 1.30.0 (promoted, from dev)" in result.stdout
    staging = yaml.safe_load((repo / layout.release_file("staging", APP)).read_text())
    assert staging["images"][0]["newTag"] == "1.30.0"
    built = subprocess.run(
        [kubectl, "kustomize", str(repo / layout.overlay_dir("staging", APP))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {obj["metadata"].get("namespace") for obj in yaml.safe_load_all(built)} == {NAMESPACE}
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
