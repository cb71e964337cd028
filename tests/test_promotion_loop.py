"""The whole loop, as a team runs it: release -> dev -> staging (soak) -> prod.

Every step is the generated repository's own tools/gitops in a subprocess, and every merge is a
commit on main with the date it would have had (GIT_COMMITTER_DATE), so the soak of staging (24h)
is measured on real history. Argo CD is a stand-in `argocd` on PATH (tests/test_health_gate.py:
no Argo CD runs here; its answers are validated against the Application CRD's status schema).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import render, run_gitops
from tests.template_versions import git, tree_state
from tests.test_health_gate import ORIGINAL_PATH, StandIns, application_json, status
from tests.test_soak_gate import commit_at, settled

APP = "myapp"


def release_file(env: str) -> Path:
    return Path("environments") / env / APP / "release" / "kustomization.yaml"


def tag_in(repo: Path, env: str) -> str:
    return str(yaml.safe_load((repo / release_file(env)).read_text())["images"][0]["newTag"])


class Loop:
    """The repository, and Argo CD's stand-in reporting what each environment runs."""

    def __init__(self, repo: Path, tmp_path: Path) -> None:
        self.repo = repo
        self.standins = StandIns(tmp_path)
        kubeconfig = tmp_path / "kubeconfig"  # no context: no cluster can answer instead
        kubeconfig.write_text("")
        self.env = {**os.environ, "PATH": f"{self.standins.bin}{os.pathsep}{ORIGINAL_PATH}"}
        self.env["KUBECONFIG"] = str(kubeconfig)

    def gitops(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_gitops(self.repo, *args, env=self.env)

    def argo_cd_runs(self, env: str, health_status: str = "Healthy") -> None:
        """Argo CD reports `env` synced to main's tip, running what the files say."""
        image = f"nginxinc/nginx-unprivileged:{tag_in(self.repo, env)}"
        head = git(self.repo, "rev-parse", "HEAD").strip()
        reported = status(health_status=health_status, revision=head, images=(image,), env=env)
        self.standins.add("argocd", stdout=application_json(self.repo, reported, env=env))

    def merged(self, message: str, hours_ago: float) -> str:
        return commit_at(self.repo, message, hours_ago)


@pytest.fixture
def loop(tmp_path: Path) -> Loop:
    repo = render(tmp_path / "repo", {"soak": {"staging": "24h"}})
    git(repo, "init", "-q", "-b", "main")
    commit_at(repo, "Generate", hours_ago=200)
    return Loop(repo, tmp_path)


def test_release_moves_dev_staging_prod_through_its_gates(loop: Loop) -> None:
    # 1. A release enters dev, and only dev.
    assert loop.gitops("release", "--app", APP, "--tag", "1.30.0").returncode == 0
    assert [tag_in(loop.repo, env) for env in ("dev", "staging", "prod")] == [
        "1.30.0",
        *["1.29.3-alpine"] * 2,
    ]
    loop.merged("Release myapp 1.30.0", hours_ago=100)
    shown = json.loads(loop.gitops("status", "--json").stdout)["apps"][APP]
    assert shown["dev"]["waiting"] is True

    # 2. dev -> staging once Argo CD reports dev healthy on it (dev has no soak).
    loop.argo_cd_runs("dev", health_status="Progressing")
    held = loop.gitops("promote", "--app", APP, "--from", "dev", "--require-healthy")
    assert held.returncode == 1 and "Synced / Progressing" in held.stdout
    loop.argo_cd_runs("dev")
    assert loop.gitops("promote", "--app", APP, "--from", "dev", "--require-healthy").returncode == 0
    reached_staging = loop.merged("Promote myapp 1.30.0 to staging", hours_ago=30)

    # 3. A newer release follows it into staging two hours ago.
    assert loop.gitops("release", "--app", APP, "--tag", "1.31.0").returncode == 0
    loop.merged("Release myapp 1.31.0", hours_ago=20)
    assert loop.gitops("promote", "--app", APP, "--from", "dev").returncode == 0
    loop.merged("Promote myapp 1.31.0 to staging", hours_ago=2)

    # 4. staging -> prod: 1.31.0 has not soaked; nothing is written.
    before = tree_state(loop.repo)
    loop.argo_cd_runs("staging")
    young = loop.gitops("promote", "--app", APP, "--from", "staging", "--require-healthy")
    assert young.returncode == 1
    assert "release 1.31.0 has run in staging for 2h0m of its soak of 24h" in settled(young.stdout)
    assert tree_state(loop.repo) == before

    # 5. 1.30.0 soaked 28 hours in staging before 1.31.0 replaced it: it may go to prod.
    older = loop.gitops("promote", "--app", APP, "--from", "staging", "--from-ref", reached_staging)
    assert older.returncode == 0, older.stdout + older.stderr
    assert tag_in(loop.repo, "prod") == "1.30.0"
    loop.merged("Promote myapp 1.30.0 to prod", hours_ago=1)
    validated = loop.gitops("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr

    # 6. An urgent fix: --force takes 1.31.0 past its soak, healthy in staging, and says so.
    loop.argo_cd_runs("staging")
    forced = loop.gitops("promote", "--app", APP, "--from", "staging", "--force", "--require-healthy")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    provenance = yaml.safe_load((loop.repo / release_file("prod")).with_name("provenance.yaml").read_text())
    assert provenance["forced"] is True and "soak of 24h in staging" in provenance["overridden"]
    loop.merged("Promote myapp 1.31.0 to prod (forced)", hours_ago=0)
    assert [tag_in(loop.repo, env) for env in ("dev", "staging", "prod")] == ["1.31.0"] * 3
    validated = loop.gitops("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
