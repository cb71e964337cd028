"""The generated renovate.json: valid for Renovate 44, and Renovate itself, run offline on a generated
repository, bumps images only in the first environment's releases, one pull request per app, and
the Argo CD version only behind dependency-dashboard approval.

Renovate runs with `--platform=local --dry-run=lookup`: the real extraction and the real package
rules and branch names, with its datasources swapped for local files (nothing leaves the machine).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from scripts import dev
from tests.answer_sets import ANSWER_SETS
from tests.conftest import TEMPLATE_ROOT, run_gitops
from tests.helm_repository import ChartRepository
from tests.template_versions import TemplateRepo, commit_all, generate, git

# The first environment is not `dev` here: a config that names `dev` instead of the answer finds nothing.
FIRST_ENV = "qa"
APPS = ("myapp", "cart")
IMAGE = "nginxinc/nginx-unprivileged"
TAG = "1.29.3-alpine"
NEWER_TAG = "1.30.0-alpine"
ARGOCD = "argoproj/argo-cd"
ARGOCD_VERSION = "v3.6.2"
NEWER_ARGOCD = "v3.7.0"
# What the offline datasources answer. Argo CD's prerelease and its tag without `v` are no
# pinned vX.Y.Z (the argocd_version question refuses them): Renovate must not propose them.
# An app with a Helm chart (workload helm-chart): its chart and the chart's image.
CHART_APP, CHART, CHART_VERSION, NEWER_CHART = "web", "hello", "0.1.0", "0.2.0"
CHART_IMAGE = "ghcr.io/example/hello"
OFFLINE_RELEASES = {
    "offline-images.json": [TAG, NEWER_TAG],
    "offline-argocd.json": [ARGOCD_VERSION, NEWER_ARGOCD, "v3.8.0-rc1", "3.9.0"],
    "offline-charts.json": [CHART_VERSION, NEWER_CHART],
}


def npm_tool(script: str) -> list[str]:
    node, entry = dev.node_path(), dev.npm_tool_script("renovate", script)
    if not node.is_file() or not entry.is_file():
        pytest.fail(f"Renovate not found at {entry}: `python3 scripts/dev.py test` installs it, or run: "
                    f"{dev.npm_tools_install_command()}")  # fmt: skip
    return [str(node), str(entry)]


def renovate_env(home: Path) -> dict[str, str]:
    """This process's environment without anyone's Renovate settings, with HOME and every cache in `home`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RENOVATE_", "LOG_"))}
    return {
        **env,
        "HOME": str(home),
        "RENOVATE_BASE_DIR": str(home / "renovate"),
        "XDG_CACHE_HOME": str(home),
    }


def first_env(answers: dict[str, Any]) -> str:
    """The first environment of an answer set, or of copier.yml's default list."""
    return str((answers.get("environments") or ["dev", "staging", "prod"])[0])


@pytest.fixture(scope="module")
def plain_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain copy of this work tree's template: from this git repository Copier clones the
    template before every render, which takes ten times as long as the render of renovate.json."""
    copy = tmp_path_factory.mktemp("template")
    shutil.copy(TEMPLATE_ROOT / "copier.yml", copy)
    for folder in ("template", "extensions", "migrations"):
        shutil.copytree(TEMPLATE_ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def render_from(
    template: Path, destination: Path, answers: dict[str, Any], exclude: list[str] | None = None
) -> Path:
    copier.run_copy(
        str(template),
        destination,
        data=answers,
        defaults=True,
        unsafe=True,
        quiet=True,
        exclude=exclude or [],
    )
    return destination


@pytest.fixture(scope="module")
def rendered_configs(plain_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """renovate.json alone, for every answer set."""
    return {
        name: render_from(plain_template, tmp_path_factory.mktemp(name), answers, ["*", "!renovate.json"])
        / "renovate.json"
        for name, answers in ANSWER_SETS.items()
    }


def test_renovate_config_validator_accepts_the_config(
    rendered_configs: dict[str, Path], tmp_path: Path
) -> None:
    """--strict: a warning or a needed migration (an option Renovate renamed, e.g. fileMatch) fails too."""
    files = [str(path) for path in rendered_configs.values()]
    result = subprocess.run(
        [*npm_tool("dist/config-validator.js"), "--strict", "--no-global", *files],
        capture_output=True, text=True, env=renovate_env(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"validated successfully against {len(files)} file(s)" in result.stdout + result.stderr


def test_the_config_follows_the_first_environment_of_the_answers(rendered_configs: dict[str, Path]) -> None:
    for name, path in rendered_configs.items():
        config = json.loads(path.read_text())
        wanted = f"environments/{first_env(ANSWER_SETS[name])}/*/release/kustomization.yaml"
        assert config["includePaths"] == [wanted, "gitops.yaml"], name


def test_releases_by_digest_get_no_pull_request(rendered_configs: dict[str, Path]) -> None:
    """Read from the config: the offline datasources have no digests, so Renovate proposes none.
    A release by digest names no tag, and Renovate would look up the digest of `latest`."""
    rules = json.loads(rendered_configs["defaults"].read_text())["packageRules"]
    assert {"matchManagers": ["kustomize"], "matchUpdateTypes": ["digest"], "enabled": False} in [
        {key: value for key, value in rule.items() if key != "description"} for rule in rules
    ]


@pytest.fixture(scope="module")
def two_apps(
    module_template: TemplateRepo, tmp_path_factory: pytest.TempPathFactory, chart_repository: ChartRepository
) -> Path:
    """A repository whose first environment is qa, with two apps on the same image and tag (the
    second one onboarded as app teams do) and a third app with a Helm chart, from a released
    template (tools/gitops update needs one), and the files the offline datasources read."""
    repo = tmp_path_factory.mktemp("renovate") / "repo"
    generate(module_template, repo, {"environments": [FIRST_ENV, "prod"]}, "v1.0.0")
    generate(module_template, repo, {"app_name": "cart"}, "v1.0.0")
    # The tests' chart repository (Renovate's lookups go to an offline datasource, the builds of
    # tools/gitops update and validate to this one).
    chart = {"workload": "helm-chart", "chart_repo": chart_repository.secure_url, "chart_name": CHART}
    chart |= {"chart_version": CHART_VERSION, "image": CHART_IMAGE, "image_tag": TAG}
    generate(module_template, repo, {"app_name": CHART_APP, **chart}, "v1.0.0")
    # Left untracked: Renovate reads a local datasource from its work tree, but never extracts it.
    for name, versions in OFFLINE_RELEASES.items():
        (repo / name).write_text(json.dumps({"releases": [{"version": version} for version in versions]}))
    return repo


@pytest.fixture(scope="module")
def renovate_run(two_apps: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One dry run of Renovate on the repository: its report (extracted dependencies and their
    updates) and the branches it would open, each with its upgrades as Renovate resolved them."""
    home = tmp_path_factory.mktemp("renovate-home")
    offline = {
        "customDatasources": {
            name: {"defaultRegistryUrlTemplate": f"file://offline-{name}.json", "format": "json"}
            for name in ("images", "argocd", "charts")
        },
        "packageRules": [
            {"matchDatasources": ["docker"], "overrideDatasource": "custom.images"},
            # The chart's own repository URL would win over the datasource's default: replaced too.
            {
                "matchDatasources": ["helm"],
                "overrideDatasource": "custom.charts",
                "registryUrls": ["file://offline-charts.json"],
            },
            {"matchDatasources": ["github-releases"], "overrideDatasource": "custom.argocd"},
        ],
        # Renovate skips a github-releases dependency without a token, before any lookup.
        "hostRules": [{"matchHost": "api.github.com", "token": "offline-test-token"}],
    }
    (home / "offline.json").write_text(json.dumps(offline))
    report = home / "report.json"
    env = {
        **renovate_env(home),
        "RENOVATE_CONFIG_FILE": str(home / "offline.json"),
        # The branches and their resolved upgrades are logged at trace level only.
        "LOG_LEVEL": "trace",
        "LOG_FORMAT": "json",
    }
    result = subprocess.run(
        [*npm_tool("dist/renovate.js"), "--platform=local", "--dry-run=lookup", "--report-type=file",
         f"--report-path={report}"],
        cwd=two_apps, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    branches: dict[str, list[dict[str, Any]]] = {}
    titles: dict[str, str] = {}
    for line in result.stdout.splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        if entry.get("msg") == "generateBranchConfig":
            branches[entry["branch"]] = entry["config"]
        elif entry.get("msg", "").startswith("prTitle: "):
            titles[entry["branch"]] = json.loads(entry["msg"].removeprefix("prTitle: "))
    repository = json.loads(report.read_text())["repositories"]["local"]
    return {
        "problems": repository["problems"],
        "packageFiles": repository["packageFiles"],
        "branches": branches,
        "titles": titles,
    }


def deps_by_file(renovate_run: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        package_file["packageFile"]: package_file["deps"]
        for files in renovate_run["packageFiles"].values()
        for package_file in files
    }


def test_images_are_found_only_in_the_first_environment_releases(renovate_run: dict[str, Any]) -> None:
    """Not in prod's releases (the same image and tag), the bases, the Argo CD install or the workflows."""
    found = deps_by_file(renovate_run)
    releases = {f"environments/{FIRST_ENV}/{app}/release/kustomization.yaml" for app in APPS}
    chart_release = f"environments/{FIRST_ENV}/{CHART_APP}/release/kustomization.yaml"
    assert set(found) == releases | {chart_release, "gitops.yaml"}
    for path in releases:
        assert [(dep["depName"], dep["datasource"], dep["currentValue"]) for dep in found[path]] == [
            (IMAGE, "docker", TAG)
        ], path
        assert [update["newValue"] for update in found[path][0]["updates"]] == [NEWER_TAG], path


def test_a_charts_version_is_found_only_in_the_first_environment_with_its_image(
    renovate_run: dict[str, Any],
) -> None:
    """A chart app's release: the chart (Renovate's HelmChart dependency of the helmCharts entry)
    and the image, each with its newer version; the pull request of the chart says how to bring
    the chart's image along."""
    found = deps_by_file(renovate_run)[f"environments/{FIRST_ENV}/{CHART_APP}/release/kustomization.yaml"]
    extracted = {(dep["depName"], dep.get("depType", ""), dep["currentValue"]) for dep in found}
    assert (CHART, "HelmChart", CHART_VERSION) in extracted, extracted
    assert any(name == CHART_IMAGE and value == TAG for name, _, value in extracted), extracted
    [chart] = [dep for dep in found if dep["depName"] == CHART]
    assert [update["newValue"] for update in chart["updates"]] == [NEWER_CHART]
    upgrades = [
        u for upgrades in renovate_run["branches"].values() for u in upgrades if u["depName"] == CHART
    ]
    assert len(upgrades) == 1, upgrades
    # The notes as Renovate keeps them before it renders the pull request's body.
    notes = " ".join(upgrades[0]["prBodyNotes"])
    assert "--chart-version {{{newValue}}} --tag <image tag>" in notes, notes
    assert "--tag {{{newValue}}}" not in notes, "an image's note on a chart's pull request"


def test_argocd_version_is_found_and_only_pinned_releases_are_proposed(renovate_run: dict[str, Any]) -> None:
    [dep] = deps_by_file(renovate_run)["gitops.yaml"]
    assert (dep["depName"], dep["datasource"], dep["currentValue"]) == (
        ARGOCD,
        "github-releases",
        ARGOCD_VERSION,
    )
    assert [update["newValue"] for update in dep["updates"]] == [NEWER_ARGOCD]
    assert not dep.get("skipReason") and not dep.get("warnings")
    assert not renovate_run["problems"], json.dumps(renovate_run["problems"])[:2000]


def test_apps_sharing_an_image_get_a_pull_request_each(renovate_run: dict[str, Any]) -> None:
    """Renovate's own branching: one branch is one pull request, and updates of the same image to the
    same tag would share a branch unless the config keeps the apps apart."""
    image_branches = {
        name: {upgrade["packageFile"] for upgrade in upgrades}
        for name, upgrades in renovate_run["branches"].items()
        if any(upgrade["depName"] == IMAGE for upgrade in upgrades)
    }
    releases = sorted(f"environments/{FIRST_ENV}/{app}/release/kustomization.yaml" for app in APPS)
    assert sorted(sorted(files) for files in image_branches.values()) == [[path] for path in releases], (
        image_branches
    )
    # Each title names its app: the two pull requests must not read alike.
    for branch, files in image_branches.items():
        app = next(iter(files)).split("/")[2]
        assert renovate_run["titles"][branch].endswith(f" ({app})"), renovate_run["titles"]


def test_image_pull_requests_open_without_approval(renovate_run: dict[str, Any]) -> None:
    upgrades = [upgrade for upgrades in renovate_run["branches"].values() for upgrade in upgrades]
    images = [upgrade for upgrade in upgrades if upgrade["depName"] == IMAGE]
    assert len(images) == len(APPS)
    assert not any(upgrade.get("dependencyDashboardApproval") for upgrade in images)
    for upgrade in images:
        notes = " ".join(upgrade["prBodyNotes"])
        # promote moves the release on; release also sets the version label Renovate leaves behind.
        assert "tools/gitops promote" in notes and "tools/gitops release --app " in notes, notes


def argocd_upgrade(renovate_run: dict[str, Any]) -> dict[str, Any]:
    [upgrade] = [
        upgrade
        for upgrades in renovate_run["branches"].values()
        for upgrade in upgrades
        if upgrade["depName"] == ARGOCD
    ]
    return upgrade


def argocd_notes(renovate_run: dict[str, Any]) -> str:
    """The notes of the Argo CD pull request, with the new version filled in as Renovate does
    when it writes the pull request body."""
    upgrade = argocd_upgrade(renovate_run)
    return " ".join(upgrade["prBodyNotes"]).replace("{{{newValue}}}", upgrade["newValue"])


def test_argocd_pull_request_waits_for_approval_and_names_the_whole_change(
    renovate_run: dict[str, Any],
) -> None:
    """A gitops.yaml-only bump is incomplete: Renovate opens it only when approved on the
    Dependency Dashboard, with a note naming the command that makes it complete."""
    upgrade = argocd_upgrade(renovate_run)
    assert upgrade["dependencyDashboardApproval"] is True
    assert upgrade["newValue"] == NEWER_ARGOCD
    assert f"`tools/gitops update --data argocd_version={NEWER_ARGOCD}`" in argocd_notes(renovate_run)


def renovate_argocd_branch(two_apps: Path, renovate_run: dict[str, Any], destination: Path) -> Path:
    """A clone of the repository with Renovate's Argo CD commit: what its autoReplace does, the
    extracted string with the proposed version in place of the current one."""
    [dep] = deps_by_file(renovate_run)["gitops.yaml"]
    git(destination.parent, "clone", "-q", str(two_apps), str(destination))
    gitops_yaml = destination / "gitops.yaml"
    text = gitops_yaml.read_text()
    assert dep["replaceString"] in text
    bumped = dep["replaceString"].replace(dep["currentValue"], dep["updates"][0]["newValue"])
    gitops_yaml.write_text(text.replace(dep["replaceString"], bumped, 1))
    commit_all(destination, f"Update Argo CD to {dep['updates'][0]['newValue']}")
    return destination


def test_argocd_bump_of_gitops_yaml_alone_fails_validate(
    two_apps: Path, renovate_run: dict[str, Any], tmp_path: Path
) -> None:
    """Even approved and opened, the pull request as Renovate writes it cannot pass Validate."""
    repo = renovate_argocd_branch(two_apps, renovate_run, tmp_path / "repo")
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"installs {ARGOCD_VERSION} but gitops.yaml says {NEWER_ARGOCD}" in result.stdout + result.stderr


def test_argocd_pull_request_is_completed_by_the_command_its_note_names(
    two_apps: Path, renovate_run: dict[str, Any], tmp_path: Path
) -> None:
    """On Renovate's branch (gitops.yaml already changed) the update merges cleanly, brings every
    answers file and the install along, and validates (update undoes a change that does not)."""
    repo = renovate_argocd_branch(two_apps, renovate_run, tmp_path / "repo")
    # A set: Renovate lists a note once per package rule pass (and dedupes it in the body).
    [command] = set(re.findall(r"`tools/gitops ([^`]+)`", argocd_notes(renovate_run)))
    result = run_gitops(repo, *command.split())
    assert result.returncode == 0, result.stdout + result.stderr
    for app in APPS:
        assert (
            yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())["argocd_version"]
            == NEWER_ARGOCD
        )
    install = (repo / "argocd/install/kustomization.yaml").read_text()
    assert f"/argo-cd/{NEWER_ARGOCD}/manifests/" in install and ARGOCD_VERSION not in install
    assert git(repo, "status", "--porcelain") == ""
