"""What an app's objects may do: nothing that reaches beyond its own namespace.

Checked on what each overlay builds, so that the pull request fails rather than the sync (or,
worse, the sync succeeds): objects the app's AppProject would not sync, RBAC that escalates
(cluster-admin, namespace admin or edit granted outside the namespace or to everyone, Roles with
the escalate, bind or impersonate verbs), pods with host access (network, PID and IPC
namespaces, hostPath volumes, host ports, privileged containers, added capabilities), Services
reachable from outside the cluster without the Ingress or Gateway the answers choose (NodePort,
LoadBalancer, externalIPs), and Argo CD objects, which belong under argocd/apps/ only. An object
gitops.yaml declares an exception (kind, name and namespace) is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from .access_exceptions import Exceptions
from .api_checks import listed, mapping
from .overlay_checks import CLUSTER_SCOPED_KINDS
from .pod_hardening import hardening_reasons
from .problems import Problem
from .repo import Overlay

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}
ESCALATING_VERBS = {"escalate", "bind", "impersonate"}
RBAC_RESOURCES = {"roles", "rolebindings", "clusterroles", "clusterrolebindings", "*"}
EVERYONE = {
    ("Group", "system:authenticated"), ("Group", "system:unauthenticated"),
    ("Group", "system:serviceaccounts"), ("User", "system:anonymous"),
}  # fmt: skip
ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}  # the only one the restricted Pod Security Standard allows
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
EXPOSING_SERVICE_TYPES = {"NodePort", "LoadBalancer"}
ARGO_GROUP = "argoproj.io"


def group_of(obj: dict[str, Any]) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def permitted(entries: Any, group: str, kind: str) -> bool:
    """Whether an AppProject resource list matches group/kind (Argo CD matches them as globs)."""
    return any(
        fnmatchcase(group, str(mapping(e).get("group", "")))
        and fnmatchcase(kind, str(mapping(e).get("kind", "")))
        for e in listed(entries)
    )


def project_refuses(project: dict[str, Any], group: str, kind: str) -> bool:
    """A kind the project does not sync. Namespaced: a whitelist that leaves it out (no whitelist
    allows every namespaced kind, an empty one none), or a blacklist that names it. Cluster-scoped
    (what a chart may render): one its clusterResourceWhitelist leaves out (none allows nothing)."""
    if kind in CLUSTER_SCOPED_KINDS:
        cluster_list = project.get("clusterResourceWhitelist")
        refused = not permitted(cluster_list, group, kind)
        return refused or permitted(project.get("clusterResourceBlacklist"), group, kind)
    whitelist = project.get("namespaceResourceWhitelist")
    if whitelist is not None and not permitted(whitelist, group, kind):
        return True
    return permitted(project.get("namespaceResourceBlacklist"), group, kind)


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    kind, spec = obj.get("kind"), mapping(obj.get("spec"))
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return mapping(
            mapping(mapping(mapping(spec.get("jobTemplate")).get("spec")).get("template")).get("spec")
        )
    if kind in POD_TEMPLATE_KINDS:
        return mapping(mapping(spec.get("template")).get("spec"))
    return None


def host_access_reasons(pod: dict[str, Any]) -> list[str]:
    reasons = [f"{field}: true shares the node's namespace" for field in HOST_NAMESPACES if pod.get(field)]
    for volume in map(mapping, listed(pod.get("volumes"))):
        if "hostPath" in volume:
            path = mapping(volume.get("hostPath")).get("path")
            reasons.append(f"volume {volume.get('name')} mounts the node's {path} (hostPath)")
    containers = [*listed(pod.get("initContainers")), *listed(pod.get("containers"))]
    for container in map(mapping, [*containers, *listed(pod.get("ephemeralContainers"))]):
        name = container.get("name", "?")
        security = mapping(container.get("securityContext"))
        if security.get("privileged"):
            reasons.append(f"container {name} is privileged")
        added = {
            str(c) for c in listed(mapping(security.get("capabilities")).get("add"))
        } - ALLOWED_CAPABILITIES
        if added:
            reasons.append(f"container {name} adds capabilities {sorted(added)}")
        for port in map(mapping, listed(container.get("ports"))):
            if port.get("hostPort"):
                reasons.append(f"container {name} binds host port {port.get('hostPort')}")
    return reasons


def role_reasons(obj: dict[str, Any]) -> list[str]:
    reasons = []
    for rule in map(mapping, listed(obj.get("rules"))):
        verbs = {str(v) for v in listed(rule.get("verbs"))}
        resources = {str(r) for r in listed(rule.get("resources"))}
        if escalating := sorted(verbs & ESCALATING_VERBS):
            reasons.append(f"grants {', '.join(escalating)} (a way around RBAC's escalation checks)")
        elif "*" in verbs and resources & RBAC_RESOURCES:
            reasons.append(
                f"grants every verb on {sorted(resources & RBAC_RESOURCES)}, escalate and bind included"
            )
    return reasons


def binding_reasons(obj: dict[str, Any], namespace: str | None) -> list[str]:
    """A binding grants only to the namespace's own service accounts: people and other accounts
    reach the namespace through the platform's RBAC, not through the app's manifests."""
    role = mapping(obj.get("roleRef"))
    granted = f"{role.get('kind')} {role.get('name')}"
    reasons = []
    if role.get("kind") == "ClusterRole" and role.get("name") == "cluster-admin":
        reasons.append(f"grants {granted}: full control of the namespace, RBAC and secrets included")
    for subject in map(mapping, listed(obj.get("subjects"))):
        key = (str(subject.get("kind")), str(subject.get("name")))
        if key in EVERYONE:
            reasons.append(f"grants {granted} to everyone ({key[0]} {key[1]})")
        elif not _own_service_account(subject, namespace):
            reasons.append(
                f"grants {granted} to {key[0]} {key[1]}, outside the namespace's own service accounts"
            )
    return reasons


def _own_service_account(subject: dict[str, Any], namespace: str | None) -> bool:
    return subject.get("kind") == "ServiceAccount" and subject.get("namespace", namespace) == namespace


def service_reasons(obj: dict[str, Any]) -> list[str]:
    spec = mapping(obj.get("spec"))
    reasons = []
    if spec.get("type") in EXPOSING_SERVICE_TYPES:
        reasons.append(
            f"type {spec.get('type')} opens the app outside the cluster past its Ingress or Gateway "
            "(the `exposure` answer)"
        )
    if spec.get("externalIPs"):
        reasons.append(f"externalIPs {spec.get('externalIPs')} can capture other traffic to those addresses")
    return reasons


def external_secret_reasons(obj: dict[str, Any], overlay: Overlay) -> list[str]:
    """An environment reads only its own remote key: every app shares the secret store."""
    spec, own = mapping(obj.get("spec")), f"{overlay.app}/{overlay.env}"
    keys = [mapping(mapping(d).get("remoteRef")).get("key") for d in listed(spec.get("data"))]
    keys += [mapping(mapping(d).get("extract")).get("key") for d in listed(spec.get("dataFrom"))]
    reasons = [
        f"reads remote key {key}, not this environment's {own}"
        for key in keys
        if key is not None and key != own
    ]
    if any(mapping(d).get("find") is not None for d in listed(spec.get("dataFrom"))):
        reasons.append("dataFrom.find reads every remote key it matches, other apps' and environments' too")
    for field in ("data", "dataFrom"):
        for index, entry in enumerate(listed(spec.get(field))):
            source = mapping(mapping(entry).get("sourceRef"))
            if source:
                which = "a generator" if "generatorRef" in source else "another store"
                reasons.append(
                    f"{field}[{index}].sourceRef reads from {which}, not spec.secretStoreRef: a "
                    "ClusterGenerator can mint credentials of the platform's own accounts"
                )
    return reasons


def shared_controller_reasons(obj: dict[str, Any], group: str, kind: str) -> list[str]:
    """Objects that reach other namespaces or addresses through a shared controller."""
    spec = mapping(obj.get("spec"))
    if (group == "" and kind == "Endpoints") or (group == "discovery.k8s.io" and kind == "EndpointSlice"):
        return ["hand-written endpoints can send the app's traffic to any address (the cloud metadata API)"]
    if group == "" and kind == "Service" and spec.get("type") == "ExternalName":
        return [f"type ExternalName points the Service at {spec.get('externalName')}, outside the namespace"]
    if group == "" and kind == "PersistentVolumeClaim" and spec.get("volumeName"):
        return [f"volumeName {spec.get('volumeName')} claims a volume by name, maybe another app's"]
    if group == "monitoring.coreos.com" and kind == "ServiceMonitor":
        reasons = []
        if mapping(spec.get("namespaceSelector")).get("any"):
            reasons.append("namespaceSelector.any scrapes every namespace")
        if any(mapping(e).get("bearerTokenFile") for e in listed(spec.get("endpoints"))):
            reasons.append("bearerTokenFile sends Prometheus's own token to the scraped endpoint")
        return reasons
    return []


def object_reasons(
    obj: dict[str, Any], overlay: Overlay, namespace: str | None, project: dict[str, Any] | None
) -> list[str]:
    kind, group = str(obj.get("kind", "")), group_of(obj)
    if group == ARGO_GROUP:
        return ["Argo CD objects belong under argocd/apps/, where the root app syncs them, not in an overlay"]
    reasons = []
    if project is not None and project_refuses(project, group, kind):
        reasons.append(f"kind {group or 'core'}/{kind} is not one the app's AppProject syncs")
    if (pod := pod_spec(obj)) is not None:
        reasons += host_access_reasons(pod) + hardening_reasons(kind, pod)
    if group == "rbac.authorization.k8s.io" and kind in ("Role", "ClusterRole"):
        reasons += role_reasons(obj)
    if group == "rbac.authorization.k8s.io" and kind in ("RoleBinding", "ClusterRoleBinding"):
        reasons += binding_reasons(obj, namespace)
    if group == "" and kind == "Service":
        reasons += service_reasons(obj)
    if group == "" and kind == "Namespace":
        reasons.append(
            "Argo CD creates the namespace with its labels (restricted Pod Security, the platform "
            "policies' selector); a Namespace here would replace them"
        )
    if group == "external-secrets.io" and kind == "ExternalSecret":
        reasons += external_secret_reasons(obj, overlay)
    return reasons + shared_controller_reasons(obj, group, kind)


def workload_access_problems(
    overlay: Overlay,
    objects: list[dict[str, Any]],
    namespace: str | None,
    project: dict[str, Any] | None,
    exceptions: Exceptions,
) -> list[Problem]:
    """The access rules for the objects an overlay builds; `project` is its AppProject's spec."""
    problems = []
    for obj in objects:
        kind, name = str(obj.get("kind", "?")), str(mapping(obj.get("metadata")).get("name", "?"))
        reasons = object_reasons(obj, overlay, namespace, project)
        if reasons:
            left = exceptions.remaining(kind, name, namespace, reasons)
            problems += [Problem(f"{overlay.path}: {kind}/{name}", reason) for reason in left]
    return problems


# What a rule without a host, an Ingress's defaultBackend or a route without hostnames claims:
# every request of the shared controller that no other rule matches.
EVERY_HOST = "* (every host)"
ROUTES_WITH_HOSTNAMES = {"HTTPRoute", "GRPCRoute", "TLSRoute"}


def claimed_hosts(obj: dict[str, Any]) -> list[str]:
    """The hosts an Ingress or a Gateway API route asks the shared controller to route to it."""
    spec, kind = mapping(obj.get("spec")), obj.get("kind")
    if group_of(obj) == "networking.k8s.io" and kind == "Ingress":
        hosts = [mapping(rule).get("host") or EVERY_HOST for rule in listed(spec.get("rules"))]
        hosts += [host for tls in listed(spec.get("tls")) for host in listed(mapping(tls).get("hosts"))]
        hosts += [EVERY_HOST] if spec.get("defaultBackend") else []
        return sorted({str(host) for host in hosts if host})
    if group_of(obj) == "gateway.networking.k8s.io" and kind in ROUTES_WITH_HOSTNAMES:
        return sorted({str(host) for host in listed(spec.get("hostnames"))} or {EVERY_HOST})
    return []


@dataclass(frozen=True, order=True)
class HostClaim:
    """An object of an overlay that asks a shared controller to route hosts to it."""

    overlay: Overlay
    where: str  # `<overlay>: Kind/name`
    hosts: tuple[str, ...]


def host_claims(built: dict[Overlay, list[dict[str, Any]]], exceptions: Exceptions) -> list[HostClaim]:
    """The claims of every built overlay that no exception of gitops.yaml lets through."""
    claims = []
    for overlay, objects in sorted(built.items()):
        for obj in objects:
            hosts = claimed_hosts(obj)
            metadata = mapping(obj.get("metadata"))
            kind, name = str(obj.get("kind")), str(metadata.get("name", "?"))
            if hosts and not exceptions.honours(kind, name, metadata.get("namespace")):
                claims.append(HostClaim(overlay, f"{overlay.path}: {kind}/{name}", tuple(hosts)))
    return claims


def exposure_problems(claims: list[HostClaim], exposure: dict[str, str]) -> list[Problem]:
    """An app whose `exposure` answer is `none` exposes nothing; no app takes every host."""
    problems = []
    for claim in claims:
        if exposure.get(claim.overlay.app) == "none":
            problems.append(
                Problem(
                    claim.where, f"routes {', '.join(claim.hosts)} although the app's exposure answer is none"
                )
            )
        elif EVERY_HOST in claim.hosts:
            problems.append(
                Problem(
                    claim.where,
                    "routes every host (a rule without host, a defaultBackend or a route without hostnames): "
                    "the shared controller would send it every request no other app claims; name its hosts",
                )
            )
    return problems


def shared_host_problems(claims: list[HostClaim]) -> list[Problem]:
    """Ingress controllers and gateways are shared: a host claimed by two overlays is routed to
    both (ingress-nginx merges their paths), so one app could take another's traffic. Needs the
    claims of every overlay of the repository (a sharded validate leaves it to `shards merge`)."""
    owners: dict[str, Overlay] = {}
    problems = []
    for claim in sorted(claims):
        for host in claim.hosts:
            first = owners.setdefault(host, claim.overlay)
            if first != claim.overlay:
                problems.append(
                    Problem(
                        claim.where,
                        f"host {host} is also routed to {first.path}: a shared controller merges them",
                    )
                )
    return problems
