"""The gates a release passes before `tools/gitops promote` moves it out of an environment.

Order (a release ran in the environment before) is checked on the files (promotion_checks.py);
here are the gates that need history or the cluster:
- soak: gitops.yaml's `soak` for the source environment (soak.py); --force lets a release through
  and provenance.yaml records that it did;
- health, with --require-healthy: Argo CD reports the source Application Synced and Healthy
  running this release (health.py); --force does not skip a check the user asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import health, layout, releases
from .problems import Problem
from .repo import Repo
from .soak import SoakUnmeasurableError, Stay, Stays, promotion_soak_problem, soak_of, soak_setting_problem


@dataclass(frozen=True)
class Leaving:
    """One release about to leave the source environment."""

    app: str
    release: dict[str, Any]  # the source's release/kustomization.yaml
    identity: str  # of the whole release folder (releases.folder_identity)


@dataclass
class GateOutcome:
    problems: list[Problem] = field(default_factory=list)
    # app -> what --force let through, for its provenance.yaml
    overridden: dict[str, str] = field(default_factory=dict)


def check_gates(
    repo: Repo, env: str, leaving: list[Leaving], source_commit: str, forced: bool, require_healthy: bool
) -> GateOutcome:
    outcome = GateOutcome()
    if leaving and (problem := soak_setting_problem(repo)):
        # Unreadable, the setting could hide a soak: refuse rather than let releases through.
        outcome.problems.append(Problem(layout.SETTINGS_FILE, problem))
        return outcome
    soak = soak_of(repo, env)
    if not leaving or (soak is None and not require_healthy):
        return outcome
    stays: Stays | None = None
    unmeasurable = ""
    try:
        stays = Stays(repo)
    except SoakUnmeasurableError as error:
        unmeasurable = str(error)
    for release in leaving:
        directory = layout.release_dir(env, release.app)
        label = releases.describe(release.release)
        if soak is not None:
            reason = f"cannot measure the soak of {env}: {unmeasurable}" if stays is None else ""
            if stays is not None:
                reason = promotion_soak_problem(
                    stays, env, release.app, release.identity, label, source_commit, soak
                )
            if reason and forced:
                outcome.overridden[release.app] = f"soak of {soak} in {env}: {reason}"
            elif reason:
                outcome.problems.append(Problem(directory, reason))
        if require_healthy:
            stay = stays.stay_before(env, release.app, release.identity, source_commit) if stays else None
            if reason := _health_reason(repo, env, release, stay):
                outcome.problems.append(Problem(directory, reason))
    return outcome


def _health_reason(repo: Repo, env: str, release: Leaving, stay: Stay | None) -> str:
    deployed = health.Deployed(
        app=release.app,
        env=env,
        arrival_commit=stay.arrival_commit if stay is not None else None,
        images=image_references(release.release),
    )
    try:
        return health.health_problem(repo, deployed)
    except health.HealthUnknownError as error:
        return f"cannot check health: {error}"


def image_references(release: dict[str, Any]) -> tuple[str, ...]:
    """The images a release sets, as a Pod spec names them: name:tag or name@sha256:..."""
    references = []
    for entry in layout.image_entries(release):
        if not isinstance(entry.get("name"), str):
            continue
        name = entry.get("newName") or entry["name"]
        if isinstance(entry.get("digest"), str):
            references.append(f"{name}@{entry['digest']}")
        elif entry.get("newTag") is not None:
            references.append(f"{name}:{entry['newTag']}")
    return tuple(references)
