"""ConfigMaps and Secrets: keys and string values."""

from __future__ import annotations

from ..fields import Obj, map_field, str_field
from ..names import config_key_problem
from ..scalars import type_problem


def _string_map_problems(obj: Obj, key: str) -> list[str]:
    """data/binaryData/stringData: valid keys and string values (`enabled: true` does not decode)."""
    out: list[str] = []
    for name, value in map_field(obj, key, "", out).items():
        if not isinstance(name, str):
            out.append(type_problem(f"{key} key", name, "a string"))
            continue
        if problem := config_key_problem(name):
            out.append(f"{key}: {problem}")
        if not isinstance(value, str):
            out.append(type_problem(f"{key}[{name}]", value, "a string"))
    return out


def config_map_problems(obj: Obj) -> list[str]:
    out = _string_map_problems(obj, "data") + _string_map_problems(obj, "binaryData")
    data, binary = obj.get("data"), obj.get("binaryData")
    if isinstance(data, dict) and isinstance(binary, dict):
        out.extend(
            f"binaryData[{key}]: duplicate of a key in data" for key in sorted(data.keys() & binary.keys())
        )
    return out


def secret_problems(obj: Obj) -> list[str]:
    out = _string_map_problems(obj, "data") + _string_map_problems(obj, "stringData")
    str_field(obj, "type", "", out)
    return out
