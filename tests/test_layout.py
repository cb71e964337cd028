"""template/tools/gitopslib/layout.py owns the layout's names: copier.yml, the extensions and a
generated repository agree with it.

The extensions cannot import it as a package (Copier loads them by path): they load the file by
path, once per content. Renaming a layout name in one place and not the other fails here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
import yaml
from gitopslib import layout

from tests.conftest import TEMPLATE_ROOT, render

COPIER_YML: dict[str, Any] = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
QUESTIONS = {name: spec for name, spec in COPIER_YML.items() if not name.startswith("_")}
APP = "shop"
ENVIRONMENTS = ["dev", "qa", "prod"]


def load_extension(name: str, as_name: str) -> ModuleType:
    """As copier-template-extensions loads it: by file path, a new module each time."""
    spec = importlib.util.spec_from_file_location(as_name, TEMPLATE_ROOT / "extensions" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


answer_checks = load_extension("answer_checks", "answer_checks_under_test")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("layout") / "repo", {"app_name": APP, "environments": ENVIRONMENTS})


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


# --- the pure functions ------------------------------------------------------------------------


@pytest.mark.parametrize("app", ["shop", "a", "my-app-2", "tools"])
def test_answers_file_names_the_app_and_back(app: str) -> None:
    assert layout.app_of_answers_file(layout.answers_file(app)) == app
    assert layout.app_of_answers_file(f"some/dir/{layout.answers_file(app)}") == app
    assert Path(layout.answers_file(app)).match(layout.ANSWERS_GLOB)


@pytest.mark.parametrize(
    "name",
    [".copier-answers.yml", ".copier-answers..yml", "copier-answers.shop.yml", ".copier-answers.shop.yaml"],
)
def test_other_names_are_no_answers_files(name: str) -> None:
    assert layout.app_of_answers_file(name) is None


def test_release_paths() -> None:
    assert layout.overlay_dir("dev", APP) == "environments/dev/shop"
    assert layout.release_dir("dev", APP) == "environments/dev/shop/release"
    assert layout.release_file("dev", APP) == "environments/dev/shop/release/kustomization.yaml"
    assert layout.provenance_file("dev", APP) == "environments/dev/shop/release/provenance.yaml"
    assert Path(layout.release_dir("dev", APP)).match(layout.RELEASE_DIRS_GLOB)


@pytest.mark.parametrize(
    ("path", "folder"),
    [
        ("environments/dev/shop/release/kustomization.yaml", "environments/dev/shop/release"),
        ("environments/dev/shop/release/patch.yaml", "environments/dev/shop/release"),
        ("environments/dev/shop/release/sub/patch.yaml", None),
        ("environments/dev/shop/kustomization.yaml", None),
        ("environments/dev/shop/releases/kustomization.yaml", None),
        ("applications/base/release/x/release/kustomization.yaml", None),
    ],
)
def test_release_dir_of(path: str, folder: str | None) -> None:
    assert layout.release_dir_of(path) == folder


@pytest.mark.parametrize(
    ("kustomization", "namespace"),
    [
        ({"namespace": "payments"}, "payments"),
        ({"namespace": ""}, None),
        ({"namespace": 3}, None),
        ({}, None),
        ([], None),
        (None, None),
        ("namespace: x", None),
    ],
)
def test_namespace_of(kustomization: Any, namespace: str | None) -> None:
    assert layout.namespace_of(kustomization) == namespace


# --- copier.yml --------------------------------------------------------------------------------


@pytest.mark.parametrize("app", ["shop", "my-app-2"])
def test_copier_answers_file_agrees_with_layout(app: str) -> None:
    rendered = jinja2.Environment().from_string(COPIER_YML["_answers_file"]).render(app_name=app)
    assert rendered == layout.answers_file(app)


def test_copier_settings_file_and_release_pattern_agree_with_layout() -> None:
    assert COPIER_YML["_external_data"]["repo"] == layout.SETTINGS_FILE
    assert f"{layout.RELEASE_DIRS_GLOB}/*" in COPIER_YML["_skip_if_exists"]


def test_every_repo_level_question_and_only_those_use_the_one_repo_level_filter() -> None:
    """The consistency check with gitops.yaml lives in Python once (repo_level_problem), for the
    keys layout lists once; each question passes its own name."""
    using = {name for name, spec in QUESTIONS.items() if "repo_level_problem" in str(spec.get("validator"))}
    assert using == set(layout.REPO_LEVEL_KEYS)
    for name in using:
        validator = QUESTIONS[name]["validator"]
        assert re.findall(r"repo_level_problem\(\s*'(\w+)'", validator) == [name], validator
        assert f"_external_data.repo.{name} " in QUESTIONS[name]["default"], "defaults to gitops.yaml's value"
    assert not any("repo_setting_problem" in str(spec.get("validator")) for spec in QUESTIONS.values())


def render_validator(template: str, **context: Any) -> str:
    environment = jinja2.Environment(extensions=[answer_checks.AnswerChecks])
    return environment.from_string(template).render(**context)


def test_repo_level_filter_reports_the_own_check_first_then_gitops_yaml_on_a_copy() -> None:
    settings = {"_external_data": {"repo": {"repo_url": "https://x.example/a.git"}}}
    validator = "{{ repo_url | repo_level_problem('repo_url', repo_url | repo_url_problem) }}"
    assert render_validator(validator, repo_url="https://x.example/a.git", **settings) == ""
    assert render_validator(validator, repo_url="nope", **settings).startswith(
        "repo_url: 'nope' is not a Git URL"
    )
    differs = render_validator(validator, repo_url="https://y.example/b.git", **settings)
    assert differs.startswith("repo_url: 'https://y.example/b.git' differs from 'https://x.example/a.git'")
    assert render_validator(validator, repo_url="https://y.example/b.git", _external_data={}) == ""


def test_repo_level_filter_refuses_a_key_that_is_not_repo_level() -> None:
    with pytest.raises(ValueError, match="app_name is not a repo-level key"):
        render_validator("{{ app_name | repo_level_problem('app_name') }}", app_name="shop")


# --- the extensions load layout.py by path, once per content -----------------------------------


def test_extensions_share_one_layout_module_per_content(tmp_path: Path) -> None:
    again = load_extension("answer_checks", "answer_checks_again")
    context = load_extension("gitops_context", "gitops_context_under_test")
    module = answer_checks.load_layout()
    assert again.load_layout() is module and context.load_layout() is module
    assert sys.modules[module.__name__] is module and module.__name__.startswith("_gitops_template_layout_")
    assert module.answers_file(APP) == layout.answers_file(APP)
    assert context.IN_CLUSTER_SERVER == layout.IN_CLUSTER_SERVER
    # Another template version (as `copier update` renders in the same process) keeps its own.
    other = tmp_path / "layout.py"
    other.write_text(answer_checks.LAYOUT_FILE.read_text().replace('"release"', '"releases"'))
    older = answer_checks.load_layout(other)
    assert older is not module and older.release_dir("dev", APP) == "environments/dev/shop/releases"


# --- a generated repository --------------------------------------------------------------------


def test_generated_files_are_where_layout_says(repo: Path) -> None:
    assert (repo / layout.SETTINGS_FILE).is_file()
    assert [p.name for p in repo.glob(layout.ANSWERS_GLOB)] == [layout.answers_file(APP)]
    assert set(read_yaml(repo / layout.SETTINGS_FILE)) >= layout.REPO_LEVEL_KEYS
    assert set(read_yaml(repo / layout.answers_file(APP))) >= layout.REPO_LEVEL_KEYS
    assert (repo / layout.base_dir(APP) / layout.KUSTOMIZATION).is_file()
    for env in ENVIRONMENTS:
        overlay = read_yaml(repo / layout.overlay_dir(env, APP) / layout.KUSTOMIZATION)
        assert layout.namespace_of(overlay) == layout.app_env_name(APP, env)
        assert overlay["components"] == [layout.RELEASE]
        assert (repo / layout.release_file(env, APP)).is_file()
        assert not (repo / layout.provenance_file(env, APP)).exists()


def test_generated_labels_and_servers_are_the_layout_names(repo: Path) -> None:
    deployment = read_yaml(repo / layout.base_dir(APP) / "deployment.yaml")
    assert set(deployment["spec"]["selector"]["matchLabels"]) == {layout.NAME_LABEL}
    for env in ENVIRONMENTS:
        overlay = read_yaml(repo / layout.overlay_dir(env, APP) / layout.KUSTOMIZATION)
        # Then Kubernetes' recommended labels (the template's own names; no tool reads them).
        assert [set(entry["pairs"]) for entry in overlay["labels"]] == [
            {layout.ENVIRONMENT_LABEL, layout.TEAM_LABEL},
            {"app.kubernetes.io/instance", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"},
        ]
        project, application = yaml.safe_load_all((repo / f"argocd/apps/{APP}/{env}.yaml").read_text())
        for obj in (project, application):
            assert obj["metadata"]["name"] == layout.app_env_name(APP, env)
            assert set(obj["metadata"]["labels"]) == {
                layout.NAME_LABEL,
                layout.ENVIRONMENT_LABEL,
                layout.TEAM_LABEL,
            }
        assert application["spec"]["destination"]["server"] == layout.IN_CLUSTER_SERVER
        assert application["spec"]["source"]["path"] == layout.overlay_dir(env, APP)
    root = read_yaml(repo / "argocd/bootstrap/root-application.yaml")
    assert root["spec"]["destination"]["server"] == layout.IN_CLUSTER_SERVER
