"""Derive strict JSON Schemas for Argo CD `Application` and `AppProject` manifests.

Why: Argo CD's CRD schemas do not reject unknown fields in a way a GitOps repository can rely on
before anything reaches a cluster, so a misspelt key such as `spec.source.pathh` or
`spec.syncPolicy.automated.prunee` is easily dropped without anyone noticing. These schemas
reject every unknown field, so CI can catch such typos offline.

Rather than hand-maintaining the schemas, they are derived from the TypeScript types in the npm
package `@kubernetes-models/argo-cd` (MIT), generated from Argo CD's Go API. The package has one
`.d.ts` file per type; starting from `argoproj.io/v1alpha1/Application.d.ts` and
`AppProject.d.ts`, a small recursive-descent parser follows the `import` statements, turns every
reached `interface` into a `$defs` entry and inlines type aliases. Types imported from other
packages (Kubernetes apimachinery) are mapped by a fixed table; anything the parser or the table
does not know makes the script fail instead of guessing. The tarball is fetched with `npm pack`,
so npm's own registry configuration is used. The top-level `status` and `operation` fields are
dropped on purpose: they are written by the controller and must never appear in a GitOps
repository.

Regenerate with: python scripts/derive_argocd_schemas.py
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

PACKAGE_NAME = "@kubernetes-models/argo-cd"
PACKAGE_VERSION = "4.0.0"
PACKAGE_LICENSE = "MIT"
API_GROUP_VERSION = "argoproj.io/v1alpha1"
KINDS = (("Application", "IApplication"), ("AppProject", "IAppProject"))
DROPPED_TOP_LEVEL_FIELDS = ("operation", "status")
TYPE_META_FIELDS = ("apiVersion", "kind")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = REPO_ROOT / "template" / "tools" / "schemas" / "argoproj.io"
SCRIPT_PATH = "scripts/derive_argocd_schemas.py"

Schema = dict[str, Any]


# --------------------------------------------------------------------------- TypeScript types


@dataclass(frozen=True)
class Primitive:
    name: str


@dataclass(frozen=True)
class Literal:
    value: str


@dataclass(frozen=True)
class Reference:
    name: str


@dataclass(frozen=True)
class ArrayOf:
    item: TsType


@dataclass(frozen=True)
class Union:
    options: tuple[TsType, ...]


@dataclass(frozen=True)
class Property:
    type: TsType
    optional: bool


@dataclass(frozen=True)
class ObjectLiteral:
    properties: dict[str, Property]
    index: TsType | None


@dataclass(frozen=True)
class Scoped:
    """A type whose references must be resolved in another module (an inherited property)."""

    type: TsType
    module: str


TsType = Primitive | Literal | Reference | ArrayOf | Union | ObjectLiteral | Scoped

PRIMITIVE_NAMES = frozenset({"any", "boolean", "null", "number", "object", "string", "unknown"})


@dataclass(frozen=True)
class Interface:
    bases: tuple[str, ...]
    body: ObjectLiteral


@dataclass(frozen=True)
class TypeAlias:
    type: TsType


Declaration = Interface | TypeAlias


class Import(NamedTuple):
    specifier: str
    name: str


@dataclass
class Module:
    """The declarations of one `.d.ts` file; classes and their members are skipped."""

    path: str
    declarations: dict[str, Declaration] = field(default_factory=dict)
    exported_aliases: dict[str, str] = field(default_factory=dict)
    imports: dict[str, Import] = field(default_factory=dict)


class Symbol(NamedTuple):
    """A declaration: `module` is a package path, or the specifier of another npm package."""

    module: str
    name: str


# --------------------------------------------------------------------------- tokenizer


class Token(NamedTuple):
    kind: str
    text: str


TOKEN_PATTERN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>/\*.*?\*/|//[^\n]*)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_$][\w$]*)
    | (?P<punct>\S)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(source: str) -> list[Token]:
    """Split TypeScript source into tokens, skipping whitespace and (JSDoc) comments."""
    tokens = []
    for match in TOKEN_PATTERN.finditer(source):
        kind = match.lastgroup
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, match.group()))
    return tokens


# --------------------------------------------------------------------------- type parser


class Parser:
    """Recursive-descent parser for the subset of TS type syntax used by kubernetes-models."""

    def __init__(self, tokens: list[Token], position: int = 0) -> None:
        self.tokens = tokens
        self.position = position

    def peek(self, offset: int = 0) -> Token:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else Token("end", "")

    def advance(self) -> Token:
        token = self.peek()
        self.position += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek().kind == "punct" and self.peek().text == text:
            self.position += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            self.fail(f"expected {text!r}")

    def accept_word(self, word: str) -> bool:
        if self.peek() == Token("name", word):
            self.position += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            self.fail(f"expected {word!r}")

    def expect_name(self) -> str:
        if self.peek().kind != "name":
            self.fail("expected an identifier")
        return self.advance().text

    def expect_string(self) -> str:
        if self.peek().kind != "string":
            self.fail("expected a string literal")
        return json.loads(self.advance().text)

    def fail(self, message: str) -> NoReturn:
        context = " ".join(token.text for token in self.tokens[self.position : self.position + 8])
        raise ValueError(f"{message} at token {self.position}: {context!r}")

    def parse_type(self) -> TsType:
        self.accept("|")  # a leading `|` is legal TS
        options = [self.parse_postfix()]
        while self.accept("|"):
            options.append(self.parse_postfix())
        return options[0] if len(options) == 1 else Union(tuple(options))

    def parse_postfix(self) -> TsType:
        node = self.parse_primary()
        while self.peek().text == "[" and self.peek(1).text == "]":
            self.position += 2
            node = ArrayOf(node)
        return node

    def parse_primary(self) -> TsType:
        token = self.peek()
        if token.kind == "string":
            return Literal(self.expect_string())
        if self.accept("("):
            node = self.parse_type()
            self.expect(")")
            return node
        if token.text == "{":
            return self.parse_object()
        return self.parse_named_type()

    def parse_named_type(self) -> TsType:
        name = self.expect_name()
        if name == "Array":
            self.expect("<")
            item = self.parse_type()
            self.expect(">")
            return ArrayOf(item)
        if self.peek().text in ("<", "."):
            self.fail(f"unsupported generic or qualified type {name!r}")
        return Primitive(name) if name in PRIMITIVE_NAMES else Reference(name)

    def parse_object(self) -> ObjectLiteral:
        self.expect("{")
        properties: dict[str, Property] = {}
        index: TsType | None = None
        while not self.accept("}"):
            if self.peek().text == "[":
                if index is not None:
                    self.fail("duplicate index signature")
                index = self.parse_index_signature()
            else:
                key, prop = self.parse_property()
                if key in properties:
                    self.fail(f"duplicate property {key!r}")
                properties[key] = prop
            if not (self.accept(";") or self.accept(",")) and self.peek().text != "}":
                self.fail("expected ';' or '}' after a member")
        return ObjectLiteral(properties, index)

    def parse_index_signature(self) -> TsType:
        self.expect("[")
        self.expect_name()
        self.expect(":")
        if self.expect_name() != "string":
            self.fail("only string index signatures are supported")
        self.expect("]")
        self.expect(":")
        return self.parse_type()

    def parse_property(self) -> tuple[str, Property]:
        token = self.advance()
        if token.kind == "string":
            key = json.loads(token.text)
        elif token.kind == "name":
            key = token.text
        else:
            self.position -= 1
            self.fail("expected a property name")
        optional = self.accept("?")
        self.expect(":")
        return key, Property(self.parse_type(), optional)


# --------------------------------------------------------------------------- module parser


class ModuleParser(Parser):
    """Parse the statements of one generated `.d.ts` file, refusing anything unexpected."""

    def parse_module(self, path: str) -> Module:
        module = Module(path)
        while self.peek().kind != "end":
            self.parse_statement(module)
        return module

    def parse_statement(self, module: Module) -> None:
        if self.accept_word("import"):
            self.parse_import(module)
            return
        self.expect_word("export")
        if self.accept_word("interface"):
            self.parse_interface(module)
        elif self.peek() == Token("name", "type") and self.peek(1).text == "{":
            self.advance()
            self.parse_type_exports(module)
        elif self.accept_word("type"):
            self.parse_type_alias(module)
        elif self.accept_word("declare") and self.accept_word("class"):
            self.skip_class()
        else:
            self.fail("unsupported statement")

    def parse_import(self, module: Module) -> None:
        self.accept_word("type")
        pairs = self.parse_name_list()
        self.expect_word("from")
        specifier = self.expect_string()
        self.expect(";")
        for imported, local in pairs:
            self.declare(module.imports, local, Import(specifier, imported))

    def parse_name_list(self) -> list[tuple[str, str]]:
        """Parse `{ A, B as C }` into (exported name, local name) pairs."""
        self.expect("{")
        pairs = []
        while not self.accept("}"):
            name = self.expect_name()
            pairs.append((name, self.expect_name() if self.accept_word("as") else name))
            if not self.accept(",") and self.peek().text != "}":
                self.fail("expected ',' or '}'")
        return pairs

    def parse_interface(self, module: Module) -> None:
        name = self.expect_name()
        bases: list[str] = []
        if self.accept_word("extends"):
            bases.append(self.expect_name())
            while self.accept(","):
                bases.append(self.expect_name())
        if self.peek().text != "{":
            self.fail(f"unsupported heritage clause of interface {name}")
        self.declare(module.declarations, name, Interface(tuple(bases), self.parse_object()))

    def parse_type_alias(self, module: Module) -> None:
        name = self.expect_name()
        self.expect("=")
        self.declare(module.declarations, name, TypeAlias(self.parse_type()))
        self.expect(";")

    def parse_type_exports(self, module: Module) -> None:
        for local, alias in self.parse_name_list():
            self.declare(module.exported_aliases, alias, local)
        self.expect(";")

    def skip_class(self) -> None:
        """Skip `class X extends Model<IX> implements IX { ... }`; its interface has the data."""
        while self.peek().text != "{":
            if self.advance().kind == "end":
                self.fail("unterminated class")
        depth = 0
        while True:
            token = self.advance()
            if token.kind == "end":
                self.fail("unterminated class body")
            depth += {"{": 1, "}": -1}.get(token.text, 0) if token.kind == "punct" else 0
            if depth == 0:
                return

    def declare(self, table: dict[str, Any], name: str, value: object) -> None:
        if name in table:
            self.fail(f"duplicate declaration of {name!r}")
        table[name] = value


def parse_module(path: str, source: str) -> Module:
    return ModuleParser(tokenize(source)).parse_module(path)


# --------------------------------------------------------------------------- name resolution


def module_path_of(importer: str, specifier: str) -> str:
    """Map a relative `./X.js` import to the package path of its `X.d.ts`."""
    if not specifier.endswith(".js"):
        raise ValueError(f"unexpected import specifier {specifier!r} in {importer}")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
    if joined.startswith("../"):
        raise ValueError(f"import {specifier!r} in {importer} leaves the package")
    return joined.removesuffix(".js") + ".d.ts"


class Resolver:
    """Parse modules on demand and resolve type names by following `import` statements."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources
        self.modules: dict[str, Module] = {}

    def module(self, path: str) -> Module:
        if path not in self.modules:
            if path not in self.sources:
                raise ValueError(f"{path} is not in the package")
            self.modules[path] = parse_module(path, self.sources[path])
        return self.modules[path]

    def resolve(self, module_path: str, name: str) -> Symbol:
        """Resolve a name used in `module_path` to where it is declared."""
        module = self.module(module_path)
        if name in module.declarations:
            return Symbol(module_path, name)
        if name not in module.imports:
            raise ValueError(f"{name!r} is neither declared nor imported in {module_path}")
        specifier, imported = module.imports[name]
        if not specifier.startswith("."):
            return Symbol(specifier, imported)
        return self.resolve_export(module_path_of(module_path, specifier), imported)

    def resolve_export(self, module_path: str, name: str) -> Symbol:
        module = self.module(module_path)
        local = module.exported_aliases.get(name, name)
        if local not in module.declarations:
            raise ValueError(f"{module_path} exports no type {name!r}")
        return Symbol(module_path, local)

    def declaration(self, symbol: Symbol) -> Declaration:
        return self.module(symbol.module).declarations[symbol.name]


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


class ExternalType(NamedTuple):
    """Schema for a type from another npm package; with a `def_name` it goes into `$defs`."""

    def_name: str | None
    schema: Schema
    note: str


APIMACHINERY = "@kubernetes-models/apimachinery"
EXTERNAL_TYPES: dict[Symbol, ExternalType] = {
    Symbol(
        f"{APIMACHINERY}/apis/meta/v1/ObjectMeta", "IIoK8sApimachineryPkgApisMetaV1ObjectMeta"
    ): ExternalType("ObjectMeta", object_meta_schema(), "hand-written strict schema"),
    Symbol(
        f"{APIMACHINERY}/apis/meta/v1/LabelSelector", "IIoK8sApimachineryPkgApisMetaV1LabelSelector"
    ): ExternalType("LabelSelector", label_selector_schema(), "hand-written strict schema"),
    Symbol(f"{APIMACHINERY}/apis/meta/v1/Time", "IIoK8sApimachineryPkgApisMetaV1Time"): (
        ExternalType(None, {"type": "string", "format": "date-time"}, "RFC 3339 string")
    ),
    Symbol(
        f"{APIMACHINERY}/util/intstr/IntOrString", "IIoK8sApimachineryPkgUtilIntstrIntOrString"
    ): ExternalType(None, {"type": ["integer", "string"]}, "integer or string"),
    Symbol(f"{APIMACHINERY}/runtime/RawExtension", "IIoK8sApimachineryPkgRuntimeRawExtension"): ExternalType(
        None, FREE_OBJECT, "free-form object (e.g. Helm `valuesObject`)"
    ),
    Symbol(
        "kubernetes-models/apiextensions.k8s.io/v1/JSON",
        "IIoK8sApiextensionsApiserverPkgApisApiextensionsV1JSON",
    ): ExternalType(None, {}, "any JSON value"),
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

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.defs: dict[str, Schema] = {}
        self.def_owners: dict[str, Symbol] = {}
        self.expanding_aliases: set[Symbol] = set()
        self.used_externals: set[Symbol] = set()

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
        """String-literal unions become `enum`, primitive unions a `type` list, else `anyOf`."""
        if all(isinstance(option, Literal) for option in options):
            return {"type": "string", "enum": [option.value for option in options]}
        schemas = [self.to_schema(option, module) for option in options]
        if all(list(schema) == ["type"] and isinstance(schema["type"], str) for schema in schemas):
            return {"type": sorted({schema["type"] for schema in schemas})}
        return {"anyOf": schemas}

    def object_schema(self, node: ObjectLiteral, module: str) -> Schema:
        """Objects are closed; an index signature types the extra keys instead."""
        if not node.properties and node.index is None:
            raise ValueError(f"empty object type in {module}: free-form or closed is ambiguous")
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
            if external.def_name is None:
                return dict(external.schema)
            return self.define(external.def_name, symbol, lambda: external.schema)
        if not symbol.module.endswith(".d.ts"):
            raise ValueError(f"no schema for {symbol.name!r} from package {symbol.module!r}")
        declaration = self.resolver.declaration(symbol)
        if isinstance(declaration, TypeAlias):
            return self.alias_schema(symbol, declaration)
        return self.define(def_name_of(symbol), symbol, lambda: self.object_schema(self.flatten(symbol), ""))

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


def pin_type_meta(root: ObjectLiteral, kind: str) -> ObjectLiteral:
    """Require `apiVersion`/`kind` and pin them to this document's constants."""
    expected = {"apiVersion": API_GROUP_VERSION, "kind": kind}
    properties = dict(root.properties)
    for name, value in expected.items():
        prop = properties.get(name)
        declared = prop.type.type if prop and isinstance(prop.type, Scoped) else prop and prop.type
        if prop is None or prop.optional or declared not in (Primitive("string"), Literal(value)):
            raise ValueError(f"{kind}.{name} must be a required string or {value!r}: {prop}")
        properties[name] = Property(Literal(value), optional=False)
    return ObjectLiteral(properties, root.index)


def drop_runtime_fields(root: ObjectLiteral) -> ObjectLiteral:
    kept = {k: v for k, v in root.properties.items() if k not in DROPPED_TOP_LEVEL_FIELDS}
    return ObjectLiteral(kept, root.index)


def document_schema(builder: SchemaBuilder, kind: str, interface: str) -> Schema:
    """Build the schema of one kind; `builder` must be fresh and collects only its `$defs`."""
    root_symbol = builder.resolver.resolve_export(f"{API_GROUP_VERSION}/{kind}.d.ts", interface)
    root = drop_runtime_fields(pin_type_meta(builder.flatten(root_symbol), kind))
    body = builder.object_schema(root, root_symbol.module)
    return {
        "$schema": SCHEMA_DIALECT,
        "$comment": (f"Generated by {SCRIPT_PATH} from {PACKAGE_NAME}@{PACKAGE_VERSION}; do not edit."),
        "title": f"{API_GROUP_VERSION} {kind}",
        **body,
        "$defs": builder.defs,
    }


def render_json(schema: Schema) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- package access


def fetch_tarball(directory: Path) -> Path:
    """Run `npm pack` for the pinned package version and return the downloaded tarball."""
    subprocess.run(
        ["npm", "pack", f"{PACKAGE_NAME}@{PACKAGE_VERSION}", "--ignore-scripts", "--silent"],
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


def check_package_metadata(metadata: dict[str, Any]) -> None:
    found = (metadata.get("name"), metadata.get("version"), metadata.get("license"))
    if found != (PACKAGE_NAME, PACKAGE_VERSION, PACKAGE_LICENSE):
        raise RuntimeError(f"unexpected package metadata {found}")


def read_type_sources(tarball: Path) -> dict[str, str]:
    """Map each `.d.ts` path (relative to `package/`) to its text; nothing is extracted."""
    sources: dict[str, str] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("package/")
            if member.isfile() and (name.endswith(".d.ts") or name == "package.json"):
                sources[name] = read_member(archive, member)
    check_package_metadata(json.loads(sources.pop("package.json", "{}")))
    return sources


# --------------------------------------------------------------------------- outputs


def external_types_markdown(used: set[Symbol]) -> str:
    lines = []
    for symbol in sorted(used):
        external = EXTERNAL_TYPES[symbol]
        where = f"`$defs/{external.def_name}`, " if external.def_name else ""
        lines.append(f"  - `{symbol.module}`:\n    {where}{external.note}")
    unused = sorted(symbol.module.rsplit("/", 1)[-1] for symbol in EXTERNAL_TYPES.keys() - used)
    if unused:
        lines.append(f"  - also mapped, but not reached: {', '.join(unused)}")
    return "\n".join(lines)


def source_markdown(tarball_name: str, digest: str, used_externals: set[Symbol]) -> str:
    dropped = " and ".join(f"`{field}`" for field in DROPPED_TOP_LEVEL_FIELDS)
    return f"""# Source of the Argo CD schemas

`Application.json` and `AppProject.json` are generated; do not edit them by hand.

- Package: `{PACKAGE_NAME}`
- Version: `{PACKAGE_VERSION}` (types generated from Argo CD v3's Go API)
- Tarball: `{tarball_name}`, obtained with
  `npm pack {PACKAGE_NAME}@{PACKAGE_VERSION}`
- Tarball sha256: `{digest}`
- License: {PACKAGE_LICENSE}
- Inputs: `{API_GROUP_VERSION}/Application.d.ts`, `{API_GROUP_VERSION}/AppProject.d.ts` and
  every `.d.ts` file of the package they reach through `import` statements. Each reached
  `interface` becomes a `$defs` entry (bases of `extends` are merged in); type aliases are
  inlined.
- Dialect: JSON Schema draft 2020-12

## Regenerate

```sh
python {SCRIPT_PATH}
```

Requires `npm` on the PATH. The script prints the tarball's sha256; compare it with the one above.
It fails on any TypeScript construct or imported type it does not know, rather than guessing.

## Deliberate differences from the CRD

- Every object has `additionalProperties: false` (unless the type declares a string index
  signature), so unknown (e.g. misspelt) fields are rejected at any depth.
- The top-level {dropped} fields are dropped on purpose: the controller
  writes them and a GitOps repository must not contain them, so they are rejected as
  unknown fields.
- `interface ... extends TypeMeta` makes `apiVersion` and `kind` required; they are pinned to
  `{API_GROUP_VERSION}` and the document's kind.
- Types imported from other packages are mapped as follows:
{external_types_markdown(used_externals)}
- Descriptions are not kept, to keep the files small.
- TypeScript `number` cannot tell integers from floats, so numeric fields accept any number
  (e.g. `syncPolicy.retry.limit` and `retry.backoff.factor`, both `int64` in Go, are `number`).
- `null` is not accepted for optional fields (the package's runtime validators allow it);
  omit the field instead.
"""


def write_outputs(schemas: dict[str, Schema], source_md: str) -> None:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    for kind, schema in schemas.items():
        (OUTPUT_DIR / f"{kind}.json").write_text(render_json(schema), encoding="utf-8")
    (OUTPUT_DIR / "SOURCE.md").write_text(source_md, encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as temp_dir:
        tarball = fetch_tarball(Path(temp_dir))
        digest = sha256_of(tarball)
        print(f"{tarball.name} sha256 {digest}")
        resolver = Resolver(read_type_sources(tarball))
    builders = {kind: SchemaBuilder(resolver) for kind, _ in KINDS}
    schemas = {kind: document_schema(builders[kind], kind, interface) for kind, interface in KINDS}
    used_externals: set[Symbol] = set().union(*(builder.used_externals for builder in builders.values()))
    write_outputs(schemas, source_markdown(tarball.name, digest, used_externals))
    for kind in schemas:
        print(f"wrote {(OUTPUT_DIR / f'{kind}.json').relative_to(REPO_ROOT)}")
    print(f"wrote {(OUTPUT_DIR / 'SOURCE.md').relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
