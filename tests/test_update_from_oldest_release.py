"""A repository generated from the oldest release the tests know updates cleanly to this work tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import run_gitops
from tests.kustomize_builds import build_overlays
from tests.template_versions import (
    OLDEST_RELEASE,
    RELEASES,
    commit_all,
    copier_update,
    generate,
    git,
    replace_with_work_tree,
    template_at_commit,
)

OLDEST = OLDEST_RELEASE


def sizes(repo: Path, kubectl: str) -> dict[str, Any]:
    """Per overlay: the replicas and resources its Deployment runs with, as built."""
    found = {}
    overlays = [path.parent for path in sorted(repo.glob("environments/*/*/kustomization.yaml"))]
    for overlay, objects in build_overlays(kubectl, overlays).items():
        spec = next(o for o in objects if o["kind"] == "Deployment")["spec"]
        resources = spec["template"]["spec"]["containers"][0]["resources"]
        found[overlay.relative_to(repo).as_posix()] = (spec.get("replicas"), resources)
    return found


def test_oldest_release_updates_to_work_tree(tmp_path: Path, kubectl: str) -> None:
    template = template_at_commit(tmp_path / "template", RELEASES[OLDEST], OLDEST)
    repo = tmp_path / "repo"
    repo_level = {"environments": ["dev", "prod-eu"], "repo_url": "git@git.example.com:platform/gitops.git"}
    generate(template, repo, {**repo_level, "app_name": "shop", "team": "payments"}, OLDEST)
    generate(template, repo, {"app_name": "cart", "replicas": {"prod-eu": 4}}, OLDEST)
    service = repo / "applications/base/shop/service.yaml"
    service.write_text(
        service.read_text().replace("type: ClusterIP", "type: ClusterIP\n  sessionAffinity: ClientIP")
    )
    release = repo / "environments/dev/cart/release/kustomization.yaml"
    release.write_text(release.read_text().replace('"1.29.3-alpine"', '"1.31.0"'))
    commit_all(repo, "Team edits and a promotion")
    sized = sizes(repo, kubectl)

    replace_with_work_tree(template, "v99.0.0")
    for app in ("cart", "shop"):
        copier_update(repo, app)
        assert git(repo, "diff", "--name-only", "--diff-filter=U") == "", app
        commit_all(repo, f"Update {app}")

    resized = sizes(repo, kubectl)
    assert resized.keys() == sized.keys()
    for overlay, (replicas, resources) in sized.items():
        # Every replica count and amount stays; a later release added CPU limits where none were.
        assert resized[overlay][0] == replicas, overlay
        for kind, amounts in resources.items():
            assert {k: resized[overlay][1][kind][k] for k in amounts} == amounts, (overlay, kind)
    assert "sessionAffinity: ClientIP" in service.read_text()
    assert '"1.31.0"' in release.read_text()
    for app in ("cart", "shop"):
        assert "_commit: v99.0.0" in (repo / f".copier-answers.{app}.yml").read_text()
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 overlays built" in result.stderr
