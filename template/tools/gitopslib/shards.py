"""Validating a very large repository across CI runners: `validate --shard I/N`, `shards`.

A shard is a deterministic share of the overlays: the overlays in their sorted order, every Nth
from the Ith (so shards differ by at most one overlay, and an app's environments are spread).
Shard 1 also runs every check that needs no build (files, Argo CD objects, coverage, CI files,
secrets, promotion history); every shard checks what its own overlays build. What needs the
builds of every overlay (a host two overlays route, an exception of gitops.yaml nothing used)
is checked by `tools/gitops shards merge` over the reports the shards wrote (--shard-report).
`--shard 1/1` is a whole validate. `tools/gitops shards` prints the shards a CI matrix runs,
sized for the repository when the pipeline runs (README: "Validating a large repository").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .access_exceptions import Exceptions, read_exceptions
from .errors import UsageError
from .layout import ENVIRONMENTS_DIR
from .problems import Problem
from .repo import Overlay, Repo
from .workload_access import HostClaim, shared_host_problems

# One shard's builds take about 15 s on two cores at this many overlays (BENCHMARKS.md), a small
# part of a CI job whose setup takes a minute; more shards only add setup.
OVERLAYS_PER_SHARD = 400
MAX_SHARDS = 64  # far under GitHub's 256 jobs of a matrix
REPORT_FORMAT = 1
_SHARD = re.compile(r"([1-9][0-9]{0,3})/([1-9][0-9]{0,3})")


@dataclass(frozen=True)
class Shard:
    index: int  # from 1
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def whole(self) -> bool:
        return self.count == 1

    def overlays(self, overlays: list[Overlay]) -> list[Overlay]:
        return [o for position, o in enumerate(sorted(overlays)) if position % self.count == self.index - 1]


def parse_shard(text: str) -> Shard:
    """`I/N` with 1 <= I <= N; a usage error otherwise."""
    match = _SHARD.fullmatch(text)
    if not match or int(match[1]) > int(match[2]):
        raise UsageError(f"--shard {text}: expected I/N with 1 <= I <= N, e.g. --shard 2/4")
    return Shard(int(match[1]), int(match[2]))


def planned(overlays: int, per_shard: int = OVERLAYS_PER_SHARD) -> list[str]:
    """The shards of a repository of `overlays` overlays, as `I/N` strings (a CI matrix)."""
    if per_shard < 1:
        raise UsageError(f"--overlays-per-shard {per_shard}: must be at least 1")
    count = min(max(1, -(-overlays // per_shard)), MAX_SHARDS)
    return [str(Shard(index, count)) for index in range(1, count + 1)]


@dataclass
class ShardReport:
    """What a shard found that only all shards together can judge."""

    shard: Shard
    overlays: list[str] = field(default_factory=list)  # the overlays it built
    claims: list[HostClaim] = field(default_factory=list)
    used: list[int] = field(default_factory=list)  # positions in gitops.yaml's exceptions

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": REPORT_FORMAT,
                "shard": str(self.shard),
                "overlays": self.overlays,
                "claims": [
                    {"overlay": claim.overlay.path, "where": claim.where, "hosts": list(claim.hosts)}
                    for claim in self.claims
                ],
                "exceptions_used": self.used,
            },
            indent=1,
        )


def exceptions_used(exceptions: Exceptions) -> list[int]:
    return [position for position, declared in enumerate(exceptions.declared) if declared in exceptions.used]


def write_report(path: Path, report: ShardReport) -> None:
    try:
        path.write_text(report.to_json() + "\n")
    except OSError as error:
        raise UsageError(f"--shard-report {path}: {error.strerror}") from None


def _read_report(path: Path) -> ShardReport:
    """A report a shard wrote; UsageError (one line) for anything else."""
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("format") != REPORT_FORMAT:
            raise ValueError
        claims = [
            HostClaim(_overlay(claim["overlay"]), str(claim["where"]), tuple(map(str, claim["hosts"])))
            for claim in data["claims"]
        ]
        return ShardReport(
            parse_shard(str(data["shard"])),
            [str(path) for path in data["overlays"]],
            claims,
            [int(position) for position in data["exceptions_used"]],
        )
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror}") from None
    except (ValueError, KeyError, TypeError, UsageError):
        raise UsageError(f"{path}: not a shard report of this version of tools/gitops validate") from None


def _overlay(path: object) -> Overlay:
    """The overlay a report names by its folder (`environments/<env>/<app>`)."""
    top, _, rest = str(path).partition("/")
    env, _, app = rest.partition("/")
    overlay = Overlay(env=env, app=app)
    if top != ENVIRONMENTS_DIR or not env or not app or "/" in app or overlay.path != str(path):
        raise ValueError(path)
    return overlay


@dataclass
class MergeResult:
    problems: list[Problem]
    summary: str


def merge(repo: Repo, paths: list[Path]) -> MergeResult:
    """The checks that need every shard's builds, over the shards' reports: every shard reported
    once, and together they built every overlay of this repository; no host routed to two
    overlays; no exception of gitops.yaml that nothing used."""
    if not paths:
        raise UsageError("shards merge: name the reports the shards wrote (--shard-report)")
    reports = [_read_report(path) for path in paths]
    counts = {report.shard.count for report in reports}
    if len(counts) != 1:
        raise UsageError(
            f"shards merge: the reports are of different splits ({', '.join(str(r.shard) for r in reports)})"
        )
    count = counts.pop()
    seen = [report.shard.index for report in reports]
    problems = []
    missing = [f"{index}/{count}" for index in range(1, count + 1) if index not in seen]
    twice = sorted({f"{index}/{count}" for index in seen if seen.count(index) > 1})
    if missing:
        problems.append(
            Problem("shards", f"no report of shard {', '.join(missing)}: its overlays were not validated")
        )
    if twice:
        problems.append(Problem("shards", f"shard {', '.join(twice)} reported twice"))
    built = {overlay for report in reports for overlay in report.overlays}
    expected = {overlay.path for overlay in repo.overlays()}
    if not missing and (unbuilt := sorted(expected - built)):
        problems.append(
            Problem(
                unbuilt[0],
                f"not built by any shard ({len(unbuilt)} overlays): the shards ran on another commit",
            )
        )
    problems += shared_host_problems([claim for report in reports for claim in report.claims])
    exceptions = read_exceptions(repo)
    used = {position for report in reports for position in report.used}
    exceptions.used = {declared for position, declared in enumerate(exceptions.declared) if position in used}
    if not missing:
        problems += exceptions.unused_problems()
    summary = (
        f"{len(reports)} shard reports merged, {len(built)} overlays, "
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    )
    return MergeResult(sorted(set(problems)), summary)
