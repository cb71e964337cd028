"""Seed and budget of the generative tests.

The seed comes from the template's commit: each commit explores new answer sets, and any
run is replayed by running the same commit again (or by GITOPS_ANSWERS_SEED=N). The budget
is the number of answer sets per generative test file; `--answer-sets N` raises it locally
(python3 scripts/dev.py test --answer-sets 1000 tests/test_generated_answers_1.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ANSWER_SETS = 100  # per file; two files: 200 a run
SEED_VARIABLE = "GITOPS_ANSWERS_SEED"
BUDGET_VARIABLE = "GITOPS_ANSWER_SETS"


def commit_seed() -> int:
    override = os.environ.get(SEED_VARIABLE)
    if override:
        return int(override)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=TEMPLATE_ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return int(head[:12] or "0", 16)


def answer_sets_per_file() -> int:
    return int(os.environ.get(BUDGET_VARIABLE) or DEFAULT_ANSWER_SETS)
