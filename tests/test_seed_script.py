"""migrations/seed_releases.py: a new environment starts from the release before it.

The template repository's own script, run by copier.yml's after-update migration from the clone
of the version being updated to; generated repositories carry no seeding code. Seeding through
`copier update` and `tools/gitops update` end to end: test_gitops_update.py,
test_environment_list_changes.py, test_update_scenarios_state.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import TEMPLATE_ROOT, render, run_gitops
from tests.template_versions import (
    RELEASES,
    TemplateRepo,
    commit_all,
    copier_update,
    generate,
    git,
    replace_with_work_tree,
    template_at_commit,
)

SCRIPT = TEMPLATE_ROOT / "migrations/seed_releases.py"
RELEASE = "environments/{env}/{app}/release/kustomization.yaml"


def release_text(env: str, app: str, tag: str) -> str:
    return (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        f"# Release of {app} in {env}.\n"
        f'images:\n  - name: "{app}-image"\n    newName: "nginx"\n    newTag: "{tag}"\n'
    )


def write(repo: Path, env: str, app: str, tag: str) -> Path:
    path = repo / RELEASE.format(env=env, app=app)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(release_text(env, app, tag))
    return path


def seed(repo: Path, app: str, environments: str) -> subprocess.CompletedProcess[str]:
    """As copier.yml's migration runs it: Copier's Python, in the updated repository."""
    command = [sys.executable, str(SCRIPT), "--app", app, "--environments", environments]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """shop and cart released in dev (promoted) and prod, committed."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for app, tag in (("shop", "1.30.0"), ("cart", "2.0.0")):
        write(repo, "dev", app, tag)
        write(repo, "prod", app, "1.0.0")
    commit_all(repo, "Releases")
    return repo


def test_an_untracked_release_is_seeded_from_the_environment_before_it(repo: Path) -> None:
    qa = write(repo, "qa", "shop", "1.0.0")
    result = seed(repo, "shop", "dev,qa,prod")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "environments/qa/shop/release/kustomization.yaml: seeded from dev\n"
    assert qa.read_text() == (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "# Release of shop in qa.\n"
        "# Seeded from dev's release when qa was added.\n"
        'images:\n  - name: "shop-image"\n    newName: "nginx"\n    newTag: "1.30.0"\n'
    )
    assert git(repo, "status", "--porcelain") == "?? environments/qa/\n", "nothing tracked changed"


def test_the_rest_of_the_release_comes_along_but_not_where_it_came_from(repo: Path) -> None:
    """A release is all of release/ (a patch its kustomization lists, say), provenance aside."""
    dev = repo / "environments/dev/shop/release"
    (dev / "patch.yaml").write_text("- op: add\n  path: /spec/replicas\n  value: 4\n")
    (dev / "provenance.yaml").write_text("from_environment: test\n")
    commit_all(repo, "A release with a patch, promoted")
    write(repo, "qa", "shop", "1.0.0")
    result = seed(repo, "shop", "dev,qa,prod")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "environments/qa/shop/release/kustomization.yaml: seeded from dev",
        "environments/qa/shop/release/patch.yaml: copied from dev",
    ]
    qa = repo / "environments/qa/shop/release"
    assert (qa / "patch.yaml").read_bytes() == (dev / "patch.yaml").read_bytes()
    assert not (qa / "provenance.yaml").exists()
    assert not (repo / "environments/prod/shop/release/patch.yaml").exists(), "tracked releases stay"


def test_seeding_again_changes_nothing(repo: Path) -> None:
    qa = write(repo, "qa", "shop", "1.0.0")
    assert seed(repo, "shop", "dev,qa,prod").returncode == 0
    seeded = qa.read_text()
    again = seed(repo, "shop", "dev,qa,prod")
    assert again.returncode == 0, again.stderr
    assert qa.read_text() == seeded, "one seed note, the same release"


def test_only_new_releases_of_the_app_are_seeded(repo: Path) -> None:
    """Tracked releases, other apps' new releases and a new first environment stay as written."""
    cart_qa = write(repo, "qa", "cart", "1.0.0")
    shop_test = write(repo, "test", "shop", "0.9.0")
    result = seed(repo, "shop", "test,dev,prod")
    assert result.returncode == 0 and result.stdout == ""
    assert cart_qa.read_text() == release_text("qa", "cart", "1.0.0")
    assert shop_test.read_text() == release_text("test", "shop", "0.9.0")
    assert git(repo, "diff") == ""


def test_a_missing_previous_release_is_skipped(repo: Path) -> None:
    (repo / RELEASE.format(env="dev", app="shop")).unlink()
    qa = write(repo, "qa", "shop", "1.0.0")
    assert seed(repo, "shop", "dev,qa,prod").returncode == 0
    assert qa.read_text() == release_text("qa", "shop", "1.0.0")


def test_outside_a_git_repository_it_fails_in_one_line(tmp_path: Path) -> None:
    result = seed(tmp_path, "shop", "dev,qa")
    assert result.returncode == 1
    assert result.stderr.startswith("seed_releases.py: git ls-files: ") and result.stderr.count("\n") == 1


def test_copier_runs_it_from_the_template_and_before_the_last_migration() -> None:
    migrations = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["_migrations"]
    seeding = [m for m in migrations if any("seed" in part for part in m["command"])]
    assert len(seeding) == 1
    assert seeding[0]["command"][:2] == [
        "{{ _copier_python }}",
        "{{ _copier_conf.src_path }}/migrations/seed_releases.py",
    ]
    assert seeding[0]["when"] == "{{ _stage == 'after' }}"
    assert migrations.index(seeding[0]) < len(migrations) - 1, "the marker's removal stays last"
    assert SCRIPT.is_file()


def test_generated_repository_carries_no_seeding_code(tmp_path: Path) -> None:
    repo = render(tmp_path / "repo", {"app_name": "shop"})
    help_text = run_gitops(repo, "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "seed" not in help_text.stdout
    unknown = run_gitops(repo, "seed-releases", "--app", "shop", "--environments", "dev")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    assert not (repo / "migrations").exists()
    assert not (repo / "tools/gitopslib/seed.py").exists()
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(errors="replace")
            for word in ("seed-releases", "seed_releases", "seed_new_releases", "Seeded from"):
                assert word not in text, f"{path.relative_to(repo)} mentions {word}"


def test_the_script_of_the_version_updated_to_runs_from_its_clone(tmp_path: Path) -> None:
    """`_copier_conf.src_path` is Copier's clone of the new version: its script runs, the
    template's work tree is not read, the generated repository needs none."""
    template = TemplateRepo.from_work_tree(tmp_path / "template")
    repo = generate(template, tmp_path / "repo", {"app_name": "shop"}, "v1.0.0")
    template.write(
        "migrations/seed_releases.py",
        (template.path / "migrations/seed_releases.py")
        .read_text()
        .replace(
            "def main(argv: list[str] | None = None) -> int:\n",
            "def main(argv: list[str] | None = None) -> int:\n"
            "    Path('ran-from.txt').write_text(str(Path(__file__).resolve()))\n",
        ),
    )
    template.release("v1.1.0")
    (template.path / "migrations/seed_releases.py").unlink()  # only the tagged version's copy may run
    commit_all(template.path, "Work in progress")
    dev = repo / RELEASE.format(env="dev", app="shop")
    dev.write_text(dev.read_text().replace('"1.29.3-alpine"', '"1.30.0"'))
    commit_all(repo, "Promote in dev")

    copier_update(repo, "shop", data={"environments": ["dev", "qa", "staging", "prod"]}, vcs_ref="v1.1.0")
    ran_from = Path((repo / "ran-from.txt").read_text())
    assert ran_from.name == "seed_releases.py" and not ran_from.is_relative_to(template.path)
    assert not ran_from.exists(), "Copier's clone is gone"
    qa = yaml.safe_load((repo / RELEASE.format(env="qa", app="shop")).read_text())
    assert qa["images"][0]["newTag"] == "1.30.0"
    assert not (repo / ".copier-update-unfinished").exists()


def test_a_repository_of_the_previous_release_is_seeded_by_the_new_script(tmp_path: Path) -> None:
    """v0.2.0 ran `tools/gitops seed-releases`; updating to this work tree (whose tools have no
    such command) while adding an environment seeds it all the same."""
    template = template_at_commit(tmp_path / "template", RELEASES["v0.2.0"], "v0.2.0")
    repo = generate(template, tmp_path / "repo", {"app_name": "shop"}, "v0.2.0")
    dev = repo / RELEASE.format(env="dev", app="shop")
    dev.write_text(dev.read_text().replace('"1.29.3-alpine"', '"1.30.0"'))
    commit_all(repo, "Promote in dev")
    replace_with_work_tree(template, "v99.0.0")

    copier_update(repo, "shop", data={"environments": ["dev", "qa", "staging", "prod"]})
    assert git(repo, "diff", "--name-only", "--diff-filter=U") == ""
    qa = (repo / RELEASE.format(env="qa", app="shop")).read_text()
    assert yaml.safe_load(qa)["images"][0]["newTag"] == "1.30.0"
    assert "# Seeded from dev's release when qa was added.\n" in qa
    assert not (repo / "tools/gitopslib/seed.py").exists()
