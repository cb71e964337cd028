"""Many apps in one repository: onboarding with `copier copy`, refusals, updates per app."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import repo_invariants as inv
from tests.conftest import BASE_TEMPLATE_DIR, run_copier_in_process, run_gitops
from tests.template_versions import TemplateRepo, commit_all, copier_update, generate, git, tree_state
from tests.update_scenarios import Scenario, restore

DEPLOYMENT_TEMPLATE = f"{BASE_TEMPLATE_DIR}/deployment.yaml.jinja"
REPO_LEVEL = {
    "environments": ["dev", "staging", "prod-eu"],
    "repo_url": "git@git.example.com:platform/gitops.git",
    "clusters": {"prod-eu": "https://eu.example.com:6443"},
}
# The second and third apps are given only their own answers.
APPS: dict[str, dict[str, Any]] = {
    "shop": {**REPO_LEVEL, "app_name": "shop", "team": "commerce"},
    "cart": {
        "app_name": "cart",
        "image": "ghcr.io/example/cart",
        "image_tag": "3.1.0",
        "container_port": 9000,
    },
    "search": {"app_name": "search", "replicas": {"prod-eu": 6}, "sync_policy": "manual"},
}


def app_paths(app: str) -> tuple[str, ...]:
    return (f".copier-answers.{app}.yml", f"applications/base/{app}/", f"argocd/apps/{app}/", f"/{app}/")


def shared_files(repo: Path, apps: list[str]) -> dict[str, bytes]:
    """Every file that belongs to no app."""
    state = tree_state(repo)
    return {
        path: content
        for path, content in state.items()
        if not any(
            path == own or path.startswith(own) or (own.startswith("/") and own in f"/{path}")
            for app in apps
            for own in app_paths(app)
        )
    }


def as_data(value: Any) -> str:
    """How a user writes an answer on the command line (JSON is YAML for lists and mappings)."""
    return value if isinstance(value, str) else json.dumps(value)


def copy_cli(
    template: TemplateRepo, destination: Path, answers: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    """`copier copy` as an app team runs it: non-interactive, answers with --data."""
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={as_data(value)}")]
    # Copier's own command line in this process: the same output and exit code as
    # `python -m copier` (tests/test_gitops_runner.py), without a second of interpreter start.
    arguments = ["copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", *data]
    return run_copier_in_process(Path.cwd(), *arguments, str(template.path), str(destination))


def onboard_three_apps(template: TemplateRepo, destination: Path) -> Path:
    """Three apps onboarded one after the other, a user edit to shared files in between."""
    repo = generate(template, destination, APPS["shop"], "v1.0.0")
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nPlatform team: #platform.\n")
    root_project = repo / "argocd/bootstrap/root-project.yaml"
    root_project.write_text(
        root_project.read_text().replace("  description:", "  # reviewed\n  description:")
    )
    commit_all(repo, "Platform edits")
    shared_before = shared_files(repo, ["shop"])
    for app in ("cart", "search"):
        result = copy_cli(template, repo, APPS[app])
        assert result.returncode == 0, result.stderr
        commit_all(repo, f"Onboard {app}")
        assert shared_files(repo, ["shop", "cart", "search"]) == shared_before, f"{app} changed shared files"
    return repo


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per module (each `copier copy` process takes seconds), restored for each test:
    this work tree released as v1.0.0 and onboard_three_apps of it, as update_scenarios keeps
    its pristine template and repository."""
    root = tmp_path_factory.mktemp("onboarded")
    template = TemplateRepo.from_work_tree(root / "template")
    onboard_three_apps(template, root / "pristine-repo")
    template.path.rename(root / "pristine-template")
    return root


@pytest.fixture
def restored(onboarded: Path, tmp_path: Path) -> Scenario:
    return restore(onboarded, tmp_path)


@pytest.fixture
def template(restored: Scenario) -> TemplateRepo:
    """The module's template, as released (a test may release more versions of it)."""
    return restored.template


@pytest.fixture
def repo(restored: Scenario) -> Path:
    """onboard_three_apps of the module's template, restored."""
    return restored.repo


def test_onboarded_apps_take_repo_level_answers_and_build(repo: Path, kubectl: str) -> None:
    for app in APPS:
        answers = yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())
        assert {key: answers[key] for key in REPO_LEVEL} == REPO_LEVEL
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 overlays built" in result.stderr
    built = subprocess.run(
        [kubectl, "kustomize", str(repo / "environments/prod-eu/search")], capture_output=True, text=True
    )
    deployment = next(d for d in yaml.safe_load_all(built.stdout) if d["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == "search-prod-eu" and deployment["spec"]["replicas"] == 6
    assert "Platform team: #platform." in (repo / "README.md").read_text()


def test_every_app_meets_the_invariants(repo: Path, kubectl: str, tmp_path: Path) -> None:
    """The single-app invariants hold for each app of a many-app repository."""
    for app in APPS:
        single = tmp_path / app
        subprocess.run(["git", "clone", "-q", str(repo), str(single)], check=True)
        for other in set(APPS) - {app}:
            for path in single.glob(f"**/{other}"):
                subprocess.run(["rm", "-rf", str(path)], check=True)
            (single / f".copier-answers.{other}.yml").unlink()
        facts = inv.read_repo(single, kubectl)
        inv.check_namespaces(facts)
        inv.check_release_and_replicas(facts)
        inv.check_applications(facts)
        inv.check_argo_objects_strict(facts)


def test_onboarding_order_does_not_matter(template: TemplateRepo, tmp_path: Path) -> None:
    trees = []
    for order in (("shop", "cart", "search"), ("search", "shop", "cart")):
        repo = tmp_path / "-".join(order)
        for index, app in enumerate(order):
            answers = (
                {**APPS[app], **REPO_LEVEL}
                if index == 0
                else {k: v for k, v in APPS[app].items() if k not in REPO_LEVEL}
            )
            generate(template, repo, answers, "v1.0.0")
        trees.append({path: content for path, content in tree_state(repo).items()})
    assert trees[0] == trees[1]


def test_update_of_one_app_touches_only_its_files_and_shared_files(
    template: TemplateRepo, repo: Path
) -> None:
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.edit("template/README.md.jinja", "# GitOps repository", "# GitOps repository of the platform")
    template.release("v1.1.0")
    copier_update(repo, "cart")
    changed = set(git(repo, "status", "--porcelain").split()[1::2])
    assert changed == {".copier-answers.cart.yml", "README.md", "applications/base/cart/deployment.yaml"}
    readme = (repo / "README.md").read_text()
    assert "# GitOps repository of the platform" in readme and "Platform team: #platform." in readme


def test_update_never_trips_the_onboarding_refusals(template: TemplateRepo, repo: Path) -> None:
    """An existing app updated with a repo-level change: its name exists, gitops.yaml differs."""
    before = yaml.safe_load((repo / ".copier-answers.cart.yml").read_text())
    copier_update(repo, "cart", data={"argocd_version": "v3.6.3"})
    after = yaml.safe_load((repo / ".copier-answers.cart.yml").read_text())
    assert after["app_name"] == "cart" and after["argocd_version"] == "v3.6.3"
    assert {k: v for k, v in after.items() if k != "argocd_version"} == {
        k: v for k, v in before.items() if k != "argocd_version"
    }
    assert (repo / "applications/base/cart/deployment.yaml").is_file()
    assert not (repo / "applications/base/myapp").exists()


MOVED_CLUSTER = "https://eu-2.example.com:6443"


def test_more_apps_than_workers_equal_copier_update_by_hand(
    template: TemplateRepo, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three apps on two workers, with a repo-level change the validation of each app reads
    (gitops.yaml's clusters: the repository-level files are rendered by the first app only, and
    the others start from its commit, where gitops.yaml holds the new cluster): two worktrees in
    all (one per worker, not one checkout of the whole repository per app), and the branch ends
    as `copier update` of each app by hand leaves it, one commit per app in order."""
    by_hand = Path(shutil.copytree(repo, tmp_path / "by-hand", symlinks=True))
    start = git(repo, "rev-parse", "HEAD").strip()
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 9")
    template.release("v1.1.0")
    trace = tmp_path / "git-trace.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))  # every git process the run starts
    result = run_gitops(repo, "update", "--jobs", "2", "--data", f"clusters={{prod-eu: {MOVED_CLUSTER}}}")
    monkeypatch.delenv("GIT_TRACE2_EVENT")
    assert result.returncode == 0, result.stdout + result.stderr
    started = [json.loads(line) for line in trace.read_text().splitlines() if '"event":"start"' in line]
    added = [event["argv"] for event in started if "worktree" in event["argv"] and "add" in event["argv"]]
    assert len(added) == 2, added
    for app in sorted(APPS):
        copier_update(by_hand, app, data={"clusters": {"prod-eu": MOVED_CLUSTER}})
        commit_all(by_hand, f"Update {app}")
    assert tree_state(repo) == tree_state(by_hand)
    assert MOVED_CLUSTER in (repo / "gitops.yaml").read_text()
    subjects = git(repo, "log", "--format=%s", f"{start}..HEAD").splitlines()
    assert subjects == [f"Update {app} to gitops-template v1.1.0" for app in sorted(APPS, reverse=True)]


REFUSALS = {
    "app-already-exists": ({"app_name": "cart"}, "app_name: an app called 'cart' already exists"),
    "repo-url-differs": (
        {"app_name": "new", "repo_url": "https://github.com/other/gitops.git"},
        "tools/gitops update --data repo_url=",
    ),
    "environments-differ": (
        {"app_name": "new", "environments": ["dev", "prod-eu"]},
        "tools/gitops update --data environments=",
    ),
    "argocd-version-differs": (
        {"app_name": "new", "argocd_version": "v3.5.1"},
        "argocd_version: 'v3.5.1' differs",
    ),
    "clusters-differ": ({"app_name": "new", "clusters": {}}, "clusters: {} differs"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS), ids=str)
def test_onboarding_refusal(template: TemplateRepo, repo: Path, case: str) -> None:
    answers, message = REFUSALS[case]
    before = tree_state(repo)
    result = copy_cli(template, repo, answers)
    assert result.returncode != 0
    assert message in result.stderr.strip().splitlines()[-1]
    assert tree_state(repo) == before and git(repo, "status", "--porcelain") == ""


def test_namespace_collision_is_refused(template: TemplateRepo, tmp_path: Path) -> None:
    repo = generate(
        template, tmp_path / "collision", {"app_name": "a", "environments": ["eu", "prod-eu"]}, "v1.0.0"
    )
    before = tree_state(repo)
    result = copy_cli(template, repo, {"app_name": "a-prod"})
    assert result.returncode != 0
    assert "namespace a-prod-eu of 'a-prod' in 'eu' is already the namespace of app 'a'" in result.stderr
    assert tree_state(repo) == before


def test_a_host_another_app_routes_is_refused(template: TemplateRepo, tmp_path: Path) -> None:
    """The shared controller would merge them (validate refuses it): the copy refuses it first,
    the other app's default hosts included."""
    repo = generate(
        template,
        tmp_path / "hosts",
        {"app_name": "shop", "exposure": "ingress", "hosts": {"prod": "shop.example.com"}},
        "v1.0.0",
    )
    before = tree_state(repo)
    for hosts, message in (
        ({"prod": "shop.example.com"}, "hosts: prod uses shop.example.com, which app shop in prod routes"),
        ({"staging": "shop.dev.example.com"}, "which app shop in dev routes already"),
    ):
        result = copy_cli(template, repo, {"app_name": "cart", "exposure": "gateway", "hosts": hosts})
        assert result.returncode != 0, result.stdout + result.stderr
        assert message in result.stderr.strip().splitlines()[-1], result.stderr
        assert tree_state(repo) == before
    accepted = copy_cli(template, repo, {"app_name": "cart", "exposure": "ingress"})
    assert accepted.returncode == 0, accepted.stderr
