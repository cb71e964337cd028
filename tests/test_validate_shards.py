"""`validate --shard I/N` and `tools/gitops shards`: the shards of a repository together find
exactly what one whole validate finds, and `shards merge` refuses an incomplete set of reports.

The rule the results are checked against is the whole validate of the same repository, not the
shard code: a repository with problems of every kind (one overlay's object, a host two
overlays of different shards route, an exception nothing uses, a file no build reads)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitopslib.repo import Overlay
from gitopslib.shards import Shard, planned
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import render
from tests.template_versions import copy_repo, edit, gitops_in_process, validated
from tests.test_attacks import ATTACKS_SERVICE, INGRESS, add_to_overlay, declare

SPLIT = 3
# Sorted overlays: dev/myapp, prod/myapp, staging/myapp: one per shard of three.
EXCEPTIONS = """
exceptions:
  - kind: Service
    name: edge
    namespace: myapp-dev
    reason: the edge load balancer
  - kind: AppProject
    name: gone
    reason: once needed
"""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("shards") / "repo"
    return validated(render(repo, {"kyverno_policies": True}))


@pytest.fixture
def broken(pristine: Path, tmp_path: Path) -> Path:
    """Problems for each shard and for the merge only."""
    repo = copy_repo(pristine, tmp_path / "repo")
    for env in ("dev", "staging"):  # shards 1 and 3 route the same host; exposure is none
        add_to_overlay(repo, "ing.yaml", INGRESS, env)
    add_to_overlay(repo, "svc.yaml", ATTACKS_SERVICE.replace("name: evil", "name: edge"))  # honoured
    declare(repo, EXCEPTIONS)  # AppProject/gone matches nothing
    add_to_overlay(
        repo, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n", "prod"
    )
    edit(repo, "argocd/bootstrap/root-application.yaml", "metadata:\n", "metadata:\n  labels: {a: [1]}\n")
    return repo


def lines(output: str) -> set[str]:
    return set(output.splitlines())


def shard_runs(repo: Path, tmp_path: Path, count: int) -> tuple[set[str], list[Path]]:
    found: set[str] = set()
    reports = []
    for index in range(1, count + 1):
        report = tmp_path / f"shard-{index}.json"
        result = gitops_in_process(
            repo, "validate", "--shard", f"{index}/{count}", "--shard-report", str(report)
        )
        assert result.returncode in (0, 1), result.stderr
        assert result.returncode == (1 if result.stdout else 0)
        found |= lines(result.stdout)
        reports.append(report)
    return found, reports


@pytest.mark.parametrize("count", [1, 2, SPLIT, 5])
def test_shards_and_their_merge_find_what_one_validate_finds(
    broken: Path, tmp_path: Path, count: int
) -> None:
    whole = gitops_in_process(broken, "validate")
    assert whole.returncode == 1
    expected = lines(whole.stdout)
    # Each kind of problem is there: an object's, two shared-host lines, the stale exception, argocd/.
    assert any("ConfigMap/x" in line for line in expected), expected
    assert any("is also routed to" in line for line in expected), expected
    assert any("AppProject/gone (once needed) matches no object" in line for line in expected), expected
    assert any(line.startswith("argocd/bootstrap/root-application.yaml") for line in expected), expected
    found, reports = shard_runs(broken, tmp_path, count)
    merged = gitops_in_process(broken, "shards", "merge", *map(str, reports))
    assert merged.returncode == 1, merged.stderr
    assert found | lines(merged.stdout) == expected
    if count > 1:  # what needs every shard is the merge's alone, and said once
        assert not any("is also routed to" in line or "matches no object" in line for line in found)
        assert not found & lines(merged.stdout)


def test_a_clean_repository_in_shards(pristine: Path, tmp_path: Path) -> None:
    repo = copy_repo(pristine, tmp_path / "repo")
    found, reports = shard_runs(repo, tmp_path, SPLIT)
    assert found == set()
    merged = gitops_in_process(repo, "shards", "merge", *map(str, reports))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert merged.stderr.strip().splitlines()[-1] == "3 shard reports merged, 3 overlays, 0 problems"


def test_merge_refuses_missing_repeated_and_foreign_reports(pristine: Path, tmp_path: Path) -> None:
    repo = copy_repo(pristine, tmp_path / "repo")
    _, reports = shard_runs(repo, tmp_path, SPLIT)
    missing = gitops_in_process(repo, "shards", "merge", str(reports[0]), str(reports[2]))
    assert missing.returncode == 1
    assert missing.stdout == "shards: no report of shard 2/3: its overlays were not validated\n"
    twice = gitops_in_process(repo, "shards", "merge", *map(str, reports), str(reports[1]))
    assert twice.returncode == 1 and "shards: shard 2/3 reported twice" in twice.stdout
    other = tmp_path / "other.json"
    gitops_in_process(repo, "validate", "--shard", "1/2", "--shard-report", str(other))
    mixed = gitops_in_process(repo, "shards", "merge", str(reports[1]), str(other))
    assert mixed.returncode == 2 and mixed.stderr.startswith(
        "shards merge: the reports are of different splits"
    )
    # An overlay added after the shards ran (another commit): not validated by any of them.
    data = json.loads(reports[0].read_text())
    data["overlays"] = []
    reports[0].write_text(json.dumps(data))
    stale = gitops_in_process(repo, "shards", "merge", *map(str, reports))
    assert stale.returncode == 1
    assert "environments/dev/myapp: not built by any shard (1 overlays)" in stale.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "--shard", "0/3"], "--shard 0/3: expected I/N with 1 <= I <= N, e.g. --shard 2/4"),
        (["validate", "--shard", "4/3"], "--shard 4/3: expected I/N with 1 <= I <= N, e.g. --shard 2/4"),
        (["validate", "--shard", "two"], "--shard two: expected I/N with 1 <= I <= N, e.g. --shard 2/4"),
        (["validate", "--shard-report", "x.json"], "--shard-report needs --shard"),
        (
            ["validate", "--shard", "1/2", "--changed-since", "HEAD"],
            "--shard and --changed-since cannot be combined: a shard is a share of every overlay",
        ),
        (["shards", "list", "1/0"], "--shard 1/0: expected I/N with 1 <= I <= N, e.g. --shard 2/4"),
        (["shards", "merge"], "shards merge: name the reports the shards wrote (--shard-report)"),
        (["shards", "plan", "--overlays-per-shard", "0"], "--overlays-per-shard 0: must be at least 1"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(pristine: Path, args: list[str], message: str) -> None:
    result = gitops_in_process(pristine, *args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")


def test_unreadable_reports_are_named(pristine: Path, tmp_path: Path) -> None:
    foreign_claim = {
        "format": 1,
        "shard": "1/1",
        "overlays": [],
        "claims": [{"overlay": "environments/dev/myapp/../../x", "where": "w", "hosts": ["h"]}],
        "exceptions_used": [],
    }
    unreadable = {
        "empty.json": "",
        "list.json": "[]",
        "old.json": '{"format": 0}',
        "foreign-claim.json": json.dumps(foreign_claim),
    }
    for name, text in unreadable.items():
        (tmp_path / name).write_text(text)
        result = gitops_in_process(pristine, "shards", "merge", str(tmp_path / name))
        assert result.returncode == 2
        assert (
            result.stderr
            == f"{tmp_path / name}: not a shard report of this version of tools/gitops validate\n"
        )
    absent = gitops_in_process(pristine, "shards", "merge", str(tmp_path / "absent.json"))
    assert (absent.returncode, absent.stderr) == (
        2,
        f"{tmp_path / 'absent.json'}: No such file or directory\n",
    )


def test_plan_and_list_in_the_command_line(pristine: Path) -> None:
    plan = gitops_in_process(pristine, "shards", "plan", "--overlays-per-shard", "2")
    assert (plan.returncode, json.loads(plan.stdout)) == (0, ["1/2", "2/2"])
    listed = gitops_in_process(pristine, "shards", "list", "2/2")
    assert listed.stdout == "environments/prod/myapp\n"


@given(
    names=st.sets(
        st.tuples(st.sampled_from(["dev", "qa", "prod"]), st.from_regex(r"[a-z]{1,4}", fullmatch=True))
    ),
    count=st.integers(1, 12),
)
def test_shards_split_every_overlay_once_and_evenly(names: set[tuple[str, str]], count: int) -> None:
    overlays = [Overlay(env, app) for env, app in names]
    shares = [Shard(index, count).overlays(list(reversed(overlays))) for index in range(1, count + 1)]
    assert sorted(o for share in shares for o in share) == sorted(overlays)
    assert max(map(len, shares)) - min(map(len, shares)) <= 1
    # Deterministic: the same split whatever order the overlays were found in.
    assert shares == [Shard(index, count).overlays(overlays) for index in range(1, count + 1)]


@pytest.mark.parametrize(("overlays", "shards"), [(0, 1), (1, 1), (400, 1), (401, 2), (1200, 3), (10**6, 64)])
def test_plan_sizes(overlays: int, shards: int) -> None:
    assert planned(overlays) == [f"{index}/{shards}" for index in range(1, shards + 1)]
