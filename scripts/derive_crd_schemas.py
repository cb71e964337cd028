"""Derive strict JSON Schemas from vendored CRDs, the openapi2jsonschema way.

The served storage version of each CustomResourceDefinition `crds/<group>/*.yaml` becomes
`template/tools/schemas/<group>/<Kind>.json` for `tools/gitops validate`. The API server prunes
unknown fields silently; these schemas reject them, so a misspelt key fails CI offline. Types,
patterns, enums, limits and required fields are kept as the CRD says, CEL rules are not (DROPPED).
A keyword this script does not know makes it fail instead of guessing.

    python scripts/derive_crd_schemas.py          # regenerate (and remove schemas no CRD gives)
    python scripts/derive_crd_schemas.py --check  # exit 1 if the committed schemas differ
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CRDS_DIR = REPO_ROOT / "crds"
SCHEMAS_DIR = REPO_ROOT / "template" / "tools" / "schemas"
CHECKED_SUMS = "SHA256SUMS"  # read by tools/gitopslib/schemas.py
DIALECT = "https://json-schema.org/draft/2020-12/schema"
CRD_TYPE = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
RUNTIME_FIELDS = ("operation", "status")  # written by controllers, never by a GitOps repository
# Same meaning in OpenAPI v3 structural schemas and JSON Schema 2020-12: copied as they are.
KEPT = {"type", "format", "pattern", "enum", "required", "minLength", "maxLength", "minItems"}
KEPT |= {"maxItems", "minimum", "maximum", "uniqueItems", "minProperties", "maxProperties"}
# The API server fills in a `default`, so a manifest may leave the field out; map types only steer
# server-side apply. CEL rules (`x-kubernetes-validations`) and the unique keys of `map` lists
# (`x-kubernetes-list-map-keys`) need the API server: the tests of issue 14 install these CRDs into
# a real kube-apiserver and check them there.
DROPPED = {"description", "default", "x-kubernetes-map-type", "x-kubernetes-validations"}
DROPPED |= {"x-kubernetes-list-map-keys"}
HANDLED = {"properties", "items", "additionalProperties", "anyOf", "allOf", "oneOf", "not", "nullable"}
HANDLED |= {"x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-list-type"}
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml reads Kyverno's 1.4 MB in 0.1 s
INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
STALE = "differs from what crds/ gives; run python scripts/derive_crd_schemas.py"

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
    if node.get("x-kubernetes-list-type") == "set":  # the API server rejects a repeated item
        out["uniqueItems"] = True
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


def relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def document_schema(crd_path: Path) -> tuple[Path, Schema]:
    """The output path and schema of one CRD file."""
    crd = yaml.load(crd_path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    spec, source = crd["spec"], relative(crd_path)
    if (crd.get("apiVersion"), crd.get("kind")) != CRD_TYPE or spec["group"] != crd_path.parent.name:
        raise ValueError(f"{source}: not a CRD of group {crd_path.parent.name}")
    versions = [v for v in spec["versions"] if v.get("storage") and v.get("served")]
    if len(versions) != 1:
        raise ValueError(f"{source}: expected one served storage version")
    kind, api_version = spec["names"]["kind"], f"{spec['group']}/{versions[0]['name']}"
    root = versions[0]["schema"]["openAPIV3Schema"]
    properties = {key: value for key, value in root["properties"].items() if key not in RUNTIME_FIELDS}
    body = convert({**root, "properties": properties}, kind)
    body["properties"] |= {"apiVersion": {"const": api_version}, "kind": {"const": kind}}
    body["properties"]["metadata"] = OBJECT_META
    body["required"] = sorted({*body.get("required", ()), "apiVersion", "kind", "metadata"})
    comment = f"Generated by scripts/derive_crd_schemas.py from {source}; do not edit."
    schema = {"$schema": DIALECT, "$comment": comment, "title": f"{api_version} {kind}", **body}
    return SCHEMAS_DIR / spec["group"] / f"{kind}.json", schema


def checked_sums(schemas: dict[Path, str | None]) -> str:
    """sha256sum lines of the derived schemas: checked here, so validate skips checking them."""
    lines = [
        f"{hashlib.sha256(text.encode()).hexdigest()}  {path.relative_to(SCHEMAS_DIR).as_posix()}\n"
        for path, text in sorted(schemas.items())
        if text is not None
    ]
    return "".join(lines)


def render_json(schema: Schema) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if committed schemas differ")
    args = parser.parse_args(argv)
    # Derive everything before writing anything, so a failure leaves no partial update. Every
    # schema is derived, so one that no vendored CRD gives (None) is stale too.
    wanted: dict[Path, str | None] = {path: None for path in SCHEMAS_DIR.glob("*/*.json")}
    wanted |= {path: render_json(schema) for path, schema in map(document_schema, CRDS_DIR.glob("*/*.yaml"))}
    wanted[SCHEMAS_DIR / CHECKED_SUMS] = checked_sums(wanted)
    is_now = {path: path.read_text(encoding="utf-8") if path.is_file() else None for path in wanted}
    stale = {path: text for path, text in sorted(wanted.items()) if text != is_now[path]}
    for path, text in stale.items():
        if args.check:
            print(f"{relative(path)}: {STALE}")
        elif text is None:
            path.unlink()
            print(f"removed {relative(path)}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {relative(path)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
