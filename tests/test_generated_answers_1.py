"""Generated answer sets (part 1 of 2, its own seed): accepted -> correct repo, refused -> nothing written.

Two files so that the two test workers share the budget; the property is in
tests/generated_answers.py, the strategies in tests/answer_strategies.py.
"""

from __future__ import annotations

from tests.generated_answers import dry_run_count_test, generated_answer_test

# The defects the issue reported, pinned: each runs on every run, before the drawn sets.
test_generated_answer_set = generated_answer_test(
    1,
    {"app_name": "no", "environments": ["true", "null", "123", "0x1f", "1e3"]},
    {"app_name": "9lives"},
    {"app_name": "a" * 53, "environments": ["dev", "prod"], "smoke_test": True},
    {"app_name": "platform", "environments": ["dev", "policies"]},
    {"image": "UPPER/case"},
    {"resources": {"prod": {"requests": {"cpu": "2"}}}, "namespace_quota": True},
    {"writable_paths": ["/" + "a" * 49 + "-/b", "/" + "a" * 70, "/" + "a" * 70 + "/x"]},
    {"secrets": "external-secrets", "secret_keys": ["true", "null"]},
    # A quarter of a byte: accepted by every check until the API server's warning showed it.
    {"resources": {"dev": {"requests": {"memory": "250m"}}}},
)

# After the property (same worker, definition order): its first accepted sets were dry-run on the API server.
test_accepted_sets_were_dry_run = dry_run_count_test(1)
