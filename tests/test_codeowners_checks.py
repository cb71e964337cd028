"""`tools/gitops validate` refuses a CODEOWNERS that leaves a path able to widen access without
the platform team: argocd/, .github/, tools/, gitops.yaml, platform/, the CODEOWNERS file GitHub
reads, and each protected environment. Every gap is planted in a real generated repository and
must come out as one `path: reason` line; benign edits must pass, and each test that expects a
pass also plants a gap afterwards, so that it fails against a check that finds nothing.

The generated repository goes through the real `tools/gitops validate` (exit 0, then exit 1 with
one line per gap); the other cases run validate's CODEOWNERS check alone, in this process
(milliseconds instead of a whole validate), and compare the lines validate prints for it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gitopslib.codeowners_checks import codeowners_problems

from tests.answer_sets import ANSWER_SETS
from tests.conftest import render, run_gitops
from tests.template_versions import check_lines, copy_repo

TEAM = "@example-org/platform"
ANSWERS = {"kyverno_policies": True, "protected_environments": ["staging", "prod"], "platform_team": TEAM}
CODEOWNERS = ".github/CODEOWNERS"
REVIEW = "without the platform team's review"
ARGOCD = f"changes there could widen Argo CD access {REVIEW}"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("pristine") / "repo", ANSWERS)


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def append(repo: Path, text: str, relative: str = CODEOWNERS) -> int:
    """Append lines to the CODEOWNERS file; the number of the first one."""
    path = repo / relative
    before = path.read_text()
    assert before.endswith("\n")
    path.write_text(before + text)
    return before.count("\n") + 1


def remove_line(repo: Path, line: str, relative: str = CODEOWNERS) -> None:
    path = repo / relative
    text = path.read_text()
    assert f"{line}\n" in text.splitlines(keepends=True), f"{line!r} not a line of {relative}"
    path.write_text(text.replace(f"{line}\n", "", 1))


def problems(repo: Path) -> list[str]:
    """validate's lines from its CODEOWNERS check, which must exist."""
    lines = check_lines(repo, codeowners_problems)
    assert lines
    return lines


def assert_passes(repo: Path) -> None:
    assert check_lines(repo, codeowners_problems) == []


def validate_problems(repo: Path) -> list[str]:
    """The real `tools/gitops validate`'s problem lines, which must exist: exit 1 and no traceback."""
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert lines, result.stderr
    return lines


def assert_passes_and_is_guarded(repo: Path, relative: str = CODEOWNERS) -> None:
    """Passes as it is; a catch-all appended afterwards is refused (the check looked at this repo)."""
    assert_passes(repo)
    line = append(repo, "* @everyone\n", relative)
    assert (
        f"{relative}: argocd/ is owned by @everyone, not {TEAM} (line {line}, pattern *): {ARGOCD}"
        in problems(repo)
    )


def test_generated_codeowners_passes_and_names_every_area(pristine: Path, tmp_path: Path) -> None:
    """The generated file gives every area to the platform team: platform/ and both protected
    environments included (a catch-all after it takes each of them, one line each)."""
    text = (pristine / CODEOWNERS).read_text()
    assert f"/platform/ {TEAM}\n" in text and f"/environments/staging/ {TEAM}\n" in text
    passed = run_gitops(pristine, "validate")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout == ""
    repo = copy_repo(pristine, tmp_path / "repo")
    line = append(repo, "* @everyone\n")
    lines = validate_problems(repo)
    shown = {entry.split(" is owned by ")[0].removeprefix(f"{CODEOWNERS}: ") for entry in lines}
    assert shown == {
        "argocd/",
        ".github/CODEOWNERS",
        "tools/",
        "gitops.yaml",
        "platform/",
        ".secrets.baseline",
        ".copier-answers.myapp.yml",
        "applications/",
        "environments/staging/",
        "environments/prod/",
    }, lines
    assert all(f"is owned by @everyone, not {TEAM} (line {line}, pattern *)" in entry for entry in lines)
    assert (
        f"{CODEOWNERS}: environments/prod/ is owned by @everyone, not {TEAM} (line {line}, pattern *): "
        f"changes there could release to the protected environment prod {REVIEW}"
    ) in lines


@pytest.mark.parametrize(
    "answer_set", ["defaults", "hardened-gateway", "exposed-ingress", "all-off", "yaml-special-names"]
)
def test_generated_codeowners_passes_for_answer_sets(tmp_path: Path, answer_set: str) -> None:
    """With and without kyverno_policies (platform/), with several, one or an oddly named protected
    environment, and with an e-mail address as the platform team; each on GitHub (all-off chooses
    no CI, and so no CODEOWNERS: tests/test_gitlab_ci.py)."""
    answers = {**ANSWER_SETS[answer_set], "ci_provider": "github"}
    repo = render(tmp_path / "repo", answers)
    assert_passes(repo)
    line = append(repo, "* @everyone\n")
    lines = problems(repo)
    team = answers.get("platform_team", TEAM)
    environments = answers.get("environments", ["dev", "staging", "prod"])
    protected = answers.get("protected_environments", environments[-1:])
    for area in ["argocd/", "platform/", *(f"environments/{env}/" for env in protected)]:
        start = f"{CODEOWNERS}: {area} is owned by @everyone, not {team} (line {line}, pattern *)"
        assert any(entry.startswith(start) for entry in lines), (start, lines)


def test_later_rule_carving_out_a_subpath(repo: Path) -> None:
    line = append(repo, "/argocd/apps/evil/ @mallory\n")
    assert problems(repo) == [
        f"{CODEOWNERS}: argocd/apps/evil/ is owned by @mallory, not {TEAM} (line {line}): {ARGOCD}"
    ]


def test_earlier_rule_is_overridden_by_the_platform_rules(repo: Path) -> None:
    """Order matters: the last matching line decides, so a catch-all and a subpath rule before the
    platform team's lines take nothing from it."""
    path = repo / CODEOWNERS
    path.write_text("* @everyone\n/argocd/apps/evil/ @mallory\n*.yaml @someone\n" + path.read_text())
    assert_passes_and_is_guarded(repo)


def test_rule_without_owners_leaves_the_path_unowned(repo: Path) -> None:
    line = append(repo, "/environments/prod/myapp/release/\n")
    assert problems(repo) == [
        f"{CODEOWNERS}: environments/prod/myapp/release/ is owned by nobody, not {TEAM} "
        f"(line {line}, which lists no owners): changes there could release to the protected "
        f"environment prod {REVIEW}"
    ]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # Floating patterns reach into every area.
        ("*.yaml @someone", ["argocd/*.yaml", "gitops.yaml", ".github/*.yaml", "environments/prod/*.yaml"]),
        ("prod/ @someone", ["environments/prod/", "argocd/prod/"]),
        # `**` matches no directory, and one when a later line takes the first case back.
        ("argocd/**/x @someone", ["argocd/x"]),
        (f"argocd/**/x @someone\n/argocd/x {TEAM}", ["argocd/*/x"]),
        ("/argocd/* @someone", ["argocd/*"]),
        (
            "/environments/*/release/ @someone",
            ["environments/prod/release/", "environments/staging/release/"],
        ),
        # An existing file, named by its path.
        ("/tools/gitopslib/validate.py @someone", ["tools/gitopslib/validate.py"]),
        # Workflows, and the CODEOWNERS file itself.
        ("/.github/workflows/ @someone", [".github/workflows/"]),
        ("CODEOWNERS @someone", [".github/CODEOWNERS"]),
        # Not the platform team, even if the team name is a prefix of the owner.
        (f"/platform/ {TEAM}-readonly", ["platform/"]),
    ],
    ids=str,
)
def test_rule_reaching_into_an_area_is_named(repo: Path, rules: str, expected: list[str]) -> None:
    line = append(repo, rules + "\n")
    lines = problems(repo)
    owner = rules.split("\n")[0].split()[1]
    for path in expected:
        start = f"{CODEOWNERS}: {path} is owned by {owner}, not {TEAM} (line {line}"
        assert any(entry.startswith(start) for entry in lines), (start, lines)


def test_rule_not_reaching_an_area_passes(repo: Path) -> None:
    """`/environments/*` owns files directly in environments/ only; `docs/*` docs/ only; an
    unprotected environment is the app teams' to give."""
    append(repo, "/environments/* @someone\ndocs/* @someone\n/environments/dev/ @someone\n")
    assert_passes_and_is_guarded(repo)


def test_app_bases_are_the_platform_teams_with_protected_environments(repo: Path) -> None:
    """Every overlay builds on its app's base: with protected environments, a base change
    reaches them without a file of theirs changing."""
    append(repo, "/applications/ @someone\n")
    found = problems(repo)
    assert any(
        "applications/ is owned by @someone" in line and "protected environments" in line for line in found
    )


def test_benign_edits_pass(repo: Path) -> None:
    append(
        repo,
        "\n# App teams review their own unprotected environments.\n"
        "/environments/dev/ @org/app-team\n"
        "\n"
        f"/tools/gitopslib/ {TEAM.upper()}   # inline comment after the owners\n"
        "   # an indented comment\n",
    )
    assert_passes_and_is_guarded(repo)


@pytest.mark.parametrize("path", ["/argocd/apps/myapp/", "/environments/prod/myapp/"])
def test_co_owner_beside_the_platform_team_is_a_hole(repo: Path, path: str) -> None:
    """GitHub takes the approval of any one owner a line lists: a co-owner can approve alone."""
    append(repo, f"{path} {TEAM} @org/app-team\n")
    found = problems(repo)
    assert any(f"is owned by {TEAM} @org/app-team, not {TEAM} alone" in line for line in found), found


def test_missing_codeowners_is_one_problem(repo: Path) -> None:
    (repo / CODEOWNERS).unlink()
    assert problems(repo) == [
        f"{CODEOWNERS}: missing, and so are CODEOWNERS and docs/CODEOWNERS: no change to argocd/, "
        f".github/, tools/, gitops.yaml, platform/ or a protected environment needs the platform "
        f"team's review"
    ]


def test_codeowners_at_the_root_must_cover_itself(repo: Path) -> None:
    """Moved to the root, the file is no longer under /.github/: it and the line dropped with
    the move are named against the file GitHub now reads."""
    text = (repo / CODEOWNERS).read_text().replace(f"/tools/ {TEAM}\n", "")
    (repo / CODEOWNERS).unlink()
    (repo / "CODEOWNERS").write_text(text)
    assert sorted(problems(repo)) == [
        f"CODEOWNERS: CODEOWNERS is owned by nobody, not {TEAM} (no line matches it): changes there "
        f"could change who must review every change {REVIEW}",
        f"CODEOWNERS: tools/ is owned by nobody, not {TEAM} (no line matches it): changes there "
        f"could weaken the checks tools/gitops runs in CI {REVIEW}",
    ]


def test_codeowners_at_the_root_covering_itself_passes(repo: Path) -> None:
    text = (repo / CODEOWNERS).read_text()
    (repo / CODEOWNERS).unlink()
    (repo / "CODEOWNERS").write_text(text + f"/CODEOWNERS {TEAM}\n")
    assert_passes_and_is_guarded(repo, "CODEOWNERS")


def test_first_location_found_is_the_one_checked(repo: Path) -> None:
    """GitHub reads .github/CODEOWNERS before CODEOWNERS: a root file with gaps is inert until
    the first one goes."""
    (repo / "CODEOWNERS").write_text("* @everyone\n")
    assert_passes(repo)
    (repo / CODEOWNERS).unlink()
    lines = problems(repo)
    assert f"CODEOWNERS: argocd/ is owned by @everyone, not {TEAM} (line 1, pattern *): {ARGOCD}" in lines


def test_protected_environment_not_covered(repo: Path) -> None:
    remove_line(repo, f"/environments/staging/ {TEAM}")
    assert problems(repo) == [
        f"{CODEOWNERS}: environments/staging/ is owned by nobody, not {TEAM} (no line matches it): "
        f"changes there could release to the protected environment staging {REVIEW}"
    ]


def test_environment_protected_later_in_gitops_yaml(repo: Path) -> None:
    """protected_environments is read from gitops.yaml, as the repository has it now."""
    settings = repo / "gitops.yaml"
    old = 'protected_environments: ["staging", "prod"]'
    assert old in settings.read_text()
    new = 'protected_environments: ["dev", "staging", "prod"]'
    settings.write_text(settings.read_text().replace(old, new))
    assert (
        f"{CODEOWNERS}: environments/dev/ is owned by nobody, not {TEAM} (no line matches it): "
        f"changes there could release to the protected environment dev {REVIEW}"
    ) in problems(repo)


@pytest.mark.parametrize("replacement", ["", 'platform_team: ""\n'], ids=["removed", "empty"])
def test_platform_team_missing_from_gitops_yaml(repo: Path, replacement: str) -> None:
    settings = repo / "gitops.yaml"
    old = f'platform_team: "{TEAM}"\n'
    assert old in settings.read_text()
    settings.write_text(settings.read_text().replace(old, replacement))
    assert problems(repo) == [
        "gitops.yaml: platform_team is missing: CODEOWNERS cannot be checked to give the platform "
        "files and protected environments to the platform team"
    ]


def test_codeowners_not_utf8_is_one_line(repo: Path) -> None:
    line = append(repo, "# caf\xe9\n")
    path = repo / CODEOWNERS
    path.write_bytes(path.read_bytes().replace("caf\xe9".encode(), b"caf\xe9"))
    assert problems(repo) == [
        f"{CODEOWNERS}: not UTF-8 text (line {line}): it cannot be checked to give the platform files "
        f"to the platform team"
    ]


def test_codeowners_github_does_not_load(repo: Path) -> None:
    append(repo, ("#" * 99 + "\n") * (3 * 1024 * 1024 // 100 + 1))
    assert problems(repo) == [
        f"{CODEOWNERS}: is 3 MB or more: GitHub does not load it, so no change needs the platform "
        f"team's review"
    ]


def test_line_github_skips_gives_nothing(repo: Path) -> None:
    """GitHub skips a line it cannot read: `!` negation, `[ ]` ranges and an owner without @ do
    not work in CODEOWNERS. The platform line lost that way leaves its area unowned."""
    remove_line(repo, f"/tools/ {TEAM}")
    line = append(repo, f"/tools/ {TEAM.removeprefix('@')}\n!/argocd/x @someone\n/argocd/[ab]/ @someone\n")
    assert sorted(problems(repo)) == sorted(
        [
            f"{CODEOWNERS}: line {line + 1} (!/argocd/x) is skipped by GitHub: `!` negation does not work "
            f"in CODEOWNERS; it names argocd/x, where changes could widen Argo CD access: write it in a "
            f"form GitHub reads, or remove it",
            f"{CODEOWNERS}: line {line + 2} (/argocd/[ab]/) is skipped by GitHub: `[ ]` character ranges "
            f"do not work in CODEOWNERS; it names argocd/[ab]/, where changes could widen Argo CD access: "
            f"write it in a form GitHub reads, or remove it",
            f"{CODEOWNERS}: line {line} (/tools/) is skipped by GitHub: {TEAM.removeprefix('@')} is not an "
            f"owner (@user, @org/team or an e-mail address); it names tools/, where changes could weaken "
            f"the checks tools/gitops runs in CI: write it in a form GitHub reads, or remove it",
            f"{CODEOWNERS}: tools/ is owned by nobody, not {TEAM} (no line matches it): changes there "
            f"could weaken the checks tools/gitops runs in CI {REVIEW}",
        ]
    )


def test_missing_pathspec_is_a_usage_error(pristine: Path, tmp_path: Path) -> None:
    """pathspec is imported only when CODEOWNERS is checked; without it validate says what to
    install (a stand-in package that fails to import, as a missing one does)."""
    fake = tmp_path / "site" / "pathspec"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pathspec'\", name='pathspec')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}
    assert run_gitops(pristine, "--help", env=env).returncode == 0
    result = run_gitops(pristine, "validate", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("missing Python package pathspec: "), last
    assert last.endswith("pip install -r tools/requirements.txt"), last
