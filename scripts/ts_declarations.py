"""Parse the `.d.ts` files of a kubernetes-models npm package into a small TypeScript type model.

kubernetes-models packages (`@kubernetes-models/argo-cd`, `.../gateway-api`,
`.../prometheus-operator`, ...) ship one `.d.ts` file per Go type. This module tokenizes them,
parses the few statement and type forms the generator emits (imports, interfaces with
`extends`, type aliases, `export type { A as B }` re-exports; classes are skipped) and resolves
type names across files by following relative `import` statements. Anything else is refused
with an error naming the offending tokens, rather than guessed at.

Used by scripts/derive_argocd_schemas.py.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NoReturn

# --------------------------------------------------------------------------- TypeScript types


@dataclass(frozen=True)
class Primitive:
    name: str


@dataclass(frozen=True)
class Literal:
    """A string or integer literal type such as `"Sync"` or `301`."""

    value: str | int


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
    | (?P<number>-?\d[\w.]*)
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

    def expect_integer(self) -> int:
        """Integer literals only: a float or hex literal would need its own JSON Schema mapping."""
        if self.peek().kind != "number" or not re.fullmatch(r"-?\d+", self.peek().text):
            self.fail("expected an integer literal")
        return int(self.advance().text)

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
        if token.kind == "number":
            return Literal(self.expect_integer())
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
