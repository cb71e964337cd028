"""Derive strict JSON Schemas from vendored CRDs, the openapi2jsonschema way.

Each `crds/<API group>/*.yaml` is a CustomResourceDefinition as its project publishes it. The
`openAPIV3Schema` of its served storage version becomes `template/tools/schemas/<group>/<Kind>.json`,
which `tools/gitops validate` in the generated repository loads. Unlike the API server, which
prunes unknown fields silently, these schemas reject them (`additionalProperties: false` on every
object unless the CRD keeps unknown fields or types extra keys), so a misspelt key fails CI
offline. Patterns, enums, formats, integer types and required fields are kept as the CRD says.
Top-level fields written by controllers (`status`, `operation`) are dropped, i.e. rejected;
`metadata` gets a strict ObjectMeta; `apiVersion` and `kind` are pinned. A keyword this script
does not know makes it fail instead of guessing.

    python scripts/derive_crd_schemas.py          # regenerate
    python scripts/derive_crd_schemas.py --check  # exit 1 if the committed schemas differ
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CRDS_DIR = REPO_ROOT / "crds"
SCHEMAS_DIR = REPO_ROOT / "template" / "tools" / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
RUNTIME_FIELDS = ("operation", "status")  # written by controllers, never by a GitOps repository
# Same meaning in OpenAPI v3 structural schemas and JSON Schema 2020-12: copied as they are.
KEPT = {"type", "format", "pattern", "enum", "required", "minLength", "maxLength", "minItems"}
KEPT |= {"maxItems", "minimum", "maximum", "uniqueItems", "minProperties", "maxProperties"}
DROPPED = {"description", "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type"}
HANDLED = {"properties", "items", "additionalProperties", "anyOf", "allOf", "oneOf", "not", "nullable"}
HANDLED |= {"x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields"}
INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]

Schema = dict[str, Any]


def strict(properties: dict[str, Schema], *required: str) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    return {**schema, "required": sorted(required)} if required else schema


STRING: Schema = {"type": "string"}
STRINGS: Schema = {"type": "array", "items": STRING}
STRING_MAP: Schema = {"type": "object", "additionalProperties": STRING}
OWNER_REFERENCE = strict(
    {"apiVersion": STRING, "blockOwnerDeletion": {"type": "boolean"}, "controller": {"type": "boolean"}}
    | {"kind": STRING, "name": STRING, "uid": STRING},
    *("apiVersion", "kind", "name", "uid"),
)
MANAGED_FIELDS_ENTRY = strict(
    {"apiVersion": STRING, "fieldsType": STRING, "fieldsV1": {"type": "object"}, "manager": STRING}
    | {"operation": STRING, "subresource": STRING, "time": STRING}
)
# The CRD says only `type: object` (the API server checks metadata itself); this mirrors ObjectMeta.
OBJECT_META = strict(
    {"annotations": STRING_MAP, "creationTimestamp": {"type": ["null", "string"]}}
    | {"deletionGracePeriodSeconds": {"type": "integer"}, "deletionTimestamp": STRING}
    | {"finalizers": STRINGS, "generateName": STRING, "generation": {"type": "integer"}}
    | {"labels": STRING_MAP, "managedFields": {"type": "array", "items": MANAGED_FIELDS_ENTRY}}
    | {"name": STRING, "namespace": STRING, "ownerReferences": {"type": "array", "items": OWNER_REFERENCE}}
    | {"resourceVersion": STRING, "selfLink": STRING, "uid": STRING}
)


def convert(node: Schema, where: str, closed: bool = True) -> Schema:
    """One OpenAPI v3 structural schema node as JSON Schema; `closed` objects reject unknown keys."""
    unknown = sorted(set(node) - KEPT - DROPPED - HANDLED)
    if unknown:
        raise ValueError(f"{where}: unknown keywords {unknown}")
    out: Schema = {key: value for key, value in node.items() if key in KEPT}
    if "properties" in node:
        out["properties"] = {key: convert(sub, f"{where}.{key}") for key, sub in node["properties"].items()}
    if "items" in node:
        out["items"] = convert(node["items"], f"{where}[]")
    extra = node.get("additionalProperties")
    if extra is not None:
        out["additionalProperties"] = extra if isinstance(extra, bool) else convert(extra, f"{where}.*")
    for junctor in ("anyOf", "allOf", "oneOf"):  # structural schemas: only value checks in branches
        if junctor in node:
            out[junctor] = [convert(sub, where, closed=False) for sub in node[junctor]]
    if "not" in node:
        out["not"] = convert(node["not"], where, closed=False)
    if node.get("x-kubernetes-int-or-string"):
        if out.pop("anyOf", INT_OR_STRING) != INT_OR_STRING or "type" in out:
            raise ValueError(f"{where}: int-or-string with other types")
        out["oneOf"] = INT_OR_STRING
    keeps_unknown = node.get("x-kubernetes-preserve-unknown-fields") or extra is not None
    if closed and out.get("type") == "object" and not keeps_unknown:
        out["additionalProperties"] = False
    if node.get("nullable"):  # OpenAPI's `nullable` is JSON Schema's "null" type
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "oneOf" in out:
            out["oneOf"] = [*out["oneOf"], {"type": "null"}]
    return out


def document_schema(crd_path: Path) -> tuple[Path, Schema]:
    """The output path and schema of one CRD file."""
    crd = yaml.safe_load(crd_path.read_text(encoding="utf-8"))
    spec, relative = crd["spec"], crd_path.relative_to(REPO_ROOT).as_posix()
    if crd.get("kind") != "CustomResourceDefinition" or spec["group"] != crd_path.parent.name:
        raise ValueError(f"{relative}: not a CRD of group {crd_path.parent.name}")
    versions = [v for v in spec["versions"] if v.get("storage") and v.get("served")]
    if len(versions) != 1:
        raise ValueError(f"{relative}: expected one served storage version")
    kind, api_version = spec["names"]["kind"], f"{spec['group']}/{versions[0]['name']}"
    root = versions[0]["schema"]["openAPIV3Schema"]
    properties = {key: value for key, value in root["properties"].items() if key not in RUNTIME_FIELDS}
    body = convert({**root, "properties": properties}, kind)
    body["properties"] |= {"apiVersion": {"const": api_version}, "kind": {"const": kind}}
    body["properties"]["metadata"] = OBJECT_META
    body["required"] = sorted({*body.get("required", ()), "apiVersion", "kind", "metadata"})
    comment = f"Generated by scripts/derive_crd_schemas.py from {relative}; do not edit."
    schema = {"$schema": DIALECT, "$comment": comment, "title": f"{api_version} {kind}", **body}
    return SCHEMAS_DIR / spec["group"] / f"{kind}.json", schema


def render_json(schema: Schema) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if committed schemas differ")
    args = parser.parse_args(argv)
    # Derive everything before writing anything, so a failure leaves no partial update.
    outputs = dict(document_schema(path) for path in sorted(CRDS_DIR.glob("*/*.yaml")))
    stale = []
    for path, schema in outputs.items():
        text, relative = render_json(schema), path.relative_to(REPO_ROOT).as_posix()
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {relative}")
    for relative in stale:
        print(f"{relative}: differs from what its CRD gives; run python scripts/derive_crd_schemas.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
