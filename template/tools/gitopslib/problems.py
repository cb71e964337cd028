"""A problem found in the repository, printed as one line: `path: reason`."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Credentials inside a URL a reason quotes (a user and password, or a token, before the host's
# `@`): printed in CI logs, they would leak what the secret scan reports. An ssh user is no secret.
URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s@'\"]+)@")


def without_credentials(text: str) -> str:
    def masked(match: re.Match[str]) -> str:
        scheme, userinfo = match["scheme"], match["userinfo"]
        if ":" in userinfo or scheme.lower().startswith("http"):
            return f"{scheme}***@"
        return match[0]

    return URL_CREDENTIALS.sub(masked, text)


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {without_credentials(self.reason)}"
