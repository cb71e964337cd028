"""CODEOWNERS read as GitLab reads it (ee/lib/gitlab/code_owners/: file.rb, section_parser.rb,
section.rb, entry.rb and reference_extractor.rb), for codeowners_checks.py.

- Each line is stripped; an empty one, or one that then starts with `#`, is skipped. Nothing else
  is a comment: a `#` later in a line is part of its owners' text.
- A line matching `^\\^?\\[name\\](\\[approvals\\])?default owners` is a section header (`^`:
  optional); one that starts with `[` or `^[` without being one is skipped, the lines below it
  staying in the section above. The lines before any header are the section `codeowners`. A
  header's name is looked up case-insensitively among the sections seen so far (the first
  spelling is kept), except while the last section added is still `codeowners`: then it is taken
  as written, so a first header `[codeowners]` continues that section and `[CODEOWNERS]` does not.
- Any other line is a pattern, up to its first whitespace not escaped by `\\`, then its owners'
  text, or the section's default owners when that is empty. A `!pattern` takes the paths it
  matches out of its section (its owners are not read).
- A section keeps its lines in a hash keyed by the normalised pattern: a pattern repeated in a
  section keeps the place of its first line and takes the later line's owners (and `!`).
- For a path, each section's last matching line in that order decides, unless one of its matching
  lines is a `!` line: then the section asks nothing. A section is optional when all its lines
  come from `^[...]` headers.
- Owners are what GitLab's ReferenceExtractor finds anywhere in the owners' text: `@name` (users
  and groups, nested at any depth) not after a word character or `@`, `@@developer`,
  `@@maintainer`, `@@owner` (or their plurals) and e-mail addresses; anything else is ignored.
"""

from __future__ import annotations

import dataclasses
import re

from .codeowners_checks import Rule, Skipped
from .gitlab_patterns import compile_gitlab

DEFAULT = "codeowners"
# Ruby's String#strip and `\s`, `\w`: ASCII.
BLANKS = " \t\n\v\f\r\0"
HEADER = re.compile(r"(\^)?\[(.*?)\](?:\[([\s\d]*)\])?(\s*[@\w.\-/\s]*)?", re.ASCII)
STRICT_HEADER = re.compile(r"\^?\[[^\]]+\](?:\[\d+\])?(?:\s+[@\w.\-/\s]+)?", re.ASCII)
UNPARSABLE = re.compile(r"\^?\[")
SEPARATOR = re.compile(r"(?<!\\)\s+", re.ASCII)
# Gitlab::PathRegex's namespace path, nested: FULL_NAMESPACE_FORMAT_REGEX.
SEGMENT = r"(?:[A-Za-z0-9_.][A-Za-z0-9_.-]*[A-Za-z0-9_-]|[A-Za-z0-9_])"
NAME = re.compile(rf"(?<![\w@])@({SEGMENT}(?:/{SEGMENT}){{0,20}})", re.ASCII)
ROLE = re.compile(r"(?<![\w@])@@((?:developer|maintainer|owner)s?)(?:\s|$)", re.ASCII | re.IGNORECASE)
EMAIL = re.compile(r"[^@\s]{1,100}@[^@\s]{1,255}(?<!\W)", re.ASCII)


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    optional: bool = False
    defaults: str = ""  # the default owners' text


def owners_in(text: str) -> tuple[str, ...]:
    """The owners GitLab's ReferenceExtractor finds in `text`: names, roles, then e-mails."""
    found = [f"@{m}" for m in NAME.findall(text)] + [f"@@{m}" for m in ROLE.findall(text)]
    found += EMAIL.findall(text)
    return tuple(dict.fromkeys(found))


def section_name(name: str, known: list[str]) -> str:
    if known[-1] == DEFAULT:
        return name
    return next((each for each in known if each.casefold() == name.casefold()), name)


def header_error(line: str, header: re.Match[str], defaults: str) -> str:
    """What GitLab reports about a header it reads (SectionParser#validate_section), if anything."""
    if not header[2].strip(BLANKS):
        return "its section has no name"
    read = owners_in(defaults)
    bad = next((token for token in defaults.split() if token not in read), None)
    if bad is not None:
        return f"{bad} is not an owner"
    if header[3] is not None and not header[3].strip().isdigit():
        return "its approvals are not a number"
    if not STRICT_HEADER.fullmatch(line):
        return "GitLab reads only its name and the owners before anything else on it"
    return ""


def parse_gitlab(text: str) -> tuple[list[Rule], list[Skipped]]:
    sections: dict[str, dict[str, Rule]] = {DEFAULT: {}}
    skipped = []
    current = Section(DEFAULT)
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(BLANKS)
        if not line or line.startswith("#"):
            continue
        header = HEADER.match(line)
        if header is not None:
            defaults = (header[4] or "").strip(BLANKS)
            current = Section(section_name(header[2], list(sections)), bool(header[1]), defaults)
            sections.setdefault(current.name, {})
            why = header_error(line, header, defaults)
            if why:
                skipped.append(Skipped(Rule(number, line, (), None), why, header=True))
            continue
        if UNPARSABLE.match(line):
            why = "not a section header it reads, so it skips the line"
            skipped.append(Skipped(Rule(number, line, (), None), why, header=True))
            continue
        parts = SEPARATOR.split(line, maxsplit=1)
        pattern, owners_text = parts[0], parts[1] if len(parts) > 1 else ""
        exclusion = pattern.startswith("!")
        glob = compile_gitlab(pattern.removeprefix("!"))
        owners = () if exclusion else owners_in(owners_text or current.defaults)
        rule = Rule(number, pattern, owners, glob, current.name, current.optional, exclusion)
        sections[current.name][glob.normalised] = rule  # a repeated pattern keeps its place
    rules = []
    for entries in sections.values():
        optional = all(rule.optional for rule in entries.values())
        rules += [dataclasses.replace(rule, optional=optional) for rule in entries.values()]
    return rules, skipped
