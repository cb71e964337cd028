"""Argo CD conventions of a generated repository: sync windows, notifications, recommended
labels and manifest-generate-paths (issue 13, items 6, 7 and 9).

Read from rendered files and `kubectl kustomize` output, as Argo CD and Kubernetes would read them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.answer_sets import ANSWER_SETS
from tests.conftest import render, run_gitops

DIGEST = "sha256:" + "0" * 64
RECOMMENDED = ("app.kubernetes.io/instance", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by")
VERSION = "app.kubernetes.io/version"
NAME = "app.kubernetes.io/name"
GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"
# What Argo CD's install.yaml holds of the notifications objects (v3.5.1, manifests/install.yaml):
# the patch must apply to exactly these.
UPSTREAM_NOTIFICATIONS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/component: notifications-controller
    app.kubernetes.io/name: argocd-notifications-controller
    app.kubernetes.io/part-of: argocd
  name: argocd-notifications-cm
---
apiVersion: v1
kind: Secret
metadata:
  labels:
    app.kubernetes.io/component: notifications-controller
    app.kubernetes.io/name: argocd-notifications-controller
    app.kubernetes.io/part-of: argocd
  name: argocd-notifications-secret
type: Opaque
---
apiVersion: v1
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
  name: argocd-cm
"""
# An image tag that Docker accepts but a label value does not: starts with '_', ends with
# '_', or is longer than 63 characters.
TAGS_THAT_ARE_NOT_LABEL_VALUES = ["_1.0", "1.0_", "v1." + "2" * 62]


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def build(kubectl: str, directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def argo_objects(repo: Path) -> list[dict[str, Any]]:
    objects = []
    for path in sorted((repo / "argocd").rglob("*.yaml")):
        if path.name != "kustomization.yaml" and "install" not in path.parts:
            objects += load_all(path)
    return objects


def answers_of(repo: Path) -> dict[str, Any]:
    (answers_file,) = repo.glob(".copier-answers.*.yml")
    answers: dict[str, Any] = yaml.safe_load(answers_file.read_text())
    return answers


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sync window and notifications channel on; smoke test, autoscaling, policies too (the smoke
    test without image signatures, which exclude it)."""
    answers = {**ANSWER_SETS["hardened-gateway"], "smoke_test": True, "cosign_public_key": ""}
    return render(tmp_path_factory.mktemp("hardened") / "repo", answers)


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("defaults") / "repo", ANSWER_SETS["defaults"])


# Sync windows (item 6).


def test_sync_windows_hold_manual_syncs_too(hardened: Path) -> None:
    """No `manualSync: true`: Argo CD would let manual syncs run outside the window with it."""
    windows = ANSWER_SETS["hardened-gateway"]["sync_windows"]
    app = ANSWER_SETS["hardened-gateway"]["app_name"]
    for env in answers_of(hardened)["environments"]:
        (project,) = [
            o for o in load_all(hardened / f"argocd/apps/{app}/{env}.yaml") if o["kind"] == "AppProject"
        ]
        rendered = project["spec"].get("syncWindows", [])
        if env not in windows:
            assert rendered == [], env
            continue
        assert rendered == [{"kind": "allow", **windows[env], "applications": [f"{app}-{env}"]}]
        assert not any(window.get("manualSync") for window in rendered)


def test_validate_names_a_window_dropped_and_automated_sync_added_against_the_answers(
    hardened: Path, tmp_path: Path
) -> None:
    """prod's answers: manual syncs inside a window. A pull request that edits only the Argo CD
    file to sync prod by itself at any time is named on both counts."""
    repo = Path(shutil.copytree(hardened, tmp_path / "repo", symlinks=True))
    app = ANSWER_SETS["hardened-gateway"]["app_name"]
    prod = repo / f"argocd/apps/{app}/prod.yaml"
    project, application = load_all(prod)
    del project["spec"]["syncWindows"]
    application["spec"]["syncPolicy"]["automated"] = {"prune": True, "selfHeal": True}
    prod.write_text(yaml.safe_dump_all([project, application], sort_keys=False))
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    where = f"argocd/apps/{app}/prod.yaml"
    assert (
        f"{where}: AppProject/{app}-prod: syncWindows must be exactly the answered window of prod"
        in result.stdout
    )
    assert f"{where}: Application/{app}-prod: syncPolicy.automated syncs prod by itself" in result.stdout


@pytest.mark.parametrize(
    "widened",
    [
        {"kind": "allow", "schedule": "* * * * *", "duration": "1h", "applications": ["*"]},
        {
            "kind": "allow",
            "schedule": "0 8 * * 1-5",
            "duration": "10h",
            "applications": ["*"],
            "timeZone": "UTC",
        },
    ],
    ids=["second-window", "other-applications"],
)
def test_validate_names_an_answered_window_widened(
    hardened: Path, tmp_path: Path, widened: dict[str, Any]
) -> None:
    repo = Path(shutil.copytree(hardened, tmp_path / "repo", symlinks=True))
    app = ANSWER_SETS["hardened-gateway"]["app_name"]
    prod = repo / f"argocd/apps/{app}/prod.yaml"
    project, application = load_all(prod)
    project["spec"]["syncWindows"].append(widened)
    prod.write_text(yaml.safe_dump_all([project, application], sort_keys=False))
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "syncWindows must be exactly the answered window of prod" in result.stdout


def test_readme_says_how_to_let_manual_syncs_through(defaults: Path) -> None:
    readme = (defaults / "README.md").read_text()
    section = readme.split("## Sync windows", 1)[1].split("\n## ", 1)[0]
    assert "manualSync: true" in section and "manual" in section


# Notifications (item 7).


def test_install_carries_the_catalog_triggers_templates_and_slack_service(defaults: Path) -> None:
    install = yaml.safe_load((defaults / "argocd/install/kustomization.yaml").read_text())
    assert {"path": "notifications.yaml"} in install["patches"]
    (config,) = load_all(defaults / "argocd/install/notifications.yaml")
    kubernetes_validate.validate(config, kubernetes_validate.utils.latest_version(), strict=True)
    assert (config["kind"], config["metadata"]["name"]) == ("ConfigMap", "argocd-notifications-cm")
    data = config["data"]
    assert yaml.safe_load(data["service.slack"]) == {"token": "$slack-token"}
    for trigger, template in (
        ("on-sync-failed", "app-sync-failed"),
        ("on-health-degraded", "app-health-degraded"),
    ):
        (condition,) = yaml.safe_load(data[f"trigger.{trigger}"])
        assert condition["send"] == [template] and condition["when"], trigger
        body = yaml.safe_load(data[f"template.{template}"])
        assert body["message"] and body["slack"]["attachments"], template


def test_install_patches_apply_to_the_install(defaults: Path, tmp_path: Path, kubectl: str) -> None:
    """Built against a stand-in for the remote install.yaml (the tests never download): the
    patches merge into the install's own ConfigMaps, in the argocd namespace, keeping their labels:
    notifications, and Helm enabled for every Kustomize source (an app's chart renders as
    tools/gitops validate renders it)."""
    install = tmp_path / "install"
    install.mkdir()
    for path in (defaults / "argocd/install").iterdir():
        (install / path.name).write_bytes(path.read_bytes())
    (install / "upstream.yaml").write_text(UPSTREAM_NOTIFICATIONS)
    text = (install / "kustomization.yaml").read_text()
    remote = re.compile(
        r'"https://raw\.githubusercontent\.com/argoproj/argo-cd/[^"]+/manifests/install\.yaml"'
    )
    assert remote.search(text)
    (install / "kustomization.yaml").write_text(remote.sub("upstream.yaml", text))
    objects = build(kubectl, install)
    (argocd_cm,) = [o for o in objects if o["metadata"]["name"] == "argocd-cm"]
    assert argocd_cm["metadata"]["namespace"] == "argocd"
    assert argocd_cm["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
    assert argocd_cm["data"] == {"kustomize.buildOptions": "--enable-helm"}
    (config,) = [o for o in objects if o["metadata"]["name"] == "argocd-notifications-cm"]
    assert config["metadata"]["namespace"] == "argocd"
    assert config["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
    assert set(config["data"]) == {
        "service.slack",
        "trigger.on-sync-failed",
        "trigger.on-health-degraded",
        "template.app-sync-failed",
        "template.app-health-degraded",
    }
    (secret,) = [o for o in objects if o["kind"] == "Secret"]
    assert "data" not in secret and "stringData" not in secret, "the token never comes from Git"


def test_install_depends_on_repo_level_answers_only(defaults: Path, tmp_path: Path) -> None:
    """A shared file: another app's answers (channel included) render the same install."""
    other = render(
        tmp_path / "repo",
        {"app_name": "billing", "notifications_channel": "billing-alerts", "team": "billing"},
    )
    for path in sorted((defaults / "argocd/install").iterdir()):
        assert (other / "argocd/install" / path.name).read_text() == path.read_text(), path.name


def test_channel_subscribes_the_app_to_both_triggers(hardened: Path, defaults: Path) -> None:
    channel = ANSWER_SETS["hardened-gateway"]["notifications_channel"]
    subscriptions = {
        "notifications.argoproj.io/subscribe.on-sync-failed.slack",
        "notifications.argoproj.io/subscribe.on-health-degraded.slack",
    }
    for repo, expected in ((hardened, channel), (defaults, None)):
        app = answers_of(repo)["app_name"]
        for obj in argo_objects(repo):
            if obj["kind"] != "Application" or not obj["metadata"]["name"].startswith(f"{app}-"):
                continue
            annotations = obj["metadata"]["annotations"]
            for key in subscriptions:
                assert annotations.get(key) == expected, (repo.name, key)


# Recommended labels (item 9).


def test_recommended_labels_on_every_object_without_touching_selectors(hardened: Path, kubectl: str) -> None:
    app = answers_of(hardened)["app_name"]
    for env in answers_of(hardened)["environments"]:
        objects = build(kubectl, hardened / f"environments/{env}/{app}")
        for obj in objects:
            labels = obj["metadata"]["labels"]
            where = (env, obj["kind"], obj["metadata"]["name"])
            assert labels["app.kubernetes.io/instance"] == f"{app}-{env}", where
            assert labels["app.kubernetes.io/part-of"] == app, where
            assert labels["app.kubernetes.io/managed-by"] == "argocd", where
            assert NAME in labels, where
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        selector = {NAME: app}
        assert deployment["spec"]["selector"] == {"matchLabels": selector}, env
        assert next(o for o in objects if o["kind"] == "Service")["spec"]["selector"] == selector
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert {key: pod_labels[key] for key in RECOMMENDED} == {
            "app.kubernetes.io/instance": f"{app}-{env}",
            "app.kubernetes.io/part-of": app,
            "app.kubernetes.io/managed-by": "argocd",
        }
        # The smoke test's pods keep their own name: the Service must not send them traffic.
        for obj in objects:
            template = (obj.get("spec") or {}).get("template")
            if obj["kind"] != "Deployment" and template:
                assert template["metadata"]["labels"][NAME] != app, (env, obj["kind"])


def test_version_label_moves_with_a_tag_release(hardened: Path, kubectl: str) -> None:
    """The CONTRACT with `tools/gitops release`: one `labels:` entry in release/kustomization.yaml."""
    answers = answers_of(hardened)
    app, tag = answers["app_name"], answers["image_tag"]
    for env in answers["environments"]:
        release = yaml.safe_load(
            (hardened / f"environments/{env}/{app}/release/kustomization.yaml").read_text()
        )
        assert release["labels"] == [
            {"pairs": {VERSION: tag}, "includeSelectors": False, "includeTemplates": True}
        ]
        objects = build(kubectl, hardened / f"environments/{env}/{app}")
        assert all(o["metadata"]["labels"][VERSION] == tag for o in objects), env
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        assert deployment["spec"]["template"]["metadata"]["labels"][VERSION] == tag
        assert VERSION not in deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("image_tag", [DIGEST, *TAGS_THAT_ARE_NOT_LABEL_VALUES])
def test_no_version_label_for_a_digest_or_a_tag_that_is_no_label_value(
    image_tag: str, tmp_path: Path, kubectl: str
) -> None:
    repo = render(tmp_path / "repo", {"app_name": "shop", "environments": ["prod"], "image_tag": image_tag})
    assert "labels" not in yaml.safe_load(
        (repo / "environments/prod/shop/release/kustomization.yaml").read_text()
    )
    objects = build(kubectl, repo / "environments/prod/shop")
    assert not any(VERSION in o["metadata"]["labels"] for o in objects)
    assert all(o["metadata"]["labels"]["app.kubernetes.io/instance"] == "shop-prod" for o in objects)


# manifest-generate-paths (item 9).


def test_every_application_names_the_paths_it_is_generated_from(hardened: Path) -> None:
    """Paths relative to spec.source.path, `;`-separated (Argo CD's high-availability docs)."""
    app = answers_of(hardened)["app_name"]
    applications = [o for o in argo_objects(hardened) if o["kind"] == "Application"]
    assert len(applications) > len(answers_of(hardened)["environments"])  # root and platform too
    for application in applications:
        source = application["spec"]["source"]["path"]
        paths = application["metadata"]["annotations"][GENERATE_PATHS].split(";")
        assert paths[0] == ".", application["metadata"]["name"]
        for path in paths:
            assert (hardened / source / path).resolve().is_dir(), (application["metadata"]["name"], path)
        if source.startswith("environments/"):
            assert paths == [".", f"../../../applications/base/{app}"]
