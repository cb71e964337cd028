"""gitopslib/codeowners_checks.py, its parts that need no repository: reading CODEOWNERS as GitHub
does, matching paths, and finding the paths of an area a line reaches. (Which areas are
sensitive reads the repository's layout, under change: tests/test_codeowners_checks.py covers it
on generated repositories.)"""

from __future__ import annotations

import pytest
from gitopslib.codeowners_checks import (
    ANY,
    GITLAB,
    ONE,
    Area,
    Rule,
    compile_pattern,
    display,
    gap_reason,
    instance,
    invalid_reason,
    parse,
    reaches,
    skipped_reason,
)

CODEOWNERS = (
    "# Owners of this repository\n"
    "*                @org/platform\n"
    "/argocd/         @org/platform   # Argo CD\n"
    "\n"
    "*.md             docs@example.com @someone\n"
    "/environments/dev/\n"
    "!/argocd/apps/shop/ @shop\n"
    "/argocd/[ab]*    @shop\n"
    "\\#notes          @shop\n"
    "/tools/          platform-team\n"
    "/                @org/platform\n"
    "/argocd/apps/evil/ @mallory\r\n"
)


def test_parse_reads_each_line_as_github_does() -> None:
    rules, skipped = parse(CODEOWNERS)
    assert [(r.line, r.pattern, r.owners) for r in rules] == [
        (2, "*", ("@org/platform",)),
        (3, "/argocd/", ("@org/platform",)),  # the comment after the owners is no owner
        (5, "*.md", ("docs@example.com", "@someone")),
        (6, "/environments/dev/", ()),  # no owners: leaves its paths unowned
        (11, "/", ("@org/platform",)),
        (12, "/argocd/apps/evil/", ("@mallory",)),  # CRLF line ending
    ]
    assert [(s.rule.line, s.why) for s in skipped] == [
        (7, "`!` negation does not work in CODEOWNERS"),
        (8, "`[ ]` character ranges do not work in CODEOWNERS"),
        (9, "escaping a leading `#` does not work in CODEOWNERS"),
        (10, "platform-team is not an owner (@user, @org/team or an e-mail address)"),
    ]


def test_a_skipped_line_is_read_literally_to_tell_where_it_points() -> None:
    _, skipped = parse(CODEOWNERS)
    negation, ranges = skipped[0].rule, skipped[1].rule
    assert negation.matches("argocd/apps/shop/prod.yaml")  # where the `!` line was meant for
    assert ranges.matches("argocd/[ab]x.yaml") and not ranges.matches("argocd/ax.yaml")


@pytest.mark.parametrize(
    ("owner", "valid"),
    [
        ("@user", True),
        ("@org/team", True),
        ("@org/team.name_1", True),
        ("first.last@example.com", True),
        ("user", False),
        ("@org/team/sub", False),
        ("@", False),
        ("a@b", False),
        ("@org/", False),
    ],
)
def test_owner_forms(owner: str, valid: bool) -> None:
    assert (invalid_reason("/x", (owner,)) == "") is valid


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("*", ["a", "argocd/apps/x.yaml"], []),
        ("/argocd/", ["argocd/x", "argocd/apps/shop/prod.yaml"], ["argocd", "x/argocd/y", "argocdx/y"]),
        ("argocd/", ["argocd/x", "x/argocd/y"], ["argocd"]),
        ("*.md", ["README.md", "a/b/c.md"], ["a.mdx"]),
        ("docs/*", ["docs/a"], ["docs/a/b"]),  # GitHub: not recursive
        ("/docs/**", ["docs/a", "docs/a/b"], ["x/docs/a"]),
        ("/ArgoCD/", [], ["argocd/x"]),  # paths are case-sensitive
        ("gitops.yaml", ["gitops.yaml", "a/gitops.yaml"], ["gitops.yml"]),
        ("/", [], ["a", "argocd/x"]),  # GitHub's `/` matches nothing
    ],
)
def test_patterns_match_paths_as_github_does(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    rule = Rule(1, pattern, ("@o",), compile_pattern(pattern))
    assert [path for path in matching if rule.matches(path)] == matching
    assert [path for path in not_matching if rule.matches(path)] == []


def test_area_of_a_directory_and_of_a_file() -> None:
    argocd = Area("argocd/", "could widen Argo CD access")
    assert [argocd.holds(p) for p in ("argocd/", "argocd/x", "argocd/a/b", "argocdx", "argocd")] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert argocd.examples() == ("argocd/" + ANY,)
    settings = Area("gitops.yaml", "could change the repo-level settings")
    assert settings.holds("gitops.yaml") and not settings.holds("gitops.yaml/x")
    assert settings.examples() == ("gitops.yaml",)
    github = Area(".github/", "could rewrite CI", (".github/CODEOWNERS",))
    assert github.examples() == (".github/CODEOWNERS",)


@pytest.mark.parametrize(
    ("segment", "depth", "paths"),
    [
        ("*.yaml", 0, [ANY + ".yaml"]),
        ("a?c", 0, ["a" + ONE + "c"]),
        ("**", 0, []),
        ("**", 2, [ANY, ANY]),
        ("\\*x", 0, ["*x"]),  # an escaped star is a star
        ("apps", 1, ["apps"]),
    ],
)
def test_instance_of_a_glob_segment(segment: str, depth: int, paths: list[str]) -> None:
    assert instance(segment, depth) == paths


def rule(pattern: str, *owners: str, line: int = 1) -> Rule:
    return Rule(line, pattern, owners, compile_pattern(pattern))


def test_reaches_a_subpath_carved_out_of_an_area() -> None:
    carved = rule("/argocd/apps/evil/", "@mallory")
    found = list(reaches(carved, Area("argocd/", "w")))
    assert found[0] == "argocd/apps/evil/" + ANY
    assert display(found[0], carved) == "argocd/apps/evil/"
    assert all(carved.matches(path) for path in found)


def test_reaches_files_of_a_kind_inside_an_area() -> None:
    markdown = rule("*.md", "@docs")
    found = list(reaches(markdown, Area("argocd/", "w")))
    assert found and found[0] == "argocd/" + ANY + ".md"
    assert display(found[0], markdown) == "argocd/*.md"


def test_reaches_nothing_outside_its_pattern() -> None:
    assert list(reaches(rule("/tools/", "@x"), Area("argocd/", "w"))) == []
    assert list(reaches(rule("/", "@x"), Area("argocd/", "w"))) == []
    assert list(reaches(rule("gitops.yaml", "@x"), Area("gitops.yaml", "w"))) == ["gitops.yaml"]


def test_display_shows_the_stand_ins_as_wildcards() -> None:
    assert display("argocd/" + ANY) == "argocd/"
    assert display("argocd/" + ANY, rule("/argocd/*", "@x")) == "argocd/*"  # owns one level, not all
    assert display("argocd/" + ANY + ".md") == "argocd/*.md"
    assert display("a" + ONE + "c") == "a?c"


AREA = Area("argocd/", "could widen Argo CD access")
REVIEW = "without the platform team's review"


def test_gap_reason_when_no_line_matches() -> None:
    assert gap_reason("argocd/", None, "@org/platform", AREA) == (
        f"argocd/ is owned by nobody, not @org/platform (no line matches it): "
        f"changes there could widen Argo CD access {REVIEW}"
    )


def test_gap_reason_of_a_co_owner_and_of_a_line_without_owners() -> None:
    shared = rule("/argocd/apps/", "@shop", "@org/platform", line=4)
    assert gap_reason("argocd/apps/", shared, "@ORG/platform", AREA) == (
        "argocd/apps/ is owned by @shop @org/platform, not @ORG/platform alone (any one owner a line "
        f"lists can approve) (line 4): changes there could widen Argo CD access {REVIEW}"
    )  # the pattern is the path: not repeated
    assert gap_reason("argocd/apps/shop.yaml", rule("*.yaml", "@shop", line=5), "@org/platform", AREA) == (
        "argocd/apps/shop.yaml is owned by @shop, not @org/platform (line 5, pattern *.yaml): "
        f"changes there could widen Argo CD access {REVIEW}"
    )
    unowned = rule("argocd/", line=9)
    assert gap_reason("argocd/", unowned, "@org/platform", AREA) == (
        "argocd/ is owned by nobody, not @org/platform (line 9, which lists no owners): "
        f"changes there could widen Argo CD access {REVIEW}"
    )


def test_skipped_reason_names_the_line_and_the_area() -> None:
    _, skipped = parse("!/argocd/apps/shop/ @shop\n")
    assert skipped_reason(skipped[0], "argocd/apps/shop/", AREA) == (
        "line 1 (!/argocd/apps/shop/) is skipped by GitHub: `!` negation does not work in CODEOWNERS; it "
        "names argocd/apps/shop/, where changes could widen Argo CD access: write it in a form GitHub reads, "
        "or remove it"
    )


GITLAB_CODEOWNERS = (
    "/argocd/ @org/platform\n"
    "/tools/ @org/platform # or @mallory\n"  # GitLab reads every owner after the pattern
    "  # /platform/ @mallory\n"  # starts with `#` once stripped: a comment
    "\\#notes @shop\n"  # a pattern starting with `#`
    "[Apps] @org/apps # the apps' team\n"  # default owners: up to the `#`
    "/apps/\n"
    "/apps/x/ # not an owner\n"  # owners given (a comment): not the default ones, and none read
    "[codeowners]\n"  # the section before any header (matched case-insensitively after [Apps])
    "/argocd/ @mallory\n"  # the same pattern again: it keeps line 1's place, with these owners
    "[Broken\n"  # not a header GitLab reads: skipped, the section stays codeowners
    "/gitops.yaml @mallory, @other\r\n"
    "^[apps]\n"  # Apps again: one of its lines is required, so the section is
    "/docs/ @docs\n"
)


def test_parse_reads_each_line_as_gitlab_does() -> None:
    rules, skipped = parse(GITLAB_CODEOWNERS, GITLAB)
    assert [(r.section, r.line, r.pattern, r.owners, r.optional) for r in rules] == [
        ("codeowners", 9, "/argocd/", ("@mallory",), False),
        ("codeowners", 2, "/tools/", ("@org/platform", "@mallory"), False),
        ("codeowners", 4, "\\#notes", ("@shop",), False),
        ("codeowners", 11, "/gitops.yaml", ("@mallory", "@other"), False),
        ("Apps", 6, "/apps/", ("@org/apps",), False),
        ("Apps", 7, "/apps/x/", (), False),
        ("Apps", 13, "/docs/", ("@docs",), False),
    ]
    assert rules[2].matches("#notes") and rules[2].matches("a/#notes")
    assert [(s.rule.line, s.header) for s in skipped] == [(5, True), (10, True)]


@pytest.mark.parametrize(
    ("text", "owners"),
    [
        ("@org/platform", ("@org/platform",)),
        (
            "@org/sub/team  @@Maintainers a.b@example.com",
            ("@org/sub/team", "@@Maintainers", "a.b@example.com"),
        ),
        # GitLab's e-mail expression reads `(@mallory` as an address too (no user has it).
        ("(@mallory), @org/platform.", ("@mallory", "@org/platform", "(@mallory")),
        ("org/platform @@nobody x@@y", ()),
    ],
)
def test_gitlab_owners_are_read_with_gitlabs_expressions(text: str, owners: tuple[str, ...]) -> None:
    ((rule_read,), _) = parse(f"/x {text}\n", GITLAB)
    assert rule_read.owners == owners
