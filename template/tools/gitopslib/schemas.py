"""Strict schema validation: unknown fields are errors, not silently dropped.

Built-in Kubernetes kinds use the strict schemas bundled with kubernetes-validate
(offline). Other kinds use JSON Schemas under tools/schemas/<group>/<Kind>.json, derived
from each project's own CRD (see tools/schemas/<group>/SOURCE.md). A
compiled validator is cached per kind: loading the bundled definitions once instead of
per object makes validation about ten times faster.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
from referencing import Registry, Resource

from .errors import BrokenFileError
from .repo import read_text

TOOLS_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
CHECKED_SUMS = "SHA256SUMS"
# A kind or group that could not be a file name (`..`, `/`) never selects a file under tools/schemas/.
SAFE_NAME = re.compile(r"[A-Za-z0-9][-A-Za-z0-9.]*")


def kubernetes_version() -> str:
    """The newest Kubernetes version whose schemas kubernetes-validate bundles."""
    return str(kubernetes_validate.utils.latest_version())


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


@cache
def _builtin_schema_dir(version: str) -> Any:
    return resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}-local-strict"


@cache
def _builtin_registry(version: str) -> Registry:
    definitions = json.loads((_builtin_schema_dir(version) / "_definitions.json").read_text())
    return Resource.from_contents(definitions) @ Registry()


@cache
def _validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    group, version = _split_api_version(api_version)
    custom = TOOLS_SCHEMAS / (group or "core") / f"{kind}.json"
    if all(SAFE_NAME.fullmatch(part) for part in (group or "core", kind)) and custom.is_file():
        return _custom_validator(custom)
    k8s_version = kubernetes_version()
    # kubernetes-validate names files <kind>-<first part of group>-<version>.json
    short_group = re.sub(r"\..*$", "", group)
    name = f"{kind.lower()}-{short_group}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    schema_file = _builtin_schema_dir(k8s_version) / name
    if not schema_file.is_file():
        return None
    schema = json.loads(schema_file.read_text())
    resource = Resource.from_contents(schema)
    registry = resource @ _builtin_registry(k8s_version)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _custom_validator(path: Path) -> jsonschema.protocols.Validator:
    """The validator of a schema under tools/schemas/; BrokenFileError when the file is broken,
    since every object of its kind would otherwise be reported, or a traceback shown."""
    relative = path.relative_to(TOOLS_SCHEMAS.parent.parent).as_posix()
    text = read_text(path, relative)
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise BrokenFileError(relative, f"not valid JSON: {error}") from None
    if not isinstance(schema, dict):
        raise BrokenFileError(relative, "not a JSON Schema: must be a JSON object")
    validator = jsonschema.validators.validator_for(schema)(schema)
    _CUSTOM_SCHEMA_FILES[id(validator)] = relative
    # The meta-schema check costs more than validating a repository's objects: the schemas the
    # template derived were checked when derived (their sums are in SHA256SUMS), any other is now.
    unchecked = hashlib.sha256(text.encode()).hexdigest() not in _checked_sums()
    if unchecked and (reason := _meta_schema_problem(validator)):
        raise BrokenFileError(relative, reason)
    return validator


def _meta_schema_problem(validator: jsonschema.protocols.Validator) -> str | None:
    try:
        type(validator).check_schema(validator.schema)
    except jsonschema.SchemaError as error:
        return f"not a valid JSON Schema: {error.message}"
    return None


@cache
def _checked_sums() -> frozenset[str]:
    """The sha256 of each schema the template derived (scripts/derive_crd_schemas.py)."""
    sums = TOOLS_SCHEMAS / CHECKED_SUMS
    if not sums.is_file():
        return frozenset()
    return frozenset(line.split()[0] for line in sums.read_text().splitlines() if line.strip())


# The file of each tools/schemas/ validator made (validators are cached, so their ids stay).
_CUSTOM_SCHEMA_FILES: dict[int, str] = {}


def _broken_schema(validator: jsonschema.protocols.Validator, error: Exception) -> Exception:
    """The error to raise when validating with `validator` failed: a BrokenFileError naming a
    tools/schemas/ file that is not a valid JSON Schema, else the error itself (a bug)."""
    relative = _CUSTOM_SCHEMA_FILES.get(id(validator))
    if relative is None:
        return error
    reason = _meta_schema_problem(validator) or f"cannot validate with this schema: {error}"
    return BrokenFileError(relative, reason)


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(top level)"


def schema_problems(obj: Any) -> list[str]:
    """Reasons why `obj` does not match its kind's schema (empty when it does)."""
    if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind"):
        return ["not a Kubernetes object (apiVersion and kind are required)"]
    api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
    validator = _validator(api_version, kind)
    if validator is None:
        group = _split_api_version(api_version)[0] or "core"
        return [f"no schema for {api_version} {kind}: add one as tools/schemas/{group}/{kind}.json"]
    try:
        errors = sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    except Exception as error:
        raise _broken_schema(validator, error) from None
    return [f"{_where(error)}: {error.message}" for error in errors]
