"""The child pipeline that validates a GitLab repository in shards: `tools/gitops shards pipeline`.

GitLab fixes a job's `parallel:` count when it reads the file, so a count sized for the repository
as it is when the pipeline runs needs a pipeline written at run time: the `shards` job of
.gitlab-ci.yml writes this one as an artifact and the `validate` job runs it as a child pipeline
(`trigger: include: artifact:`, `strategy: depend`, so its result is the parent's). With one shard
it is one job, a whole validate; with N, `parallel: N` jobs each validate their share
(CI_NODE_INDEX/CI_NODE_TOTAL) and a last job checks what needs every shard's builds over their
reports, as GitHub's plan/shard/validate jobs do.

A child pipeline reads nothing of its parent's file: the image, the full history (GIT_DEPTH) and
the tools' install are written here again. Its CI_PIPELINE_SOURCE is `parent_pipeline`, and a
child of a merge request pipeline is one too, where jobs without rules do not run: each job says so.
"""

from __future__ import annotations

import json

from .errors import UsageError
from .shards import Shard

# Where .gitlab-ci.yml's `shards` job writes this pipeline, and the job that writes it (the
# `validate` trigger job names both; validate's own check of the pipeline reads them).
PIPELINE_FILE = "validate-shards.gitlab-ci.yml"
REPORTS = "shard-reports"
_HEADER = """\
# Written by `tools/gitops shards pipeline` in the `shards` job of .gitlab-ci.yml, for this
# commit: {count} shard{plural} of this repository's {overlays} overlays. Not committed.
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "parent_pipeline"

variables:
  # Whole history: validate reads the promotion history.
  GIT_DEPTH: "0"
  PIP_DISABLE_PIP_VERSION_CHECK: "1"

default:
{image}  timeout: 15m
  before_script:
    - python -m pip install -r tools/requirements.txt

stages:
  - shards
  - validate
"""
_RULES = """\
  rules:
    - if: $CI_PIPELINE_SOURCE == "parent_pipeline"
"""
_WHOLE = """
validate:
  stage: validate
{rules}  script:
    - python tools/gitops validate
"""
_SHARDED = """
# Each shard's overlays, and shard 1 also every check that needs no build.
shard:
  stage: shards
  parallel: {count}
{rules}  script:
    - mkdir -p {reports}
    - >-
      python tools/gitops validate --shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"
      --shard-report "{reports}/$CI_NODE_INDEX.json"
  artifacts:
    when: always
    paths:
      - {reports}/
    expire_in: 1 day

# What needs every shard's builds: a host two overlays route, an exception nothing used.
validate:
  stage: validate
{rules}  script:
    - python tools/gitops shards merge {reports}/*.json
"""


def child_pipeline(shards: list[str], overlays: int, image: str) -> str:
    """The pipeline for `shards` (as `planned` gives them), its jobs in `image` ("": the runner's)."""
    if image != image.strip() or "\n" in image:
        raise UsageError(f"--image {image!r}: not an image name")
    # A shell runner's job has no image (CI_JOB_IMAGE is empty there): the runner's own, as for
    # the job that writes this pipeline.
    line = f"  image: {json.dumps(image)}\n" if image else ""
    count = len(shards)
    text = _HEADER.format(count=count, plural="s" if count != 1 else "", overlays=overlays, image=line)
    if count == 1:
        assert shards == [str(Shard(1, 1))]
        return text + _WHOLE.format(rules=_RULES)
    return text + _SHARDED.format(count=count, rules=_RULES, reports=REPORTS)
