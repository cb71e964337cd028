"""Generated answer sets (part 2 of 2, its own seed): accepted -> correct repo, refused -> nothing written.

Two files so that the two test workers share the budget; the property is in
tests/generated_answers.py, the strategies in tests/answer_strategies.py.
"""

from __future__ import annotations

from tests.answer_sets import CHART_REPOSITORY
from tests.answer_strategies import CHART_IMAGE, CHART_NAME
from tests.generated_answers import dry_run_count_test, generated_answer_test

# The defects the issue reported, pinned: each runs on every run, before the drawn sets.
test_generated_answer_set = generated_answer_test(
    2,
    {"exposure": "ingress", "ingress_class": "123", "hosts": {"prod": "shop.xn--p1ai"}},
    {"exposure": "gateway", "gateway": "true/null", "hosts": {"dev": "*.example.com"}},
    {"exposure": "ingress", "ingress_class": "internal.example.com"},
    {"sync_windows": {"prod": {"schedule": "99 99 99 99 99", "duration": "2h"}}},
    {"sync_windows": {"prod": {"schedule": "*/0 * * * *", "duration": "2h"}}},
    {"sync_windows": {"prod": {"schedule": "0 8 * * MON", "duration": "1h30m"}}},
    {"argocd_version": "v03.3.0"},
    {"resources": {"prod": {"requests": {"cpu": 0.5, "memory": "1e3"}}}, "namespace_quota": 1},
    # A chart app, accepted (served by tests/helm_repository.py) and refused (a manifests answer).
    {
        "workload": "helm-chart",
        "chart_repo": CHART_REPOSITORY,
        "chart_name": CHART_NAME,
        "chart_version": "0.2.0",
        "image": CHART_IMAGE,
        "sync_policy": "manual",
        "environments": ["dev", "prod"],
    },
    {"workload": "helm-chart", "chart_repo": CHART_REPOSITORY, "image": CHART_IMAGE, "exposure": "ingress"},
)

# After the property (same worker, definition order): its first accepted sets were dry-run on the API server.
test_accepted_sets_were_dry_run = dry_run_count_test(2)
