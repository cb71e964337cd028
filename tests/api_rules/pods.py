"""Pod templates: volumes, containers, restart policy and the template's metadata."""

from __future__ import annotations

from .containers import container_problems
from .fields import Obj, list_field, map_field, maps_in, one_of
from .metadata import annotations_problems, labels_problems
from .names import dns1123_label_problem, dns1123_subdomain_problem, name_problems
from .scalars import show


def _volume_names(spec: Obj, path: str, out: list[str]) -> set[str]:
    names: set[str] = set()
    for volume_path, volume in maps_in(list_field(spec, "volumes", path, out), f"{path}.volumes", out):
        name = volume.get("name")
        problems = name_problems(name, f"{volume_path}.name", dns1123_label_problem)
        if isinstance(name, str) and name in names:
            problems.append(f"{volume_path}.name: duplicate volume name {name!r}")
        out.extend(problems)
        if not problems and isinstance(name, str):
            names.add(name)
    return names


def _containers_problems(spec: Obj, path: str, volumes: set[str]) -> list[str]:
    out: list[str] = []
    containers = list_field(spec, "containers", path, out)
    if spec.get("containers") in ([], None):
        out.append(f"{path}.containers: at least one container is required")
    seen: set[str] = set()
    for key in ("containers", "initContainers"):
        items = containers if key == "containers" else list_field(spec, key, path, out)
        for container_path, container in maps_in(items, f"{path}.{key}", out):
            out.extend(container_problems(container, container_path, volumes))
            name = container.get("name")
            if isinstance(name, str) and name in seen:
                out.append(f"{container_path}.name: duplicate container name {name!r} in this pod")
            if isinstance(name, str):
                seen.add(name)
    return out


def pod_spec_problems(spec: Obj, path: str, restart_policies: frozenset[str]) -> list[str]:
    out: list[str] = []
    volumes = _volume_names(spec, path, out)
    out.extend(_containers_problems(spec, path, volumes))
    account = spec.get("serviceAccountName")
    out.extend(
        name_problems(account, f"{path}.serviceAccountName", dns1123_subdomain_problem, required=False)
    )
    out.extend(labels_problems(spec.get("nodeSelector"), f"{path}.nodeSelector"))
    policy = spec.get("restartPolicy", "Always")  # SetDefaults_PodSpec fills in Always
    if not one_of(policy, restart_policies):
        allowed = " or ".join(sorted(restart_policies))
        shown = "unset (so Always)" if "restartPolicy" not in spec else show(policy)
        out.append(f"{path}.restartPolicy: {shown} is not allowed here; use {allowed}")
    return out


ALL_RESTART_POLICIES = frozenset({"Always", "OnFailure", "Never"})
CONTROLLER_RESTART = frozenset({"Always"})
JOB_RESTART = frozenset({"OnFailure", "Never"})


def pod_template_problems(template: Obj, path: str, restart_policies: frozenset[str]) -> list[str]:
    out: list[str] = []
    metadata = map_field(template, "metadata", path, out)
    out.extend(labels_problems(metadata.get("labels"), f"{path}.metadata.labels"))
    out.extend(annotations_problems(metadata.get("annotations"), f"{path}.metadata.annotations"))
    out.extend(pod_spec_problems(map_field(template, "spec", path, out), f"{path}.spec", restart_policies))
    return out
