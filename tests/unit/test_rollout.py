"""gitopslib/rollout.py: a repo-level change gitops.yaml holds and some apps' answers do not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gitopslib.rollout import as_answer, as_data, shared_files_first, unfinished_rollout, with_data

SETTINGS = {"environments": ["dev", "qa", "prod"], "argocd_ha": False, "repo_url": "https://x/y.git"}


@pytest.mark.parametrize(
    "value", [["dev", "qa"], False, True, {}, {"prod": "7d"}, "v3.6.3", "yes", "1.0", "https://x/y.git"]
)
def test_data_reads_back_as_the_answer_copier_would_store(value: Any) -> None:
    """Copier keeps a str answer as written and reads the others as YAML."""
    text = as_data(value)
    assert (text if isinstance(value, str) else as_answer(text)) == value


def test_an_app_behind_gitops_yaml_is_found(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_text(yaml.safe_dump({**SETTINGS, "exceptions": []}))
    done = {**SETTINGS, "app_name": "cart"}
    behind = {**SETTINGS, "environments": ["dev", "prod"], "app_name": "shop"}
    older = {"environments": ["dev", "qa", "prod"], "app_name": "old"}  # no argocd_ha stored: not behind
    assert unfinished_rollout(tmp_path, {"cart": done, "old": older}) == {}
    assert unfinished_rollout(tmp_path, {"cart": done, "shop": behind}) == {"environments": "[dev, qa, prod]"}


def test_a_hand_edit_of_gitops_yaml_is_no_rollout_to_finish(tmp_path: Path) -> None:
    """No answers file holds the value gitops.yaml holds: nobody ran the change, validate names it."""
    (tmp_path / "gitops.yaml").write_text(yaml.safe_dump({**SETTINGS, "protected_environments": []}))
    answers = {app: {**SETTINGS, "protected_environments": ["prod"]} for app in ("cart", "shop")}
    assert unfinished_rollout(tmp_path, answers) == {}


def test_a_text_answer_gitops_yaml_stores_stripped_agrees(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_text(yaml.safe_dump({**SETTINGS, "cosign_public_key": "KEY"}))
    assert unfinished_rollout(tmp_path, {"cart": {"cosign_public_key": "KEY\n"}}) == {}


def test_no_settings_file_means_nothing_to_finish(tmp_path: Path) -> None:
    assert unfinished_rollout(tmp_path, {"cart": SETTINGS}) == {}
    (tmp_path / "gitops.yaml").write_text("environments: [dev\n")
    assert unfinished_rollout(tmp_path, {"cart": SETTINGS}) == {}


def test_the_app_that_already_took_the_change_renders_the_shared_files() -> None:
    data = {"environments": "[dev, qa, prod]"}
    answers = {
        "a": {"environments": ["dev", "prod"]},
        "b": {"environments": ["dev", "qa", "prod"]},
        "c": {"environments": ["dev", "prod"]},
    }
    assert shared_files_first(["a", "b", "c"], answers, data) == ["b", "a", "c"]
    assert shared_files_first(["a", "c"], answers, data) == ["a", "c"]
    assert shared_files_first(["a", "b"], answers, {"replicas": "{dev: 2}"}) == ["a", "b"], "app-level only"
    assert {app: stored["environments"] for app, stored in with_data(answers, data).items()} == {
        app: ["dev", "qa", "prod"] for app in answers
    }
