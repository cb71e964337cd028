"""Argo CD: Application and AppProject, whose sync windows SyncWindow.Validate checks."""

from __future__ import annotations

from ..cron import cron_problem
from ..durations import duration_problem
from ..fields import Obj, list_field, map_field, maps_in, str_field
from ..names import dns1123_label_problem, name_problems
from ..scalars import show, type_problem


def application_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    if str_field(spec, "project", "spec", out) is None and "project" not in spec:
        out.append("spec.project: is required")
    destination = map_field(spec, "destination", "spec", out)
    for key in ("server", "name"):
        str_field(destination, key, "spec.destination", out)
    namespace = destination.get("namespace")
    out.extend(name_problems(namespace, "spec.destination.namespace", dns1123_label_problem, required=False))
    return out


def _sync_window_problems(window: Obj, path: str) -> list[str]:
    """SyncWindow.Validate: kind, schedule, duration, description <= 255."""
    out: list[str] = []
    if window.get("kind") not in ("allow", "deny"):
        out.append(f"{path}.kind: {show(window.get('kind'))} is not allow or deny")
    if problem := cron_problem(window.get("schedule")):
        out.append(f"{path}.schedule: {problem}")
    if problem := duration_problem(window.get("duration")):
        out.append(f"{path}.duration: {problem}")
    description = str_field(window, "description", path, out)
    if description and len(description) > 255:
        out.append(f"{path}.description: longer than 255 characters")
    str_field(window, "timeZone", path, out)
    for key in ("applications", "namespaces", "clusters"):
        for index, item in enumerate(list_field(window, key, path, out)):
            if not isinstance(item, str):
                out.append(type_problem(f"{path}.{key}[{index}]", item, "a string"))
    return out


def app_project_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    for dest_path, dest in maps_in(list_field(spec, "destinations", "spec", out), "spec.destinations", out):
        for key in ("namespace", "server", "name"):
            str_field(dest, key, dest_path, out)  # globs such as '*' are allowed, but only as strings
    for window_path, window in maps_in(list_field(spec, "syncWindows", "spec", out), "spec.syncWindows", out):
        out.extend(_sync_window_problems(window, window_path))
    return out
