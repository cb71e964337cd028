"""Derive strict JSON Schemas for the custom resources a GitOps repository contains.

Why: the CRD schemas of Argo CD, the Gateway API, the Prometheus Operator, External Secrets,
Sealed Secrets and Kyverno do not reject unknown fields in a way a GitOps repository can rely on
before anything reaches a cluster, so a misspelt key such as `spec.source.pathh`,
`spec.rules[0].backendRefs[0].portt`, `spec.endpoints[0].pathh` or `spec.data[0].remoteRef.keyy`
is easily dropped without anyone noticing. These schemas reject every unknown field, so CI can
catch such typos offline. `tools/gitops validate` in the generated repository looks them up as
`tools/schemas/<API group>/<kind>.json`.

Rather than hand-maintaining the schemas, they are derived from the TypeScript types of pinned
kubernetes-models npm packages (MIT), which are generated from each project's Go API (see
`TARGETS`). Each package has one `.d.ts` file per type; starting from the file of each kind, the
parser in `ts_declarations.py` follows the `import` statements, every reached `interface`
becomes a `$defs` entry and type aliases are inlined. Types imported from other packages
(Kubernetes apimachinery, core, admissionregistration and rbac types) are mapped by a fixed
table, and empty interfaces that stand for free-form values must be listed per target; anything
the parser or the tables do not know makes the script fail instead of guessing. Tarballs are
fetched with `npm pack`, so npm's own registry configuration is used. Top-level fields written
by controllers (`status`, and Argo CD's `operation`) are dropped on purpose: they must never
appear in a GitOps repository.

Regenerate every group with: python scripts/derive_argocd_schemas.py
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tarfile
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ts_declarations import (
    ArrayOf,
    Interface,
    Literal,
    ObjectLiteral,
    Primitive,
    Property,
    Reference,
    Resolver,
    Scoped,
    Symbol,
    TsType,
    TypeAlias,
    Union,
)

TYPE_META_FIELDS = ("apiVersion", "kind")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO_ROOT / "template" / "tools" / "schemas"
SCRIPT_PATH = "scripts/derive_argocd_schemas.py"

Schema = dict[str, Any]


# --------------------------------------------------------------------------- what to derive


@dataclass(frozen=True)
class Target:
    """The kinds of one API group version, derived from one pinned npm package."""

    title: str
    package: str
    version: str
    origin: str
    group_version: str
    kinds: tuple[tuple[str, str], ...]  # (kind, root interface)
    dropped: tuple[str, ...]  # top-level fields written by controllers
    # For the SOURCE.md note on TypeScript `number`; None if no reached field is a `number`.
    number_example: str | None
    license: str = "MIT"
    # Empty interfaces of the package that stand for any JSON value: (file, interface, note).
    free_form: tuple[tuple[str, str, str], ...] = ()

    @property
    def group(self) -> str:
        return self.group_version.split("/")[0]

    @property
    def output_dir(self) -> Path:
        return SCHEMAS_DIR / self.group

    @property
    def free_form_symbols(self) -> frozenset[Symbol]:
        return frozenset(Symbol(path, name) for path, name, _ in self.free_form)


TARGETS = (
    Target(
        title="Argo CD",
        package="@kubernetes-models/argo-cd",
        version="4.0.0",
        origin="types generated from Argo CD v3's Go API",
        group_version="argoproj.io/v1alpha1",
        kinds=(("Application", "IApplication"), ("AppProject", "IAppProject")),
        dropped=("operation", "status"),
        number_example=(
            "(e.g. `syncPolicy.retry.limit` and `retry.backoff.factor`, both `int64` in Go, are `number`)"
        ),
    ),
    Target(
        title="Gateway API",
        package="@kubernetes-models/gateway-api",
        version="2.0.0",
        origin="types generated from the Go API of `sigs.k8s.io/gateway-api`",
        group_version="gateway.networking.k8s.io/v1",
        kinds=(("HTTPRoute", "IHTTPRoute"),),
        dropped=("status",),
        number_example="(e.g. `backendRefs[].port` and `backendRefs[].weight`, `int32` in Go, are `number`)",
    ),
    Target(
        title="Prometheus Operator",
        package="@kubernetes-models/prometheus-operator",
        version="6.0.0",
        origin="types generated from the Go API of `github.com/prometheus-operator/prometheus-operator`",
        group_version="monitoring.coreos.com/v1",
        kinds=(("ServiceMonitor", "IServiceMonitor"),),
        dropped=("status",),
        number_example="(e.g. `spec.sampleLimit`, `uint64` in Go, is `number`)",
    ),
    Target(
        title="External Secrets Operator",
        package="@kubernetes-models/external-secrets",
        version="2.0.0",
        origin="types generated from the Go API of `github.com/external-secrets/external-secrets`",
        group_version="external-secrets.io/v1",
        kinds=(("ExternalSecret", "IExternalSecret"),),
        dropped=("status",),
        number_example=None,
    ),
    Target(
        title="Sealed Secrets",
        package="@kubernetes-models/sealed-secrets",
        version="6.0.0",
        origin="types generated from the Go API of `github.com/bitnami-labs/sealed-secrets`",
        group_version="bitnami.com/v1alpha1",
        kinds=(("SealedSecret", "ISealedSecret"),),
        dropped=("status",),
        number_example=None,
    ),
    Target(
        title="Kyverno",
        package="@kubernetes-models/kyverno",
        version="2.0.0",
        origin="types generated from the Go API of `github.com/kyverno/kyverno`",
        group_version="kyverno.io/v1",
        kinds=(("ClusterPolicy", "IClusterPolicy"),),
        dropped=("status",),
        number_example="(e.g. `webhookConfiguration.timeoutSeconds` and `attestors[].count` are `number`)",
        free_form=(
            (
                "json.kyverno.io/v1alpha1/Any.d.ts",
                "IAny",
                "any JSON value, as in the CRD (`x-kubernetes-preserve-unknown-fields`), e.g."
                " `validate.assert`",
            ),
        ),
    ),
)


# --------------------------------------------------------------------------- JSON Schema emitter

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}
FREE_OBJECT: Schema = {"type": "object"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": STRING}
PRIMITIVE_SCHEMAS: dict[str, Schema] = {
    "any": {},
    "boolean": BOOLEAN,
    "null": {"type": "null"},
    "number": {"type": "number"},
    "object": FREE_OBJECT,
    "string": STRING,
    "unknown": {},
}


def strict_object(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = sorted(required)
    return schema


def object_meta_schema() -> Schema:
    """Hand-written strict schema for Kubernetes `ObjectMeta`."""
    owner_reference = strict_object(
        {
            "apiVersion": STRING,
            "blockOwnerDeletion": BOOLEAN,
            "controller": BOOLEAN,
            "kind": STRING,
            "name": STRING,
            "uid": STRING,
        },
        required=("apiVersion", "kind", "name", "uid"),
    )
    managed_fields_entry = strict_object(
        {
            "apiVersion": STRING,
            "fieldsType": STRING,
            "fieldsV1": FREE_OBJECT,
            "manager": STRING,
            "operation": STRING,
            "subresource": STRING,
            "time": STRING,
        }
    )
    return strict_object(
        {
            "annotations": STRING_MAP,
            # `kubectl create --dry-run -o yaml` emits `creationTimestamp: null`.
            "creationTimestamp": {"type": ["null", "string"]},
            "deletionGracePeriodSeconds": INTEGER,
            "deletionTimestamp": STRING,
            "finalizers": {"type": "array", "items": STRING},
            "generateName": STRING,
            "generation": INTEGER,
            "labels": STRING_MAP,
            "managedFields": {"type": "array", "items": managed_fields_entry},
            "name": STRING,
            "namespace": STRING,
            "ownerReferences": {"type": "array", "items": owner_reference},
            "resourceVersion": STRING,
            "selfLink": STRING,
            "uid": STRING,
        }
    )


def label_selector_schema() -> Schema:
    """Hand-written strict schema for Kubernetes `LabelSelector`."""
    requirement = strict_object(
        {"key": STRING, "operator": STRING, "values": {"type": "array", "items": STRING}},
        required=("key", "operator"),
    )
    return strict_object(
        {"matchExpressions": {"type": "array", "items": requirement}, "matchLabels": STRING_MAP}
    )


def key_selector_schema() -> Schema:
    """Hand-written strict schema for Kubernetes `SecretKeySelector` / `ConfigMapKeySelector`."""
    return strict_object({"key": STRING, "name": STRING, "optional": BOOLEAN}, required=("key",))


def expression_schema() -> Schema:
    """Hand-written strict schema for `MatchCondition` / `Variable` of admissionregistration/v1."""
    return strict_object({"expression": STRING, "name": STRING}, required=("expression", "name"))


class ExternalType(NamedTuple):
    """Schema for a type from another npm package; with a `def_name` it goes into `$defs`.

    `requires` lists the other external types whose `$defs` entries the schema refers to.
    """

    def_name: str | None
    schema: Schema
    note: str
    requires: tuple[Symbol, ...] = ()


APIMACHINERY = "@kubernetes-models/apimachinery"
CORE_V1 = "kubernetes-models/v1"
ADMISSION_V1 = "kubernetes-models/admissionregistration.k8s.io/v1"
LABEL_SELECTOR = Symbol(
    f"{APIMACHINERY}/apis/meta/v1/LabelSelector", "IIoK8sApimachineryPkgApisMetaV1LabelSelector"
)
EXTERNAL_TYPES: dict[Symbol, ExternalType] = {
    Symbol(
        f"{APIMACHINERY}/apis/meta/v1/ObjectMeta", "IIoK8sApimachineryPkgApisMetaV1ObjectMeta"
    ): ExternalType("ObjectMeta", object_meta_schema(), "hand-written strict schema"),
    LABEL_SELECTOR: ExternalType("LabelSelector", label_selector_schema(), "hand-written strict schema"),
    Symbol(f"{APIMACHINERY}/apis/meta/v1/Time", "IIoK8sApimachineryPkgApisMetaV1Time"): (
        ExternalType(None, {"type": "string", "format": "date-time"}, "RFC 3339 string")
    ),
    Symbol(
        f"{APIMACHINERY}/util/intstr/IntOrString", "IIoK8sApimachineryPkgUtilIntstrIntOrString"
    ): ExternalType(None, {"type": ["integer", "string"]}, "integer or string"),
    Symbol(f"{APIMACHINERY}/runtime/RawExtension", "IIoK8sApimachineryPkgRuntimeRawExtension"): ExternalType(
        None, FREE_OBJECT, "free-form object (e.g. Helm `valuesObject`)"
    ),
    Symbol(f"{APIMACHINERY}/api/resource/Quantity", "IIoK8sApimachineryPkgApiResourceQuantity"): ExternalType(
        None,
        {"type": ["integer", "string"]},
        "integer or string, as in the CRDs (`x-kubernetes-int-or-string`)",
    ),
    Symbol(f"{CORE_V1}/SecretKeySelector", "IIoK8sApiCoreV1SecretKeySelector"): ExternalType(
        "SecretKeySelector", key_selector_schema(), "hand-written strict schema"
    ),
    Symbol(f"{CORE_V1}/ConfigMapKeySelector", "IIoK8sApiCoreV1ConfigMapKeySelector"): ExternalType(
        "ConfigMapKeySelector", key_selector_schema(), "hand-written strict schema"
    ),
    Symbol(
        "kubernetes-models/apiextensions.k8s.io/v1/JSON",
        "IIoK8sApiextensionsApiserverPkgApisApiextensionsV1JSON",
    ): ExternalType(None, {}, "any JSON value"),
    # The admissionregistration.k8s.io/v1 and rbac.authorization.k8s.io/v1 types below follow
    # their interfaces in kubernetes-models 5.1.0. Their `$defs` names carry a prefix because
    # Kyverno declares its own `Variable` and `Validation`.
    Symbol(f"{ADMISSION_V1}/MatchCondition", "IIoK8sApiAdmissionregistrationV1MatchCondition"): (
        ExternalType("AdmissionMatchCondition", expression_schema(), "hand-written strict schema")
    ),
    Symbol(f"{ADMISSION_V1}/Variable", "IIoK8sApiAdmissionregistrationV1Variable"): ExternalType(
        "AdmissionVariable", expression_schema(), "hand-written strict schema"
    ),
    Symbol(f"{ADMISSION_V1}/Validation", "IIoK8sApiAdmissionregistrationV1Validation"): ExternalType(
        "AdmissionValidation",
        strict_object(
            {"expression": STRING, "message": STRING, "messageExpression": STRING, "reason": STRING},
            required=("expression",),
        ),
        "hand-written strict schema",
    ),
    Symbol(f"{ADMISSION_V1}/AuditAnnotation", "IIoK8sApiAdmissionregistrationV1AuditAnnotation"): (
        ExternalType(
            "AdmissionAuditAnnotation",
            strict_object({"key": STRING, "valueExpression": STRING}, required=("key", "valueExpression")),
            "hand-written strict schema",
        )
    ),
    Symbol(f"{ADMISSION_V1}/ParamKind", "IIoK8sApiAdmissionregistrationV1ParamKind"): ExternalType(
        "AdmissionParamKind",
        strict_object({"apiVersion": STRING, "kind": STRING}),
        "hand-written strict schema",
    ),
    Symbol(f"{ADMISSION_V1}/ParamRef", "IIoK8sApiAdmissionregistrationV1ParamRef"): ExternalType(
        "AdmissionParamRef",
        strict_object(
            {
                "name": STRING,
                "namespace": STRING,
                "parameterNotFoundAction": STRING,
                "selector": {"$ref": "#/$defs/LabelSelector"},
            }
        ),
        "hand-written strict schema",
        requires=(LABEL_SELECTOR,),
    ),
    Symbol("kubernetes-models/rbac.authorization.k8s.io/v1/Subject", "IIoK8sApiRbacV1Subject"): ExternalType(
        "Subject",
        strict_object(
            {"apiGroup": STRING, "kind": STRING, "name": STRING, "namespace": STRING},
            required=("kind", "name"),
        ),
        "hand-written strict schema",
    ),
}

# `interface X extends TypeMeta` adds these members; the document pins them to constants.
TYPE_META = Symbol("@kubernetes-models/base", "TypeMeta")
TYPE_META_BODY = ObjectLiteral(
    {name: Property(Primitive("string"), optional=False) for name in TYPE_META_FIELDS}, None
)


def def_name_of(symbol: Symbol) -> str:
    """`IApplicationSpec` becomes `ApplicationSpec`."""
    return symbol.name.removeprefix("I") if re.match(r"I[A-Z]", symbol.name) else symbol.name


class SchemaBuilder:
    """Turn resolved TS types into JSON Schema, collecting interfaces into `$defs`."""

    def __init__(self, resolver: Resolver, free_form: frozenset[Symbol] = frozenset()) -> None:
        self.resolver = resolver
        self.free_form = free_form
        self.defs: dict[str, Schema] = {}
        self.def_owners: dict[str, Symbol] = {}
        self.expanding_aliases: set[Symbol] = set()
        self.used_externals: set[Symbol] = set()
        self.used_free_form: set[Symbol] = set()

    def to_schema(self, node: TsType, module: str) -> Schema:
        match node:
            case Primitive(name):
                return dict(PRIMITIVE_SCHEMAS[name])
            case Literal(value):
                return {"const": value}
            case Reference(name):
                return self.symbol_schema(self.resolver.resolve(module, name))
            case ArrayOf(item):
                return {"type": "array", "items": self.to_schema(item, module)}
            case Union(options):
                return self.union_schema(options, module)
            case ObjectLiteral():
                return self.object_schema(node, module)
            case Scoped(inner, inner_module):
                return self.to_schema(inner, inner_module)
        raise TypeError(f"unexpected node {node!r}")

    def union_schema(self, options: tuple[TsType, ...], module: str) -> Schema:
        """Literal unions become `enum`, primitive unions a `type` list, else `anyOf`."""
        values = [option.value for option in options if isinstance(option, Literal)]
        for value_type, json_type in ((str, "string"), (int, "integer")):
            if len(values) == len(options) and all(type(value) is value_type for value in values):
                return {"type": json_type, "enum": values}
        schemas = [self.to_schema(option, module) for option in options]
        if all(list(schema) == ["type"] and isinstance(schema["type"], str) for schema in schemas):
            return {"type": sorted({schema["type"] for schema in schemas})}
        return {"anyOf": schemas}

    def object_schema(self, node: ObjectLiteral, module: str) -> Schema:
        """Objects are closed; an index signature types the extra keys instead."""
        if not node.properties and node.index is None:
            raise ValueError(
                f"empty object type in {module}: free-form or closed is ambiguous"
                " (list an empty interface that stands for any JSON value in `Target.free_form`)"
            )
        schema: Schema = {"type": "object"}
        if node.properties:
            schema["properties"] = {
                key: self.to_schema(prop.type, module) for key, prop in node.properties.items()
            }
            required = sorted(key for key, prop in node.properties.items() if not prop.optional)
            if required:
                schema["required"] = required
        schema["additionalProperties"] = False if node.index is None else self.to_schema(node.index, module)
        return schema

    def symbol_schema(self, symbol: Symbol) -> Schema:
        if symbol in EXTERNAL_TYPES:
            external = EXTERNAL_TYPES[symbol]
            self.used_externals.add(symbol)
            for required in external.requires:
                self.symbol_schema(required)
            if external.def_name is None:
                return dict(external.schema)
            return self.define(external.def_name, symbol, lambda: external.schema)
        if not symbol.module.endswith(".d.ts"):
            raise ValueError(f"no schema for {symbol.name!r} from package {symbol.module!r}")
        if symbol in self.free_form:
            self.used_free_form.add(symbol)
            return {}
        declaration = self.resolver.declaration(symbol)
        if isinstance(declaration, TypeAlias):
            return self.alias_schema(symbol, declaration)
        return self.define(
            def_name_of(symbol), symbol, lambda: self.object_schema(self.flatten(symbol), symbol.module)
        )

    def alias_schema(self, symbol: Symbol, alias: TypeAlias) -> Schema:
        """Type aliases are inlined; a cycle through aliases alone is refused."""
        if symbol in self.expanding_aliases:
            raise ValueError(f"recursive type alias {symbol}")
        self.expanding_aliases.add(symbol)
        try:
            return self.to_schema(alias.type, symbol.module)
        finally:
            self.expanding_aliases.remove(symbol)

    def define(self, name: str, symbol: Symbol, build: Callable[[], Schema]) -> Schema:
        owner = self.def_owners.setdefault(name, symbol)
        if owner != symbol:
            raise ValueError(f"$defs name {name!r} is used by both {owner} and {symbol}")
        if name not in self.defs:
            self.defs[name] = {}  # placeholder, so recursive types terminate
            self.defs[name] = build()
        return {"$ref": f"#/$defs/{name}"}

    def flatten(self, symbol: Symbol) -> ObjectLiteral:
        """Merge an interface with its bases; every property keeps its declaring module."""
        if symbol == TYPE_META:
            return TYPE_META_BODY
        declaration = self.resolver.declaration(symbol)
        if not isinstance(declaration, Interface):
            raise ValueError(f"{symbol} is extended but is not an interface")
        properties: dict[str, Property] = {}
        for base in declaration.bases:
            inherited = self.flatten(self.resolver.resolve(symbol.module, base))
            if inherited.index is not None:
                raise ValueError(f"{symbol} extends {base}, which has an index signature")
            properties.update(inherited.properties)
        if declaration.bases and declaration.body.index is not None:
            raise ValueError(f"{symbol} has both base interfaces and an index signature")
        for key, prop in declaration.body.properties.items():
            properties[key] = Property(Scoped(prop.type, symbol.module), prop.optional)
        index = declaration.body.index
        return ObjectLiteral(properties, None if index is None else Scoped(index, symbol.module))


def pin_type_meta(root: ObjectLiteral, group_version: str, kind: str) -> ObjectLiteral:
    """Require `apiVersion`/`kind` and pin them to this document's constants."""
    expected = {"apiVersion": group_version, "kind": kind}
    properties = dict(root.properties)
    for name, value in expected.items():
        prop = properties.get(name)
        declared = prop.type.type if prop and isinstance(prop.type, Scoped) else prop and prop.type
        if prop is None or prop.optional or declared not in (Primitive("string"), Literal(value)):
            raise ValueError(f"{kind}.{name} must be a required string or {value!r}: {prop}")
        properties[name] = Property(Literal(value), optional=False)
    return ObjectLiteral(properties, root.index)


def drop_runtime_fields(root: ObjectLiteral, dropped: tuple[str, ...]) -> ObjectLiteral:
    kept = {k: v for k, v in root.properties.items() if k not in dropped}
    return ObjectLiteral(kept, root.index)


def root_symbol(resolver: Resolver, target: Target, kind: str, interface: str) -> Symbol:
    return resolver.resolve_export(f"{target.group_version}/{kind}.d.ts", interface)


def check_dropped_fields(resolver: Resolver, target: Target) -> None:
    """Every field to drop must be declared by some kind, else `TARGETS` is out of date."""
    declared: set[str] = set()
    for kind, interface in target.kinds:
        root = SchemaBuilder(resolver).flatten(root_symbol(resolver, target, kind, interface))
        declared.update(root.properties)
    missing = sorted(set(target.dropped) - declared)
    if missing:
        raise ValueError(f"{target.group_version}: no kind declares the top-level fields {missing} to drop")


EMPTY_INTERFACE = Interface((), ObjectLiteral({}, None))


def check_free_form(resolver: Resolver, target: Target) -> None:
    """Only empty interfaces may be taken as free-form: anything with members must be derived."""
    for symbol in sorted(target.free_form_symbols):
        if resolver.declaration(symbol) != EMPTY_INTERFACE:
            raise ValueError(
                f"{target.group_version}: {symbol} is listed as free-form but is no empty interface"
            )


def has_number_type(schema: Any) -> bool:
    """Whether some (sub)schema has `"type": "number"`, i.e. came from a TypeScript `number`."""
    if isinstance(schema, list):
        return any(has_number_type(item) for item in schema)
    if not isinstance(schema, dict):
        return False
    declared = schema.get("type")
    if declared == "number" or (isinstance(declared, list) and "number" in declared):
        return True
    return any(has_number_type(value) for value in schema.values())


def check_numbers(target: Target, schemas: dict[str, Schema]) -> None:
    """The SOURCE.md note on `number` needs an example exactly when some field is a `number`."""
    has_number = has_number_type(list(schemas.values()))
    if has_number != (target.number_example is not None):
        raise ValueError(
            f"{target.group_version}: number_example does not fit the schemas (number: {has_number})"
        )


def document_schema(builder: SchemaBuilder, target: Target, kind: str, interface: str) -> Schema:
    """Build the schema of one kind; `builder` must be fresh and collects only its `$defs`."""
    symbol = root_symbol(builder.resolver, target, kind, interface)
    root = pin_type_meta(builder.flatten(symbol), target.group_version, kind)
    body = builder.object_schema(drop_runtime_fields(root, target.dropped), symbol.module)
    return {
        "$schema": SCHEMA_DIALECT,
        "$comment": f"Generated by {SCRIPT_PATH} from {target.package}@{target.version}; do not edit.",
        "title": f"{target.group_version} {kind}",
        **body,
        "$defs": builder.defs,
    }


def render_json(schema: Schema) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- package access


def fetch_tarball(target: Target, directory: Path) -> Path:
    """Run `npm pack` for the pinned package version in an empty directory; return the tarball."""
    directory.mkdir(parents=True)
    subprocess.run(
        ["npm", "pack", f"{target.package}@{target.version}", "--ignore-scripts", "--silent"],
        cwd=directory,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tarballs = sorted(directory.glob("*.tgz"))
    if len(tarballs) != 1:
        raise RuntimeError(f"expected one tarball from npm pack, found {tarballs}")
    return tarballs[0]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    stream = archive.extractfile(member)
    if stream is None:
        raise RuntimeError(f"{member.name} is not a regular file in the tarball")
    return stream.read().decode("utf-8")


def check_package_metadata(target: Target, metadata: dict[str, Any]) -> None:
    found = (metadata.get("name"), metadata.get("version"), metadata.get("license"))
    if found != (target.package, target.version, target.license):
        raise RuntimeError(f"unexpected package metadata {found}")


def read_type_sources(target: Target, tarball: Path) -> dict[str, str]:
    """Map each `.d.ts` path (relative to `package/`) to its text; nothing is extracted."""
    sources: dict[str, str] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("package/")
            if member.isfile() and (name.endswith(".d.ts") or name == "package.json"):
                sources[name] = read_member(archive, member)
    check_package_metadata(target, json.loads(sources.pop("package.json", "{}")))
    return sources


class Derived(NamedTuple):
    """The schemas of one target and what SOURCE.md records about them."""

    target: Target
    tarball_name: str
    digest: str
    schemas: dict[str, Schema]
    used_externals: set[Symbol]


def derive(target: Target, work_dir: Path) -> Derived:
    tarball = fetch_tarball(target, work_dir / target.group)
    digest = sha256_of(tarball)
    print(f"{tarball.name} sha256 {digest}")
    resolver = Resolver(read_type_sources(target, tarball))
    check_dropped_fields(resolver, target)
    check_free_form(resolver, target)
    builders = {kind: SchemaBuilder(resolver, target.free_form_symbols) for kind, _ in target.kinds}
    schemas = {kind: document_schema(builders[kind], target, kind, root) for kind, root in target.kinds}
    check_numbers(target, schemas)
    unused_free_form = target.free_form_symbols - set().union(*(b.used_free_form for b in builders.values()))
    if unused_free_form:
        raise ValueError(
            f"{target.group_version}: free-form types {sorted(unused_free_form)} are not reached"
        )
    used: set[Symbol] = set().union(*(builder.used_externals for builder in builders.values()))
    return Derived(target, tarball.name, digest, schemas, used)


# --------------------------------------------------------------------------- outputs


def external_types_markdown(used: set[Symbol]) -> str:
    lines = []
    for symbol in sorted(used):
        external = EXTERNAL_TYPES[symbol]
        where = f"`$defs/{external.def_name}`, " if external.def_name else ""
        lines.append(f"  - `{symbol.module}`:\n    {where}{external.note}")
    unused = sorted(symbol.module.rsplit("/", 1)[-1] for symbol in EXTERNAL_TYPES.keys() - used)
    if unused:
        text = f"also mapped, but not reached: {', '.join(unused)}"
        lines.append(textwrap.fill(text, width=92, initial_indent="  - ", subsequent_indent="    "))
    return "\n".join(lines)


def free_form_markdown(target: Target) -> str:
    """A bullet for the package's own free-form types; empty if there are none."""
    if not target.free_form:
        return ""
    lines = ["- Empty interfaces of the package that stand for free-form values are mapped as follows:"]
    for path, name, note in target.free_form:
        lines.append(f"  - `{name}` in `{path}`:\n    {note}")
    return "\n".join(lines) + "\n"


def number_markdown(target: Target) -> str:
    """A bullet on TypeScript `number`; empty if no field is a `number`."""
    if target.number_example is None:
        return ""
    return (
        "- TypeScript `number` cannot tell integers from floats, so numeric fields accept any number\n"
        f"  {target.number_example}.\n"
    )


def code_list(items: list[str]) -> str:
    """`a`, `b` and `c`."""
    quoted = [f"`{item}`" for item in items]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def source_markdown(derived: Derived) -> str:
    target = derived.target
    kinds = [kind for kind, _ in target.kinds]
    several, dropped_several = len(kinds) > 1, len(target.dropped) > 1
    inputs = ", ".join(f"`{target.group_version}/{kind}.d.ts`" for kind in kinds)
    groups = textwrap.fill(", ".join(f"`{other.group}`" for other in TARGETS) + ".", width=92)
    free_form, numbers = free_form_markdown(target), number_markdown(target)
    return f"""# Source of the {target.title} schemas

{code_list([f"{kind}.json" for kind in kinds])} {"are" if several else "is"} generated; \
do not edit {"them" if several else "it"} by hand.

- Package: `{target.package}`
- Version: `{target.version}` ({target.origin})
- Tarball: `{derived.tarball_name}`, obtained with
  `npm pack {target.package}@{target.version}`
- Tarball sha256: `{derived.digest}`
- License: {target.license}
- Inputs: {inputs} and
  every `.d.ts` file of the package they reach through `import` statements. Each reached
  `interface` becomes a `$defs` entry (bases of `extends` are merged in); type aliases are
  inlined.
- Dialect: JSON Schema draft 2020-12

## Regenerate

```sh
python {SCRIPT_PATH}
```

One run regenerates the schemas of every group:
{groups}
Requires `npm` on the PATH. The script prints each tarball's sha256; compare it with the one above.
It fails on any TypeScript construct or imported type it does not know, rather than guessing.

## Deliberate differences from the CRD

- Every object has `additionalProperties: false` (unless the type declares a string index
  signature), so unknown (e.g. misspelt) fields are rejected at any depth.
- The top-level {code_list(list(target.dropped))} field{"s are" if dropped_several else " is"} \
dropped on purpose: the controller
  writes {"them" if dropped_several else "it"} and a GitOps repository must not contain \
{"them" if dropped_several else "it"}, so {"they are" if dropped_several else "it is"} rejected as
  {"" if dropped_several else "an "}unknown field{"s" if dropped_several else ""}.
- `interface ... extends TypeMeta` makes `apiVersion` and `kind` required; they are pinned to
  `{target.group_version}` and the document's kind.
- Types imported from other packages are mapped as follows:
{external_types_markdown(derived.used_externals)}
{free_form}- Descriptions are not kept, to keep the files small.
{numbers}- `null` is not accepted for optional fields (the package's runtime validators allow it);
  omit the field instead.
- Only what the TypeScript types express is checked: the CRD's patterns, length and item
  limits and CEL rules are not (the API server still applies them).
"""


def write_outputs(derived: Derived) -> None:
    output_dir = derived.target.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    for kind, schema in derived.schemas.items():
        (output_dir / f"{kind}.json").write_text(render_json(schema), encoding="utf-8")
        print(f"wrote {(output_dir / f'{kind}.json').relative_to(REPO_ROOT)}")
    (output_dir / "SOURCE.md").write_text(source_markdown(derived), encoding="utf-8")
    print(f"wrote {(output_dir / 'SOURCE.md').relative_to(REPO_ROOT)}")


def main() -> None:
    """Derive every target before writing anything, so a failure leaves no partial update."""
    with tempfile.TemporaryDirectory() as temp_dir:
        results = [derive(target, Path(temp_dir)) for target in TARGETS]
    for derived in results:
        write_outputs(derived)


if __name__ == "__main__":
    main()
