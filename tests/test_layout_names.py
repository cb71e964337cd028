"""Apps and environments named after generated folders or ignore patterns keep all their files.

The onboarding excludes and the generated .gitignore once matched at any depth: a second app
called `tools` or `platform` was written as an answers file only, and an app or environment
called `secrets` or `kubeconfig-proxy` hid its own overlays from Git.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import TEMPLATE_ROOT, render, run_gitops
from tests.template_versions import TemplateRepo, generate, git

# The onboarding excludes of copier.yml: the block between {%- if ... %} and {%- endif %}.
EXCLUDES = re.findall(r"^\s+/(\S+)$", (TEMPLATE_ROOT / "copier.yml").read_text(), flags=re.MULTILINE)
NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def ignore_patterns() -> list[str]:
    lines = (TEMPLATE_ROOT / "template" / ".gitignore.jinja").read_text().splitlines()
    return [line for line in lines if line and not line.startswith(("#", "!"))]


def names_after(pattern: str) -> set[str]:
    """Names that spell a pattern or start like it: its last path part, wildcards filled in."""
    last = pattern.strip("/").rsplit("/", 1)[-1]
    candidates = {last.replace("*", "x"), last.replace("*", "-proxy"), last.replace("*", "")}
    candidates |= {f"{candidate}-proxy" for candidate in candidates}
    return {name for name in candidates if NAME.match(name) and len(name) <= 20}


PATTERN_NAMES = sorted(set().union(*(names_after(p) for p in ignore_patterns() + EXCLUDES)))


def test_every_pattern_yields_names_to_try() -> None:
    """The names below cover the patterns that a DNS label can spell (the rest cannot hide an app)."""
    assert {"tools", "platform", "secrets", "kubeconfig", "kubeconfig-proxy"} <= set(PATTERN_NAMES)


@pytest.mark.parametrize("name", PATTERN_NAMES)
def test_app_and_environment_named_after_a_pattern_stay_in_git(name: str, tmp_path: Path) -> None:
    repo = render(tmp_path / "repo", {"app_name": name, "environments": ["dev", name]})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    tracked = set(git(repo, "ls-files").splitlines())
    for env in ("dev", name):
        assert f"environments/{env}/{name}/kustomization.yaml" in tracked, env
        assert f"argocd/apps/{name}/{env}.yaml" in tracked, env
    assert f"applications/base/{name}/deployment.yaml" in tracked
    assert git(repo, "status", "--porcelain", "--ignored").count("!!") == 0


@pytest.mark.parametrize("name", sorted({"tools", "platform", "argocd", "applications", "environments"}))
def test_onboarding_an_app_named_after_a_shared_folder_writes_all_its_files(
    name: str, tmp_path: Path
) -> None:
    template = TemplateRepo.from_work_tree(tmp_path / "template")
    repo = generate(template, tmp_path / "repo", {"app_name": "shop"}, "v1.0.0")
    generate(template, repo, {"app_name": name}, "v1.0.0")
    for env in yaml.safe_load((repo / "gitops.yaml").read_text())["environments"]:
        assert (repo / f"environments/{env}/{name}/kustomization.yaml").is_file(), env
        assert (repo / f"argocd/apps/{name}/{env}.yaml").is_file(), env
    assert (repo / f"applications/base/{name}/deployment.yaml").is_file()
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 overlays built" in result.stderr
