"""CODEOWNERS patterns matched as GitLab matches them, which is not git's gitignore matching.

GitLab ("Code Owners syntax", "Advanced CODEOWNERS configuration", docs.gitlab.com) first
normalises a pattern: `*` alone is every file; a pattern without a leading `/` matches at any
depth (`/**/` is put before it); one ending in `/` is every file below it (`**/*` is put after
it); a leading `\\#` stands for `#`, and `\\ ` for a space. The result is compared with the
whole path, with a leading `/`, by Ruby's File.fnmatch with FNM_PATHNAME and FNM_DOTMATCH: `*`,
`?` and `[ ]` never match `/`, `**/` matches any number of directories, `*` matches leading dots
too, and braces are literal. So, unlike git, `/docs` is the file docs alone (no file below it),
and a `**` that ends a pattern is a `*`: `/docs/**` is docs' direct children only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Ruby's `\s`: ASCII whitespace; `\` and a run of it is one space (File#normalize_pattern).
ESCAPED_SPACE = re.compile(r"\\\s+", re.ASCII)


@dataclass(frozen=True)
class GitLabGlob:
    normalised: str
    regex: re.Pattern[str]

    def match_file(self, path: str) -> bool:
        """Whether the pattern matches `path`, relative to the repository root."""
        return self.regex.fullmatch("/" + path) is not None


def compile_gitlab(pattern: str) -> GitLabGlob:
    normalised = normalise(pattern)
    return GitLabGlob(normalised, re.compile(translate(normalised), re.DOTALL))


def normalise(pattern: str) -> str:
    if pattern.startswith("\\#"):
        pattern = pattern[1:]
    pattern = ESCAPED_SPACE.sub(" ", pattern)
    if pattern == "*":
        return "/**/*"
    if not pattern.startswith("/"):
        pattern = "/**/" + pattern
    if pattern.endswith("/"):
        pattern += "**/*"
    return pattern


def translate(glob: str) -> str:
    """The regular expression File.fnmatch(glob, path, FNM_PATHNAME | FNM_DOTMATCH) amounts to."""
    out, i = [], 0
    while i < len(glob):
        char = glob[i]
        if char == "*":
            end = i
            while end < len(glob) and glob[end] == "*":
                end += 1
            starts_segment = i == 0 or glob[i - 1] == "/"
            if end - i >= 2 and starts_segment and glob[end : end + 1] == "/":
                out.append("(?:[^/]*/)*")  # `**/`: no, one or more directories
                i = end + 1
            else:
                out.append("[^/]*")
                i = end
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            i += 2
        elif char == "[" and (close := class_end(glob, i)) is not None:
            out.append(character_class(glob[i + 1 : close]))
            i = close + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def class_end(glob: str, start: int) -> int | None:
    """Where the `[ ]` class opened at `start` closes (a `]` first in it is a member)."""
    first = start + 1 + (glob[start + 1 : start + 2] in ("!", "^"))
    close = glob.find("]", first + 1)
    return close if close != -1 else None


def character_class(body: str) -> str:
    negated = body[:1] in ("!", "^")
    members = body[1:] if negated else body
    escaped = "".join(char if char == "-" else re.escape(char) for char in members)
    # FNM_PATHNAME: a class never matches `/`, not even a negated one.
    return f"(?!/)[{'^' if negated else ''}{escaped}]"
