"""Changing the environment list never changes an existing environment.

Replicas and resources once followed list position (1 / 2 / 3 replicas, small / medium / large
resources): adding `dr` at the end turned prod from 3 replicas into 2 in every app, and
removing an environment made Copier reset every stored per-environment answer. The answers
file now stores them resolved; `tools/gitops update --data environments=...` gives a new
environment the values of the one before it. Checked on what the overlays build.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_gitops
from tests.kustomize_builds import build_overlays
from tests.template_versions import TemplateRepo, commit_all, copier_update, generate, git

ENVIRONMENTS = ["dev", "staging", "prod"]
APPS: dict[str, dict[str, Any]] = {
    "shop": {
        "environments": ENVIRONMENTS,
        "replicas": {"staging": 4, "prod": 7},
        "resources": {"prod": {"requests": {"cpu": "500m"}, "limits": {"cpu": "2"}}},
        "manual_sync_environments": ["prod"],
    },
    "cart": {"autoscaling": {"prod": {"min": 2, "max": 6}}},
}
Sizing = dict[str, Any]


def sizing(repo: Path, kubectl: str) -> dict[tuple[str, str], Sizing]:
    """Per app and environment: what the built Deployment runs and how Argo CD syncs it."""
    found = {}
    overlays = [path.parent for path in sorted(repo.glob("environments/*/*/kustomization.yaml"))]
    for overlay, objects in build_overlays(kubectl, overlays).items():
        env, app = overlay.parent.name, overlay.name
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        hpa = next((o["spec"] for o in objects if o["kind"] == "HorizontalPodAutoscaler"), None)
        application = yaml.safe_load_all((repo / f"argocd/apps/{app}/{env}.yaml").read_text())
        sync = next(o for o in application if o["kind"] == "Application")["spec"]["syncPolicy"]
        found[(app, env)] = {
            "replicas": deployment["spec"].get("replicas"),
            "resources": deployment["spec"]["template"]["spec"]["containers"][0]["resources"],
            "autoscaling": hpa and (hpa["minReplicas"], hpa["maxReplicas"]),
            "automated": "automated" in sync,
        }
    return found


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, kubectl: str) -> tuple[Path, dict[Any, Sizing]]:
    root = tmp_path_factory.mktemp("environments")
    template = TemplateRepo.from_work_tree(root / "template")
    repo = root / "repo"
    for app, answers in APPS.items():
        generate(template, repo, {"app_name": app, **answers}, "v1.0.0")
    return repo, sizing(repo, kubectl)


CHANGES = {
    "add-at-end": (["dev", "staging", "prod", "dr"], {"dr": "prod"}),
    "insert-in-the-middle": (["dev", "qa", "staging", "prod"], {"qa": "dev"}),
    "remove": (["dev", "prod"], {}),
    "reorder": (["staging", "dev", "prod"], {}),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_tools_update_keeps_every_remaining_environment(
    generated: tuple[Path, dict[Any, Sizing]], tmp_path: Path, kubectl: str, change: str
) -> None:
    pristine, before = generated
    repo = Path(shutil.copytree(pristine, tmp_path / "repo", symlinks=True))
    environments, copied_from = CHANGES[change]
    result = run_gitops(repo, "update", "--data", f"environments=[{', '.join(environments)}]")
    assert result.returncode == 0, result.stdout + result.stderr
    after = sizing(repo, kubectl)
    assert {env for _, env in after} == set(environments)
    for (app, env), values in after.items():
        expected = before[(app, copied_from.get(env, env))]
        assert values == expected, (app, env)
    for app in APPS:
        answers = yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())
        assert answers["environments"] == environments
        for question in ("replicas", "resources", "autoscaling", "hosts", "sync_windows", "clusters"):
            assert set(answers[question]) <= set(environments), (app, question)
        assert set(answers["resources"]) == set(environments), "resources stored for every environment"
        assert not [p for p in repo.glob(f"environments/*/{app}") if p.parent.name not in environments]
        assert not [p for p in repo.glob(f"argocd/apps/{app}/*.yaml") if p.stem not in environments]
    assert yaml.safe_load((repo / "gitops.yaml").read_text())["environments"] == environments
    assert git(repo, "status", "--porcelain") == ""
    validated = run_gitops(repo, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_plain_copier_update_keeps_existing_environments(
    generated: tuple[Path, dict[Any, Sizing]], tmp_path: Path, kubectl: str
) -> None:
    """Without tools/gitops a new environment gets the positional default; the others keep theirs."""
    pristine, before = generated
    repo = Path(shutil.copytree(pristine, tmp_path / "repo", symlinks=True))
    for app in APPS:
        copier_update(repo, app, data={"environments": [*ENVIRONMENTS, "dr"]})
        commit_all(repo, f"Add dr to {app}")
    after = sizing(repo, kubectl)
    for key, values in before.items():
        assert after[key] == values, key


def test_removing_an_environment_removes_its_promoted_releases_but_keeps_hand_edits(
    generated: tuple[Path, dict[Any, Sizing]], tmp_path: Path
) -> None:
    """A release that promote (or the template) wrote goes with its environment, provenance too;
    one changed by hand since is kept and named."""
    pristine, _ = generated
    repo = Path(shutil.copytree(pristine, tmp_path / "repo", symlinks=True))
    dev_release = repo / "environments/dev/shop/release/kustomization.yaml"
    dev_release.write_text(dev_release.read_text().replace('"1.29.3-alpine"', '"1.30.0"'))
    commit_all(repo, "Release 1.30.0 in dev")
    promoted = run_gitops(repo, "promote", "--app", "shop", "--from", "dev")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    commit_all(repo, "Promote shop to staging")
    cart_release = repo / "environments/staging/cart/release/kustomization.yaml"
    cart_release.write_text(cart_release.read_text().replace('"1.29.3-alpine"', '"1.29.9-hotfix"'))
    commit_all(repo, "Hand-edited hotfix in staging")

    result = run_gitops(repo, "update", "--data", "environments=[dev, prod]")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (repo / "environments/staging/shop").exists(), "promoted release and provenance removed"
    assert cart_release.is_file(), "a hand edit is kept"
    assert "environments/staging/cart/release/kustomization.yaml: kept" in result.stdout


def test_renaming_an_environment_in_one_run_is_refused_and_two_runs_keep_what_it_was(
    generated: tuple[Path, dict[Any, Sizing]], tmp_path: Path, kubectl: str
) -> None:
    """prod is manual (shop) and protected (every app): renamed to production in one change it
    would start from staging's release, sync by itself and lose its protection, exit 0. Refused,
    naming the two runs that keep all of it."""
    pristine, before = generated
    repo = Path(shutil.copytree(pristine, tmp_path / "repo", symlinks=True))
    head = git(repo, "rev-parse", "HEAD")
    refused = run_gitops(repo, "update", "--data", "environments=[dev, staging, production]")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith(".copier-answers.cart.yml: environments: production would replace prod (a rename)")
    assert "add production right after prod" in line, line
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""

    added = run_gitops(repo, "update", "--data", "environments=[dev, staging, prod, production]")
    assert added.returncode == 0, added.stdout + added.stderr
    removed = run_gitops(repo, "update", "--data", "environments=[dev, staging, production]")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    after = sizing(repo, kubectl)
    for app in APPS:
        assert after[(app, "production")] == before[(app, "prod")], app
        answers = yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())
        assert answers["protected_environments"] == ["production"], app
    shop = yaml.safe_load((repo / ".copier-answers.shop.yml").read_text())
    assert shop["manual_sync_environments"] == ["production"]
    for env in ("prod", "production"):
        release = repo / f"environments/{env}/shop/release/kustomization.yaml"
        if env == "prod":
            prod_release = yaml.safe_load(git(repo, "show", f"{head.strip()}:{release.relative_to(repo)}"))
        else:
            assert yaml.safe_load(release.read_text())["images"] == prod_release["images"]


def test_removing_an_environment_whose_release_waits_to_move_on_is_refused(
    generated: tuple[Path, dict[Any, Sizing]], tmp_path: Path
) -> None:
    """dev runs 1.30.0 (written by tools/gitops release), which no other environment runs yet:
    removing dev would drop it."""
    pristine, _ = generated
    repo = Path(shutil.copytree(pristine, tmp_path / "repo", symlinks=True))
    released = run_gitops(repo, "release", "--app", "cart", "--tag", "1.30.0")
    assert released.returncode == 0, released.stdout + released.stderr
    commit_all(repo, "Release cart 1.30.0 in dev")
    head = git(repo, "rev-parse", "HEAD")
    refused = run_gitops(repo, "update", "--data", "environments=[staging, prod]")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        ".copier-answers.cart.yml: environments: dev is removed, and its release 1.30.0 runs in no "
        "environment that stays: promote it onward first (tools/gitops promote --app cart --from dev), "
        "or it goes with dev"
    )
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
