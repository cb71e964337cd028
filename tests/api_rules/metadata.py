"""Metadata: namespaces, labels, annotations, and the rule each kind's metadata.name follows."""

from __future__ import annotations

from .fields import Obj
from .names import (
    NameRule,
    dns1035_label_problem,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    label_value_problem,
    name_problems,
    path_segment_problem,
    qualified_name_problem,
)
from .scalars import glen, show, type_problem

_TOTAL_ANNOTATION_BYTES = 256 * 1024


def labels_problems(value: object, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [type_problem(path, value, "a mapping of labels")]
    out: list[str] = []
    for key, label in value.items():
        if not isinstance(key, str):
            out.append(type_problem(f"{path} key", key, "a string"))
            continue
        if problem := qualified_name_problem(key):
            out.append(f"{path}: key {problem}")
        if not isinstance(label, str):
            out.append(type_problem(f"{path}[{key}]", label, "a string"))
        elif problem := label_value_problem(label):
            out.append(f"{path}[{key}]: {problem}")
    return out


def annotations_problems(value: object, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [type_problem(path, value, "a mapping of annotations")]
    out: list[str] = []
    size = 0
    for key, text in value.items():
        if not isinstance(key, str):
            out.append(type_problem(f"{path} key", key, "a string"))
            continue
        # ValidateAnnotations lower-cases the key first: annotation keys may contain capitals anywhere.
        if problem := qualified_name_problem(key.lower()):
            out.append(f"{path}: key {problem}")
        if not isinstance(text, str):
            out.append(type_problem(f"{path}[{key}]", text, "a string"))
        else:
            size += glen(key) + glen(text)
    if size > _TOTAL_ANNOTATION_BYTES:
        out.append(f"{path}: {size} bytes in total, more than the 262144 allowed")
    return out


def metadata_problems(metadata: Obj, path: str) -> list[str]:
    out: list[str] = []
    out.extend(
        name_problems(metadata.get("namespace"), f"{path}.namespace", dns1123_label_problem, required=False)
    )
    out.extend(labels_problems(metadata.get("labels"), f"{path}.labels"))
    out.extend(annotations_problems(metadata.get("annotations"), f"{path}.annotations"))
    return out


_RBAC = "rbac.authorization.k8s.io"
# metadata.name rules by (API group, kind); everything else (CRDs included) is a DNS-1123 subdomain.
_NAME_RULES: dict[tuple[str, str], NameRule] = {
    ("", "Namespace"): dns1123_label_problem,
    # DNS-1035 until RelaxedServiceNameValidation (GA in 1.37, off before 1.36): '1app' fails on those.
    ("", "Service"): dns1035_label_problem,
    # ValidateStatefulSetName: NameIsDNSLabel, since each pod's hostname is `<name>-<ordinal>`.
    ("apps", "StatefulSet"): dns1123_label_problem,
    (_RBAC, "Role"): path_segment_problem,
    (_RBAC, "ClusterRole"): path_segment_problem,
    (_RBAC, "RoleBinding"): path_segment_problem,
    (_RBAC, "ClusterRoleBinding"): path_segment_problem,
    # ValidatePodDisruptionBudget checks no name: only the generic path-segment rule applies (the API
    # server accepted 'My_App', 'a b' and 254 characters).
    ("policy", "PodDisruptionBudget"): path_segment_problem,
}


# Extra length caps on names that are copied somewhere shorter.
_NAME_LENGTH_CAPS: dict[tuple[str, str], tuple[int, str]] = {
    ("batch", "Job"): (63, "it becomes the pod template label batch.kubernetes.io/job-name"),
    ("batch", "CronJob"): (52, "the controller appends an 11-character suffix to name each Job"),
    # Newer Argo CD truncates the value (argo-cd#18237); older releases with label tracking refuse it.
    ("argoproj.io", "Application"): (63, "Argo CD's tracking label app.kubernetes.io/instance carries it"),
}


# Kinds whose name goes into their pods' names and hostnames: the API server takes any DNS-1123
# subdomain but warns unless it is a DNS label ("a DNS label is recommended"), as the server showed
# for Deployment, Job and CronJob names with dots; Pods, ReplicaSets and ReplicationControllers warn
# the same way (their strategies' WarningsOnCreate), DaemonSets do not. A warning fails a dry run here.
_DNS_LABEL_RECOMMENDED = {("", "Pod"), ("", "ReplicationController"), ("apps", "Deployment"),
                          ("apps", "ReplicaSet"), ("batch", "Job"), ("batch", "CronJob")}  # fmt: skip


def object_name_problems(group_kind: tuple[str, str], name: object) -> list[str]:
    out = name_problems(name, "metadata.name", _NAME_RULES.get(group_kind, dns1123_subdomain_problem))
    cap = _NAME_LENGTH_CAPS.get(group_kind)
    if cap and isinstance(name, str) and glen(name) > cap[0]:
        out.append(f"metadata.name: {show(name)} is longer than {cap[0]} characters ({cap[1]})")
    recommended = not out and group_kind in _DNS_LABEL_RECOMMENDED and isinstance(name, str)
    if recommended and (problem := dns1123_label_problem(str(name))):
        out.append(f"metadata.name: {show(name)}: a DNS label is recommended (the server warns): {problem}")
    return out
