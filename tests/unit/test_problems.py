"""gitopslib/problems.py: a problem is one `path: reason` line that never prints a URL's credentials."""

from __future__ import annotations

import pytest
from gitopslib.problems import Problem, without_credentials
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.properties import PROPERTY


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        (
            "clone https://user:s3cret@git.example.com/org/repo.git",
            "clone https://***@git.example.com/org/repo.git",
        ),
        ("https://ghp_token@github.com/org/repo", "https://***@github.com/org/repo"),  # a token alone
        ("HTTP://token@host/x", "HTTP://***@host/x"),
        ("ssh://deploy:pw@host/repo", "ssh://***@host/repo"),
        ("oci://a:b@registry/x and https://c:d@host/y", "oci://***@registry/x and https://***@host/y"),
        # Not credentials: an ssh user, scp-style URLs, mail addresses, a URL without userinfo.
        ("ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("owner platform@example.com", "owner platform@example.com"),
        ("https://github.com/org/repo@v1", "https://github.com/org/repo@v1"),
    ],
)
def test_without_credentials(text: str, printed: str) -> None:
    assert without_credentials(text) == printed


def test_problem_is_one_path_reason_line_without_credentials() -> None:
    problem = Problem("gitops.yaml", "repo_url https://bot:hunter2@git.example.com/g.git is not allowed")
    assert str(problem) == "gitops.yaml: repo_url https://***@git.example.com/g.git is not allowed"
    assert problem.reason.endswith("is not allowed")  # the stored reason is left whole


def test_problems_sort_by_path_then_reason() -> None:
    problems = [Problem("b.yaml", "a"), Problem("a.yaml", "z"), Problem("a.yaml", "b")]
    assert sorted(problems) == [Problem("a.yaml", "b"), Problem("a.yaml", "z"), Problem("b.yaml", "a")]
    assert len({Problem("a", "b"), Problem("a", "b")}) == 1


# What RFC 3986 allows in a URL's userinfo (anything else is percent-encoded).
USER = st.text(
    st.characters(codec="ascii", categories=["L", "N"], include_characters="-._~!$&*+%"), min_size=1
)
PASSWORD = st.text(
    st.characters(codec="ascii", categories=["L", "N"], include_characters="-._~!$&*+%:"), min_size=1
)


@PROPERTY
@given(user=USER, password=PASSWORD, scheme=st.sampled_from(["https", "http", "ssh", "git+ssh", "oci"]))
def test_a_password_in_a_url_is_never_printed(user: str, password: str, scheme: str) -> None:
    printed = str(
        Problem("argocd/apps/x.yaml", f"source '{scheme}://{user}:{password}@host/repo.git' refused")
    )
    assert printed == "argocd/apps/x.yaml: source '" + scheme + "://***@host/repo.git' refused"
