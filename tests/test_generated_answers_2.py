"""Generated answer sets (part 2 of 2, its own seed): accepted -> correct repo, refused -> nothing written.

Two files so that the two test workers share the budget; the property is in
tests/generated_answers.py, the strategies in tests/answer_strategies.py.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, seed, settings

from tests.answer_strategies import answer_sets
from tests.generated_answers import check_answer_set
from tests.generative_settings import answer_sets_per_file, commit_seed


@seed(commit_seed() + 2)
@settings(
    max_examples=answer_sets_per_file(),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(answers=answer_sets())
# The defects the issue reported, pinned: each runs on every run, before the drawn sets.
@example(answers={"exposure": "ingress", "ingress_class": "123", "hosts": {"prod": "shop.xn--p1ai"}})
@example(answers={"exposure": "gateway", "gateway": "true/null", "hosts": {"dev": "*.example.com"}})
@example(answers={"exposure": "ingress", "ingress_class": "internal.example.com"})
@example(answers={"sync_windows": {"prod": {"schedule": "99 99 99 99 99", "duration": "2h"}}})
@example(answers={"sync_windows": {"prod": {"schedule": "*/0 * * * *", "duration": "2h"}}})
@example(answers={"sync_windows": {"prod": {"schedule": "0 8 * * MON", "duration": "1h30m"}}})
@example(answers={"argocd_version": "v03.3.0"})
@example(answers={"resources": {"prod": {"requests": {"cpu": 0.5, "memory": "1e3"}}}, "namespace_quota": 1})
def test_generated_answer_set(answers: dict[str, Any], kubectl: str) -> None:
    check_answer_set(answers, kubectl)
