"""CODEOWNERS gives every path that can widen access to the platform team (gitops.yaml
`platform_team`): argocd/, the CI files (.github/; .gitlab/ and .gitlab-ci.yml), tools/,
gitops.yaml, platform/, the CODEOWNERS file the host reads, and environments/<env>/ of every
protected environment. The host is gitops.yaml's `ci_provider` (github when absent, as in
repositories generated before it existed); with `none` there is no code review to check.

GitHub's rules ("About code owners", docs.github.com):
- the first of .github/CODEOWNERS, CODEOWNERS and docs/CODEOWNERS is read; one of 3 MB or more
  is not loaded at all;
- each line is a pattern and its owners (@user, @org/team or an e-mail address); `#` starts a
  comment, at the start of a line or after the owners;
- patterns follow gitignore rules, except that `!` negation, `[ ]` ranges and escaping a
  leading `#` do not work; a line with invalid syntax is skipped;
- the LAST matching line decides, and a line without owners leaves its paths unowned;
- paths are case-sensitive; owners are not (GitHub handles and e-mail addresses).

GitLab's rules ("Code Owners", docs.gitlab.com; its source, as gitlab_codeowners.py reads it)
differ: it reads the first of CODEOWNERS, docs/CODEOWNERS and .gitlab/CODEOWNERS; only lines that
start with `#` are comments, and every owner in the rest of a line counts; `[Section]` headers
(`^[Section]`: optional; owners after the header: the default owners of its lines without owners)
split the file into sections that each require approval (the lines before any header are the
section `codeowners`, and headers of one name, case-insensitively, are one section), the last
matching line deciding within each, a repeated pattern keeping its first line's place; a `!pattern`
line takes the paths it matches out of its section; owners may be nested groups (`@group/sub/team`)
and roles (`@@maintainer`); patterns match as gitlab_patterns.py describes. A path is then the
platform team's when some required section's deciding line gives it to the platform team alone.

On GitHub, each file path is matched against each line on its own, as GitHub does, with pathspec's
"gitignore" pattern: its `docs/*` matches docs/a but not docs/a/b, as GitHub documents (pathspec's
GitIgnoreSpec follows git's directory exclusion instead, and would match docs/a/b). Its `/`
matches every path where GitHub's matches none, so `/` is taken here as matching nothing; the
lines GitHub skips (`!`, `[ ]`, an owner it cannot read) are not given to pathspec at all.

A gap is a path of a sensitive area whose deciding line lacks the platform team, found three
ways: a representative path of each area, every file there now, and for each line without the
platform team the paths inside an area it can match (a later line narrowing ownership of a
subpath, e.g. `/argocd/apps/evil/ @mallory`, is how a hole is carved). Each gap is one problem per
area and deciding line; a skipped line that names a sensitive area is one problem too.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .ci_provider import ci_provider
from .errors import BrokenFileError
from .gitlab_patterns import GitLabGlob
from .layout import ANSWERS_GLOB, ENVIRONMENTS_DIR, SETTINGS_FILE
from .problems import Problem
from .repo import Repo, read_text

if TYPE_CHECKING:
    from pathspec import PathSpec
    from pathspec.patterns.gitignore.basic import GitIgnoreBasicPattern

    Spec = PathSpec[GitIgnoreBasicPattern]

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
GITLAB_LOCATIONS = ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
SIZE_LIMIT = 3 * 1024 * 1024
# The forms GitHub accepts (as copier.yml's platform_team validator does), e-mail case-insensitive.
OWNER = re.compile(r"@[A-Za-z0-9-]+(?:/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[A-Za-z]+", re.ASCII)
# GitLab's: users, groups nested at any depth, roles (@@developer), e-mail addresses.
GITLAB_OWNER = re.compile(r"@@?[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*|[^@\s]+@[^@\s]+\.[A-Za-z]+", re.ASCII)
COMMENT = re.compile(r"(?:^|\s)#")
TOKEN = re.compile(r"(?:\\.|\S)+")
# Stand-ins for the parts of a path a pattern leaves open: NUL is in no path and no pattern, so
# no later line matches them by name, only by a wildcard. Shown as `*` and `?`.
ANY = "\0any\0"
ONE = "\0"
REVIEW = "without the platform team's review"


@dataclass(frozen=True)
class Rule:
    line: int
    pattern: str
    owners: tuple[str, ...]
    spec: Spec | GitLabGlob | None  # None: matches nothing (`/` on GitHub)
    section: str = ""  # GitLab's section (`codeowners` before any header); "" on GitHub
    optional: bool = False  # in an optional GitLab section: its approval is not required
    exclusion: bool = False  # a GitLab `!pattern`: takes the paths out of its section

    def matches(self, path: str) -> bool:
        if isinstance(self.spec, GitLabGlob):
            return self.spec.match_file(path)
        return self.spec is not None and self.spec.match_file(path, separators=())

    @property
    def glob(self) -> str:
        return self.pattern.removeprefix("!") if self.exclusion else self.pattern


@dataclass(frozen=True)
class Skipped:
    """A line the host skips, with its pattern read literally to tell where it points."""

    rule: Rule
    why: str
    header: bool = False  # a GitLab section header it cannot read: always a problem


@dataclass(frozen=True)
class Area:
    path: str  # a directory ending in `/`, or a file
    widens: str  # what a change there could do
    representatives: tuple[str, ...] = ()

    def holds(self, path: str) -> bool:
        if self.path.endswith("/"):
            return path.startswith(self.path) and len(path) > len(self.path)
        return path == self.path

    def examples(self) -> tuple[str, ...]:
        return self.representatives or ((self.path + ANY,) if self.path.endswith("/") else (self.path,))


@dataclass(frozen=True)
class Host:
    """Where CODEOWNERS is read and how, for one ci_provider."""

    name: str
    locations: tuple[str, ...]  # in the order the host looks: the first one found is read
    written: str  # the location the template writes
    ci_areas: tuple[Area, ...]
    owner: re.Pattern[str]
    owner_forms: str
    team_forms: str
    size_limit: int | None  # a file this large is not loaded
    gitlab: bool  # sections, `!` exclusions and GitLab's pattern matching


GITHUB = Host(
    "GitHub",
    LOCATIONS,
    LOCATIONS[0],
    (
        Area(
            ".github/",
            "could rewrite the CI workflows or the review rules",
            (LOCATIONS[0], f".github/workflows/{ANY}"),
        ),
    ),
    OWNER,
    "@user, @org/team or an e-mail address",
    "@org/team, @user or an e-mail",
    SIZE_LIMIT,
    gitlab=False,
)
GITLAB = Host(
    "GitLab",
    GITLAB_LOCATIONS,
    GITLAB_LOCATIONS[2],
    (
        Area(".gitlab/", "could rewrite the review rules", (GITLAB_LOCATIONS[2], f".gitlab/{ANY}")),
        Area(".gitlab-ci.yml", "could rewrite the CI pipeline, which can read the merge request token"),
    ),
    GITLAB_OWNER,
    "@user, @group, @group/subgroup, @@role or an e-mail address",
    "@group, @group/subgroup, @user or an e-mail",
    None,  # GitLab documents no size limit
    gitlab=True,
)
HOSTS = {"github": GITHUB, "gitlab": GITLAB}


def codeowners_problems(repo: Repo) -> list[Problem]:
    host = HOSTS.get(ci_provider(repo))
    if host is None:
        return []  # ci_provider none: no host enforces code owners (unknown values: ci_provider.py)
    found = next((name for name in host.locations if (repo.root / name).is_file()), None)
    problems = []
    text = None
    if found is None:
        others = " and ".join(name for name in host.locations if name != host.written)
        ci = ", ".join(area.path for area in host.ci_areas)
        problems.append(
            Problem(
                host.written,
                f"missing, and so are {others}: no change to argocd/, {ci}, "
                f"tools/, gitops.yaml, platform/ or a protected environment needs the platform team's review",
            )
        )
    else:
        text, problem = read_codeowners(repo.root / found, found, host)
        problems += [problem] if problem else []
    team = repo.settings.get("platform_team")
    if not isinstance(team, str) or not host.owner.fullmatch(team.strip()):
        shown = "is missing" if not team else f"{team!r} is not a code owner ({host.team_forms})"
        problems.append(
            Problem(
                SETTINGS_FILE,
                f"platform_team {shown}: CODEOWNERS cannot be checked to give the platform files and "
                f"protected environments to the platform team",
            )
        )
        return problems
    if found is None or text is None:
        return problems
    rules, skipped = parse(text, host)
    return problems + gaps(repo, found, team.strip(), rules, skipped, host)


def read_codeowners(path: Path, relative: str, host: Host = GITHUB) -> tuple[str | None, Problem | None]:
    if host.size_limit is not None and path.stat().st_size >= host.size_limit:
        reason = (
            f"is 3 MB or more: {host.name} does not load it, so no change needs the platform team's review"
        )
        return None, Problem(relative, reason)
    try:
        return read_text(path, relative), None
    except BrokenFileError as error:
        reason = f"{error.reason}: it cannot be checked to give the platform files to the platform team"
        return None, Problem(error.path, reason)


def compile_pattern(pattern: str) -> Spec | None:
    """The pattern as pathspec's gitignore pattern; None for `/` (matches nothing on GitHub, every
    path for pathspec). ValueError (pathspec's GitIgnorePatternError) when it cannot be read."""
    import pathspec  # lazily: tools/gitops --help works before tools/requirements.txt is installed

    if pattern.strip("/") == "":
        return None
    return pathspec.PathSpec.from_lines("gitignore", [pattern], backend="simple")


def parse(text: str, host: Host = GITHUB) -> tuple[list[Rule], list[Skipped]]:
    if host.gitlab:
        from .gitlab_codeowners import parse_gitlab  # it builds on this module's Rule and Skipped

        return parse_gitlab(text)
    rules, skipped = [], []
    for number, raw in enumerate(text.split("\n"), 1):
        content = COMMENT.split(raw.rstrip("\r"), maxsplit=1)[0]
        tokens = TOKEN.findall(content)
        if not tokens:
            continue
        pattern, owners = tokens[0], tuple(tokens[1:])
        why = invalid_reason(pattern, owners)
        if why:
            # Read literally only to tell which area the skipped line was meant for.
            literal = re.sub(r"([\[\]])", r"\\\1", pattern.lstrip("!").removeprefix("\\"))
            with contextlib.suppress(ValueError):
                skipped.append(Skipped(Rule(number, pattern, owners, compile_pattern(literal)), why))
            continue
        try:
            rules.append(Rule(number, pattern, owners, compile_pattern(pattern)))
        except ValueError:
            skipped.append(Skipped(Rule(number, pattern, owners, None), "its pattern cannot be read"))
    return rules, skipped


def invalid_reason(pattern: str, owners: tuple[str, ...]) -> str:
    if pattern.startswith("!"):
        return "`!` negation does not work in CODEOWNERS"
    if "[" in pattern or "]" in pattern:
        return "`[ ]` character ranges do not work in CODEOWNERS"
    if pattern.startswith("\\#"):
        return "escaping a leading `#` does not work in CODEOWNERS"
    for owner in owners:
        if not OWNER.fullmatch(owner):
            return f"{owner} is not an owner (@user, @org/team or an e-mail address)"
    return ""


def sensitive_areas(repo: Repo, found: str, host: Host = GITHUB) -> list[Area]:
    areas = [
        Area("argocd/", "could widen Argo CD access"),
        *host.ci_areas,
        Area("tools/", "could weaken the checks tools/gitops runs in CI"),
        Area(SETTINGS_FILE, "could change the repo-level settings (the platform team among them)"),
        Area("platform/", "could weaken the platform's cluster-wide policies"),
        Area(".secrets.baseline", "could silence the secret scan"),
    ]
    # The file the host reads, and any location it would read first if a file appeared there
    # (those inside a CI area are already covered by it).
    areas += [
        Area(name, "could change who must review every change")
        for name in host.locations[: host.locations.index(found) + 1]
        if not any(area.holds(name) for area in host.ci_areas)
    ]
    areas += [
        Area(p.name, "could point template updates at another template, whose code the update runs")
        for p in sorted(repo.root.glob(ANSWERS_GLOB))
    ]
    protected = repo.settings.get("protected_environments")
    protected_here = [
        env for env in (protected if isinstance(protected, list) else [])
        if isinstance(env, str) and env in repo.environments and "/" not in env
    ]  # fmt: skip
    for env in protected_here:
        areas.append(Area(f"{ENVIRONMENTS_DIR}/{env}/", f"could release to the protected environment {env}"))
    if protected_here:
        # Every overlay builds on the app's base: a change there reaches the protected ones too.
        areas.append(Area("applications/", "could change what runs in the protected environments"))
    return areas


def existing_files(repo: Repo, area: Area) -> list[str]:
    path = repo.root / area.path
    if not area.path.endswith("/"):
        return [area.path] if path.is_file() else []
    if not path.is_dir():
        return []
    return sorted(repo.relative(p) for p in path.rglob("*") if p.is_file())


def gaps(
    repo: Repo, found: str, team: str, rules: list[Rule], skipped: list[Skipped], host: Host = GITHUB
) -> list[Problem]:
    def owned(rule: Rule | None) -> bool:
        # The platform team alone: GitHub and GitLab take the approval of any one owner a line lists.
        return (
            rule is not None
            and not (rule.optional or rule.exclusion)
            and {owner.casefold() for owner in rule.owners} == {team.casefold()}
        )

    sections: dict[str, list[Rule]] = {}
    for rule in rules:
        sections.setdefault(rule.section, []).append(rule)

    def verdict(path: str) -> tuple[bool, Rule | None]:
        """Whether the platform team must approve a change to `path`; the deciding line that
        gives it to them, else the one to show (the last required section's, if any)."""
        shown = None
        for members in sections.values():
            matching = [rule for rule in members if rule.matches(path)]
            if not matching:
                continue
            decider = next((rule for rule in matching if rule.exclusion), matching[-1])
            if owned(decider):
                return True, decider
            if shown is None or not decider.optional:
                shown = decider
        return False, shown

    def gap_decided_by(path: str, rule: Rule) -> bool:
        ok, shown = verdict(path)
        return not ok and shown is rule

    problems = []
    areas = sensitive_areas(repo, found, host)
    for skip in skipped:
        if skip.header:
            problems.append(Problem(found, header_reason(skip)))
            continue
        reached = next(((p, a) for a in areas for p in reaches(skip.rule, a)), None)
        if reached is not None:
            path, area = reached
            problems.append(Problem(found, skipped_reason(skip, display(path, skip.rule), area, host)))
    for area in areas:
        shown: dict[int, tuple[str, Rule | None]] = {}  # deciding line (0: none) -> first path
        for path in area.examples():
            ok, decider = verdict(path)
            if not ok:
                shown.setdefault(decider.line if decider else 0, (path, decider))
        for rule in rules:
            if owned(rule) or rule.line in shown:
                continue
            hole = next((p for p in reaches(rule, area) if gap_decided_by(p, rule)), None)
            if hole is not None:
                shown[rule.line] = (hole, rule)
        for path in existing_files(repo, area):
            ok, deciding = verdict(path)
            if not ok:
                shown.setdefault(deciding.line if deciding else 0, (path, deciding))
        for _, (path, deciding) in sorted(shown.items()):
            problems.append(Problem(found, gap_reason(display(path, deciding), deciding, team, area)))
    return problems


def gap_reason(path: str, rule: Rule | None, team: str, area: Area) -> str:
    if rule is None:
        who, where = "nobody", "no line matches it"
    else:
        who = " ".join(rule.owners) or "nobody"
        if team.casefold() in {owner.casefold() for owner in rule.owners}:
            team += " alone (any one owner a line lists can approve)"
        where = f"line {rule.line}"
        if rule.glob.lstrip("/") != path:
            where += f", pattern {rule.pattern}"
        if rule.exclusion:
            where += ", which takes it out of code owner approval"
        elif not rule.owners:
            where += (
                ", in which GitLab reads no owner"
                if isinstance(rule.spec, GitLabGlob)
                else ", which lists no owners"
            )
        if rule.optional:
            where += f", in an optional section ({rule.section}), whose approval is not required"
    return f"{path} is owned by {who}, not {team} ({where}): changes there {area.widens} {REVIEW}"


def skipped_reason(skip: Skipped, path: str, area: Area, host: Host = GITHUB) -> str:
    return (
        f"line {skip.rule.line} ({skip.rule.pattern}) is skipped by {host.name}: {skip.why}; it names "
        f"{path}, where changes {area.widens}: write it in a form {host.name} reads, or remove it"
    )


def header_reason(skip: Skipped) -> str:
    return (
        f"line {skip.rule.line} ({skip.rule.pattern}): {skip.why} (GitLab: [Section], ^[Section] or "
        f"[Section][2], then default owners); the lines below it may not be in the section meant"
    )


def display(path: str, rule: Rule | None = None) -> str:
    """A path with its stand-ins as wildcards; an open last segment as the directory when the
    line (if any) owns all of it, e.g. argocd/ for `*` but argocd/* for `/argocd/*`."""
    if path.endswith("/" + ANY) and (rule is None or rule.matches(f"{path}/{ANY}")):
        path = path[: -len(ANY)]
    return path.replace(ANY, "*").replace(ONE, "?")


def reaches(rule: Rule, area: Area) -> Iterator[str]:
    """Paths inside the area the rule's pattern matches, most general first: the area's
    representatives, the pattern itself, then the pattern below the area with its leading parts
    absorbed by it. `**` stands for no, one and two directories."""
    candidates = list(area.examples())
    if area.path.endswith("/"):
        segments = rule.glob.lstrip("/").split("/")
        if segments[-1] == "":
            segments[-1] = ANY
        classes = isinstance(rule.spec, GitLabGlob)  # GitHub reads `[ ]` literally, if at all
        filled = [[instance(segment, depth, classes) for segment in segments] for depth in (0, 1, 2)]
        candidates += ["/".join(part for parts in each for part in parts) for each in filled]
        for each in filled:
            for start in range(len(each) + 1):
                tail = [part for parts in each[start:] for part in parts] or [ANY]
                candidates.append(area.path + "/".join(tail))
    seen = set()
    for path in candidates:
        if path not in seen and area.holds(path) and rule.matches(path):
            seen.add(path)
            yield path


def instance(segment: str, depth: int, classes: bool = False) -> list[str]:
    """A path segment the glob segment matches (`**`: `depth` directories; with `classes`, a
    GitLab `[ ]` class: its first member, or `?` when negated)."""
    if segment == "**":
        return [ANY] * depth
    if not classes:
        return [re.sub(r"\\(.)|(\*+)|(\?)", lambda m: m.group(1) or (ANY if m.group(2) else ONE), segment)]

    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1)
        if match.group(2):
            return ANY
        if match.group(4):
            return ONE if match.group(4)[1] in "!^" else match.group(5)
        return ONE

    return [re.sub(r"\\(.)|(\*+)|(\?)|(\[[!^]?(.)[^\]]*\])", one, segment)]
