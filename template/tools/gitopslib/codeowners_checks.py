"""CODEOWNERS gives every path that can widen access to the platform team (gitops.yaml
`platform_team`): argocd/, .github/, tools/, gitops.yaml, platform/, the CODEOWNERS file GitHub
reads, and environments/<env>/ of every protected environment.

GitHub's rules ("About code owners", docs.github.com):
- the first of .github/CODEOWNERS, CODEOWNERS and docs/CODEOWNERS is read; one of 3 MB or more
  is not loaded at all;
- each line is a pattern and its owners (@user, @org/team or an e-mail address); `#` starts a
  comment, at the start of a line or after the owners;
- patterns follow gitignore rules, except that `!` negation, `[ ]` ranges and escaping a
  leading `#` do not work; a line with invalid syntax is skipped;
- the LAST matching line decides, and a line without owners leaves its paths unowned;
- paths are case-sensitive; owners are not (GitHub handles and e-mail addresses).

Each file path is matched against each line on its own, as GitHub does, with pathspec's
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

from .errors import BrokenFileError
from .layout import ANSWERS_GLOB, ENVIRONMENTS_DIR, SETTINGS_FILE
from .problems import Problem
from .repo import Repo, read_text

if TYPE_CHECKING:
    from pathspec import PathSpec
    from pathspec.patterns.gitignore.basic import GitIgnoreBasicPattern

    Spec = PathSpec[GitIgnoreBasicPattern]

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
SIZE_LIMIT = 3 * 1024 * 1024
# The forms GitHub accepts (as copier.yml's platform_team validator does), e-mail case-insensitive.
OWNER = re.compile(r"@[A-Za-z0-9-]+(?:/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[A-Za-z]+", re.ASCII)
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
    spec: Spec | None  # None: matches nothing (`/`)

    def matches(self, path: str) -> bool:
        return self.spec is not None and self.spec.match_file(path, separators=())


@dataclass(frozen=True)
class Skipped:
    """A line GitHub skips, with its pattern read literally to tell where it points."""

    rule: Rule
    why: str


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


def codeowners_problems(repo: Repo) -> list[Problem]:
    found = next((name for name in LOCATIONS if (repo.root / name).is_file()), None)
    problems = []
    text = None
    if found is None:
        problems.append(
            Problem(
                LOCATIONS[0],
                f"missing, and so are {LOCATIONS[1]} and {LOCATIONS[2]}: no change to argocd/, .github/, "
                f"tools/, gitops.yaml, platform/ or a protected environment needs the platform team's review",
            )
        )
    else:
        text, problem = read_codeowners(repo.root / found, found)
        problems += [problem] if problem else []
    team = repo.settings.get("platform_team")
    if not isinstance(team, str) or not OWNER.fullmatch(team.strip()):
        shown = "is missing" if not team else f"{team!r} is not a code owner (@org/team, @user or an e-mail)"
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
    rules, skipped = parse(text)
    return problems + gaps(repo, found, team.strip(), rules, skipped)


def read_codeowners(path: Path, relative: str) -> tuple[str | None, Problem | None]:
    if path.stat().st_size >= SIZE_LIMIT:
        reason = "is 3 MB or more: GitHub does not load it, so no change needs the platform team's review"
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


def parse(text: str) -> tuple[list[Rule], list[Skipped]]:
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


def sensitive_areas(repo: Repo, found: str) -> list[Area]:
    areas = [
        Area("argocd/", "could widen Argo CD access"),
        Area(
            ".github/",
            "could rewrite the CI workflows or the review rules",
            (f"{LOCATIONS[0]}", f".github/workflows/{ANY}"),
        ),
        Area("tools/", "could weaken the checks tools/gitops runs in CI"),
        Area(SETTINGS_FILE, "could change the repo-level settings (the platform team among them)"),
        Area("platform/", "could weaken the platform's cluster-wide policies"),
        Area(".secrets.baseline", "could silence the secret scan"),
    ]
    # The file GitHub reads, and any location it would read first if a file appeared there.
    areas += [
        Area(name, "could change who must review every change")
        for name in LOCATIONS[1 : LOCATIONS.index(found) + 1]
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


def gaps(repo: Repo, found: str, team: str, rules: list[Rule], skipped: list[Skipped]) -> list[Problem]:
    def decider(path: str) -> Rule | None:
        return next((rule for rule in reversed(rules) if rule.matches(path)), None)

    def owned(rule: Rule | None) -> bool:
        # The platform team alone: GitHub takes the approval of any one owner a line lists.
        return rule is not None and {owner.casefold() for owner in rule.owners} == {team.casefold()}

    problems = []
    areas = sensitive_areas(repo, found)
    for skip in skipped:
        reached = next(((p, a) for a in areas for p in reaches(skip.rule, a)), None)
        if reached is not None:
            path, area = reached
            problems.append(Problem(found, skipped_reason(skip, display(path, skip.rule), area)))
    for area in areas:
        shown: dict[int, tuple[str, Rule | None]] = {}  # deciding line (0: none) -> first path
        for path in area.examples():
            if not owned(rule := decider(path)):
                shown.setdefault(rule.line if rule else 0, (path, rule))
        for rule in rules:
            if owned(rule) or rule.line in shown:
                continue
            hole = next((p for p in reaches(rule, area) if decider(p) is rule), None)
            if hole is not None:
                shown[rule.line] = (hole, rule)
        for path in existing_files(repo, area):
            if not owned(rule := decider(path)):
                shown.setdefault(rule.line if rule else 0, (path, rule))
        for _, (path, rule) in sorted(shown.items()):
            problems.append(Problem(found, gap_reason(display(path, rule), rule, team, area)))
    return problems


def gap_reason(path: str, rule: Rule | None, team: str, area: Area) -> str:
    if rule is None:
        who, where = "nobody", "no line matches it"
    else:
        who = " ".join(rule.owners) or "nobody"
        if team.casefold() in {owner.casefold() for owner in rule.owners}:
            team += " alone (any one owner a line lists can approve)"
        where = f"line {rule.line}"
        if rule.pattern.lstrip("/") != path:
            where += f", pattern {rule.pattern}"
        if not rule.owners:
            where += ", which lists no owners"
    return f"{path} is owned by {who}, not {team} ({where}): changes there {area.widens} {REVIEW}"


def skipped_reason(skip: Skipped, path: str, area: Area) -> str:
    return (
        f"line {skip.rule.line} ({skip.rule.pattern}) is skipped by GitHub: {skip.why}; it names {path}, "
        f"where changes {area.widens}: write it in a form GitHub reads, or remove it"
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
        segments = rule.pattern.lstrip("/").split("/")
        if segments[-1] == "":
            segments[-1] = ANY
        filled = [[instance(segment, depth) for segment in segments] for depth in (0, 1, 2)]
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


def instance(segment: str, depth: int) -> list[str]:
    """A path segment the glob segment matches (`**`: `depth` directories)."""
    if segment == "**":
        return [ANY] * depth
    return [re.sub(r"\\(.)|(\*+)|(\?)", lambda m: m.group(1) or (ANY if m.group(2) else ONE), segment)]
