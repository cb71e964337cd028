"""The hardening every pod of an app holds, checked on what its overlay renders.

The template's base writes these defaults, but a chart (workload helm-chart) cannot be forced
into them and a team may edit the base: `validate` reads them off the built objects, whoever
wrote them. Three rules:

- Pod Security's `restricted` profile (kubernetes.io/docs/concepts/security/pod-security-standards),
  the level the app namespaces enforce, for what workload_access.host_access_reasons does not
  already name (privileged, host namespaces, hostPath, added capabilities, host ports):
  allowPrivilegeEscalation false, runAsNonRoot, a seccomp profile, capabilities dropped, and only
  the volume types the profile allows. The namespace refuses such pods only when a Deployment
  creates them, long after the sync succeeded: here they are refused before the merge.
- resources: every container requests CPU and memory and limits memory (the quota and the
  scheduler count on them; a container without a memory limit can take the node's).
- probes: every container of a long-running workload has a readiness and a liveness probe.
"""

from __future__ import annotations

from typing import Any

from .api_checks import listed, mapping

# Volume types the restricted profile allows (everything else, hostPath first, is refused).
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})
LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
REQUIRED_RESOURCES = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
PROBES = ("readinessProbe", "livenessProbe")


def _containers(pod: dict[str, Any], *fields: str) -> list[dict[str, Any]]:
    return [mapping(c) for field in fields for c in listed(pod.get(field))]


def _set_for_every(pod: dict[str, Any], containers: list[dict[str, Any]], key: str) -> list[Any]:
    """The value of securityContext `key` each container runs with: its own, else the pod's."""
    pod_value = mapping(pod.get("securityContext")).get(key)
    return [mapping(c.get("securityContext")).get(key, pod_value) for c in containers]


def pod_security_reasons(pod: dict[str, Any]) -> list[str]:
    containers = _containers(pod, "initContainers", "containers", "ephemeralContainers")
    reasons = []
    for container in containers:
        name, security = container.get("name", "?"), mapping(container.get("securityContext"))
        if security.get("allowPrivilegeEscalation") is not False:
            reasons.append(
                f"container {name}: allowPrivilegeEscalation must be false (restricted Pod Security)"
            )
        dropped = {str(c) for c in listed(mapping(security.get("capabilities")).get("drop"))}
        if "ALL" not in dropped:
            reasons.append(f"container {name}: capabilities must drop ALL (restricted Pod Security)")
    users = _set_for_every(pod, containers, "runAsUser")
    if any(user == 0 for user in users):
        reasons.append("runs as user 0 (root): restricted Pod Security refuses it")
    if containers and not all(value is True for value in _set_for_every(pod, containers, "runAsNonRoot")):
        reasons.append("runAsNonRoot must be true, for the pod or every container (restricted Pod Security)")
    profiles = [mapping(p).get("type") for p in _set_for_every(pod, containers, "seccompProfile")]
    if containers and not all(profile in SECCOMP_TYPES for profile in profiles):
        reasons.append(
            "seccompProfile.type must be RuntimeDefault or Localhost, for the pod or every container "
            "(restricted Pod Security)"
        )
    for volume in map(mapping, listed(pod.get("volumes"))):
        kinds = set(volume) - {"name"}
        if kinds and not kinds <= RESTRICTED_VOLUMES and "hostPath" not in kinds:
            reasons.append(
                f"volume {volume.get('name')}: type {', '.join(sorted(kinds))} (restricted Pod Security)"
            )
    return reasons


def resources_reasons(pod: dict[str, Any]) -> list[str]:
    reasons = []
    for container in _containers(pod, "initContainers", "containers"):
        resources = mapping(container.get("resources"))
        limits, requests = mapping(resources.get("limits")), mapping(resources.get("requests"))
        # A limit without a request: Kubernetes requests the limit. A zero is a value.
        given = {"limits": limits, "requests": {**limits, **requests}}
        missing = [
            f"{part}.{name}" for part, name in REQUIRED_RESOURCES if given[part].get(name) in (None, "")
        ]
        if missing:
            reasons.append(f"container {container.get('name', '?')}: no resources {', '.join(missing)}")
    return reasons


def probe_reasons(kind: str, pod: dict[str, Any]) -> list[str]:
    if kind not in LONG_RUNNING:
        return []
    reasons = []
    for container in _containers(pod, "containers"):
        if missing := [probe for probe in PROBES if not container.get(probe)]:
            reasons.append(f"container {container.get('name', '?')}: no {' or '.join(missing)}")
    return reasons


def hardening_reasons(kind: str, pod: dict[str, Any]) -> list[str]:
    return pod_security_reasons(pod) + resources_reasons(pod) + probe_reasons(kind, pod)
