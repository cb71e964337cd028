"""The schemas derived from the vendored CRDs (scripts/derive_crd_schemas.py).

Every CRD is vendored unchanged (blob id and checksum as its SOURCE.md says), and `--check` keeps
every committed schema equal to what its CRD gives. The schemas accept every custom object the
template generates, reject what the old schemas rejected (unknown fields at any depth,
controller-written fields, other kinds or versions), and also what only the CRDs say: integer
types, limits, patterns, enums and their structural `oneOf`/`not` checks.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from gitopslib.schemas import schema_problems

from tests.answer_sets import ANSWER_SETS
from tests.conftest import TEMPLATE_ROOT, render, run_gitops
from tests.template_versions import edit

SCRIPT = TEMPLATE_ROOT / "scripts" / "derive_crd_schemas.py"
CRDS = TEMPLATE_ROOT / "crds"
ALL_SCHEMAS = TEMPLATE_ROOT / "template" / "tools" / "schemas"
GROUPS = sorted(path.name for path in CRDS.iterdir() if path.is_dir())
# hardened-gateway renders an HTTPRoute, a ServiceMonitor, an ExternalSecret and three
# ClusterPolicies; exposed-ingress a SealedSecret.
RENDERED_SETS = ("defaults", "all-on", "all-off", "four-envs-registry", "hardened-gateway", "exposed-ingress")
# Where one rendered object of each derived kind is: (answer set, file).
SAMPLES = {
    "HTTPRoute": ("hardened-gateway", "environments/prod/payments/httproute.yaml"),
    "ServiceMonitor": ("hardened-gateway", "applications/base/payments/servicemonitor.yaml"),
    "ExternalSecret": ("hardened-gateway", "environments/prod/payments/externalsecret.yaml"),
    "ClusterPolicy": ("hardened-gateway", "platform/policies/verify-image-signatures.yaml"),
    "SealedSecret": ("exposed-ingress", "environments/dev/web/sealedsecret.yaml"),
}

Obj = dict[str, Any]


def derive_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_crd_schemas", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def derived_objects(repo: Path, groups: tuple[str, ...] = tuple(GROUPS)) -> list[tuple[str, Obj]]:
    """Every object of a derived API group in the repository's YAML files (kustomizations aside)."""
    found = []
    for path in sorted(repo.rglob("*.yaml")):
        if ".git" in path.parts:
            continue
        for obj in yaml.safe_load_all(path.read_text()):
            if isinstance(obj, dict) and str(obj.get("apiVersion", "")).rpartition("/")[0] in groups:
                found.append((path.relative_to(repo).as_posix(), obj))
    return found


def argo_objects(repo: Path) -> list[tuple[str, Obj]]:
    return derived_objects(repo, ("argoproj.io",))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: render(tmp_path_factory.mktemp(name) / "repo", ANSWER_SETS[name]) for name in RENDERED_SETS}


@pytest.fixture
def repo(rendered: dict[str, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered["defaults"], tmp_path / "repo"))


@pytest.fixture
def application(rendered: dict[str, Path]) -> Obj:
    objects = argo_objects(rendered["defaults"])
    dev = (obj for path, obj in objects if path == "argocd/apps/myapp/dev.yaml")
    return copy.deepcopy(next(obj for obj in dev if obj["kind"] == "Application"))


@pytest.fixture
def project(rendered: dict[str, Path]) -> Obj:
    objects = argo_objects(rendered["defaults"])
    return copy.deepcopy(next(obj for _, obj in objects if obj["kind"] == "AppProject"))


def sample(rendered: dict[str, Path], kind: str) -> Obj:
    name, relative = SAMPLES[kind]
    obj = yaml.safe_load((rendered[name] / relative).read_text())
    assert obj["kind"] == kind
    return copy.deepcopy(obj)


# --------------------------------------------------------------------------- vendored CRDs

# | `here` | `in the repository` | `git blob` | `sha256` or nothing |
SOURCE_ROW = re.compile(r"^\s*\| `([^`]+)` \| `([^`]+)` \| `([0-9a-f]{40})` \|\s*(?:`([0-9a-f]{64})`)?\s*\|$")


@pytest.mark.parametrize("group", GROUPS)
def test_vendored_files_are_byte_for_byte_what_source_md_says(group: str) -> None:
    rows = [SOURCE_ROW.match(line) for line in (CRDS / group / "SOURCE.md").read_text().splitlines()]
    listed = {row[1]: (row[3], row[4]) for row in rows if row}
    assert set(listed) == {path.name for path in (CRDS / group).iterdir()} - {"SOURCE.md"}
    for name, (blob, sha256) in listed.items():
        data = (CRDS / group / name).read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob, name
        assert sha256 is None or hashlib.sha256(data).hexdigest() == sha256, name
        if name.endswith(".yaml"):
            assert sha256, f"{name}: a CRD needs its sha256 in SOURCE.md"
            crd = yaml.safe_load(data)
            assert (crd["apiVersion"], crd["kind"]) == ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
            assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.{group}"


def test_every_schema_is_derived_from_a_vendored_crd() -> None:
    assert sorted(path.name for path in ALL_SCHEMAS.iterdir() if path.is_dir()) == GROUPS
    for path in sorted(ALL_SCHEMAS.glob("*/*.json")):
        source = json.loads(path.read_text())["$comment"].split(" from ")[1].split(";")[0]
        assert source.startswith(f"crds/{path.parent.name}/") and (TEMPLATE_ROOT / source).is_file()
        assert "scripts/derive_crd_schemas.py" in (path.parent / "SOURCE.md").read_text(), path


# --------------------------------------------------------------------------- derivation


def test_committed_schemas_match_the_crds() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_check_fails_on_a_differing_schema_and_regeneration_restores_it(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts")
    shutil.copytree(CRDS, tmp_path / "crds")
    schemas = tmp_path / "template" / "tools" / "schemas"
    shutil.copytree(ALL_SCHEMAS, schemas)
    script = [sys.executable, str(tmp_path / "scripts" / SCRIPT.name)]
    committed = (schemas / "argoproj.io" / "Application.json").read_text()
    (schemas / "argoproj.io" / "Application.json").write_text(committed.replace('"integer"', '"number"', 1))
    (schemas / "kyverno.io" / "ClusterPolicy.json").unlink()
    (schemas / "example.com").mkdir()
    (schemas / "example.com" / "Frozen.json").write_text("{}\n")  # what no vendored CRD gives

    result = subprocess.run([*script, "--check"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"template/tools/schemas/{name}.json: differs from what crds/ gives;"
        " run python scripts/derive_crd_schemas.py"
        for name in ("argoproj.io/Application", "example.com/Frozen", "kyverno.io/ClusterPolicy")
    ]
    result = subprocess.run(script, capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "wrote template/tools/schemas/argoproj.io/Application.json",
        "removed template/tools/schemas/example.com/Frozen.json",
        "wrote template/tools/schemas/kyverno.io/ClusterPolicy.json",
    ]
    for path in ALL_SCHEMAS.glob("*/*.json"):
        assert (schemas / path.relative_to(ALL_SCHEMAS)).read_text() == path.read_text(), path
    assert not list((schemas / "example.com").iterdir())
    assert subprocess.run([*script, "--check"], capture_output=True).returncode == 0


def test_the_crds_only_enum_is_kept_and_enforced() -> None:
    """The Argo CD CRDs declare one enum, in `status` (which the schemas drop): the conversion keeps it."""
    crd = yaml.safe_load((CRDS / "argoproj.io" / "application-crd.yaml").read_text())
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    current = root["properties"]["status"]["properties"]["sourceHydrator"]["properties"]["currentOperation"]
    schema = derive_module().convert(current, "currentOperation")
    assert schema["properties"]["phase"]["enum"] == ["Hydrating", "Failed", "Hydrated"]
    validator = jsonschema.Draft202012Validator(schema)
    required = {key: "x" for key in schema.get("required", ())}
    assert not list(validator.iter_errors({**required, "phase": "Hydrated"}))
    errors = [error.message for error in validator.iter_errors({**required, "phase": "Done"})]
    assert errors == ["'Done' is not one of ['Hydrating', 'Failed', 'Hydrated']"]


def test_keywords_translate() -> None:
    convert = derive_module().convert
    assert convert({"type": "string", "enum": ["a"], "nullable": True}, "x") == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    int_or_string = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    assert convert(int_or_string, "x") == {"oneOf": [{"type": "integer"}, {"type": "string"}]}
    assert (
        convert({"type": "object", "properties": {"a": {"type": "string"}}}, "x")["additionalProperties"]
        is False
    )
    free = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert convert(free, "x") == {"type": "object"}
    # A set rejects a repeated item in the API server too; an atomic or map list does not.
    assert convert({"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}, "x") == {
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
    }
    assert "uniqueItems" not in convert({"type": "array", "x-kubernetes-list-type": "atomic"}, "x")
    # CEL rules and defaults are left to the API server (dropped, not failed on).
    cel = {"type": "string", "default": "a", "x-kubernetes-validations": [{"rule": "self != 'b'"}]}
    assert convert(cel, "x") == {"type": "string"}
    with pytest.raises(ValueError, match=r"x\.spec: unknown keywords \['x-kubernetes-embedded-resource'\]"):
        convert({"properties": {"spec": {"type": "object", "x-kubernetes-embedded-resource": True}}}, "x")


# --------------------------------------------------------------------------- what the template generates


@pytest.mark.parametrize("name", RENDERED_SETS)
def test_every_generated_argo_object_validates(rendered: dict[str, Path], name: str) -> None:
    objects = argo_objects(rendered[name])
    assert {obj["kind"] for _, obj in objects} == {"Application", "AppProject"}
    for path, obj in objects:
        assert schema_problems(obj) == [], path


def test_every_generated_custom_object_validates(rendered: dict[str, Path]) -> None:
    kinds = set()
    for name in RENDERED_SETS:
        for path, obj in derived_objects(rendered[name]):
            assert schema_problems(obj) == [], f"{name}: {path}"
            kinds.add(f"{obj['apiVersion']} {obj['kind']}")
    # Each derived schema is met, at the apiVersion the template renders.
    titles = {json.loads(path.read_text())["title"] for path in ALL_SCHEMAS.glob("*/*.json")}
    assert kinds == titles


# --------------------------------------------------------------------------- rejections


def nested(obj: Obj, dotted: str) -> Obj:
    for key in dotted.split("."):
        obj = obj.setdefault(key, {})
    return obj


# What the old, TypeScript-derived schemas rejected too.
KEPT_REJECTIONS = {
    "unknown-top-level-field": (lambda obj: obj.update(extra=1), "(top level)"),
    "unknown-nested-field": (lambda obj: nested(obj, "spec.source").update(pathh="x"), "spec/source: "),
    "unknown-metadata-field": (lambda obj: obj["metadata"].update(labelz={}), "metadata: "),
    "status-is-controller-written": (lambda obj: obj.update(status={}), "'status' was unexpected"),
    "operation-is-controller-written": (lambda obj: obj.update(operation={}), "'operation' was unexpected"),
    "other-api-version": (lambda obj: obj.update(apiVersion="argoproj.io/v1beta1"), "apiVersion: "),
    # Rejected before as well, with `number` or `integer, string` in the message.
    "string-retry-limit": (
        lambda obj: nested(obj, "spec.syncPolicy.retry").update(limit="five"),
        "spec/syncPolicy/retry/limit: 'five' is not of type 'integer'",
    ),
    "fractional-kustomize-replica-count": (
        lambda obj: nested(obj, "spec.source.kustomize").update(replicas=[{"name": "web", "count": 1.5}]),
        "spec/source/kustomize/replicas/0/count: 1.5 is not valid under any of the given schemas",
    ),
}
# What only the CRD says: integers, not any number; its patterns and length limits.
NEW_REJECTIONS = {
    "fractional-retry-limit": (
        lambda obj: nested(obj, "spec.syncPolicy.retry").update(limit=2.5),
        "spec/syncPolicy/retry/limit: 2.5 is not of type 'integer'",
    ),
    "fractional-backoff-factor": (
        lambda obj: nested(obj, "spec.syncPolicy.retry.backoff").update(factor=1.5),
        "spec/syncPolicy/retry/backoff/factor: 1.5 is not of type 'integer'",
    ),
    "fractional-revision-history-limit": (
        lambda obj: obj["spec"].update(revisionHistoryLimit=9.5),
        "spec/revisionHistoryLimit: 9.5 is not of type 'integer'",
    ),
    "hydrator-sync-path-is-the-repo-root": (
        lambda obj: obj["spec"].update(
            sourceHydrator={
                "drySource": {"repoURL": "https://example.com/r.git", "targetRevision": "main", "path": "a"},
                "syncSource": {"targetBranch": "env/dev", "path": "."},
            }
        ),
        "spec/sourceHydrator/syncSource/path: '.' does not match",
    ),
}


@pytest.mark.parametrize("case", sorted(KEPT_REJECTIONS | NEW_REJECTIONS), ids=str)
def test_application_rejection(application: Obj, case: str) -> None:
    assert schema_problems(application) == []
    mutate, reason = (KEPT_REJECTIONS | NEW_REJECTIONS)[case]
    mutate(application)
    problems = schema_problems(application)
    assert len(problems) == 1 and reason in problems[0], problems


def test_project_rejections(project: Obj) -> None:
    assert schema_problems(project) == []
    project["spec"]["description"] = "x" * 256
    project["spec"]["roles"] = [{"name": "ci", "jwtTokens": [{"iat": 1.5}]}]
    assert schema_problems(project) == [
        f"spec/description: '{'x' * 256}' is too long",
        "spec/roles/0/jwtTokens/0/iat: 1.5 is not of type 'integer'",
    ]


# The same strictness for every other derived kind: unknown fields at any depth, no status,
# only the version the template renders.
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_other_kinds_reject_unknown_fields_status_and_other_versions(
    rendered: dict[str, Path], kind: str
) -> None:
    obj = sample(rendered, kind)
    group, _, version = obj["apiVersion"].rpartition("/")
    obj["spec"]["extra"] = 1
    obj["status"] = {}
    obj["metadata"]["labelz"] = {}
    obj["apiVersion"] = f"{group}/v0"
    problems = schema_problems(obj)
    assert [problem.partition(":")[0] for problem in problems] == [
        "(top level)",
        "apiVersion",
        "metadata",
        "spec",
    ]
    assert f"'{group}/{version}' was expected" in problems[1]


def first(obj: Obj, dotted: str) -> Obj:
    """The object at `a.b.0.c` (list items by index)."""
    for key in dotted.split("."):
        obj = obj[int(key)] if key.isdigit() else obj[key]
    return obj


Mutation = Callable[[Obj], None]
# Each proves that a fact of the CRD is kept. The old schemas accepted all but the SealedSecret
# ones (that CRD says little beyond types and required fields): numbers for integers, any string
# for patterns and most enums, none of the limits, experimental fields or structural checks.
CRD_REJECTIONS: dict[str, tuple[str, Mutation, str]] = {
    "httproute-port-out-of-range": (
        "HTTPRoute",
        lambda obj: first(obj, "spec.rules.0.backendRefs.0").update(port=70000),
        "spec/rules/0/backendRefs/0/port: 70000 is greater than the maximum of 65535",
    ),
    "httproute-uppercase-hostname": (
        "HTTPRoute",
        lambda obj: obj["spec"].update(hostnames=["Pay.Example.com"]),
        "spec/hostnames/0: 'Pay.Example.com' does not match",
    ),
    "httproute-experimental-retry": (
        "HTTPRoute",
        lambda obj: first(obj, "spec.rules.0").update(retry={"attempts": 2}),
        "spec/rules/0: Additional properties are not allowed ('retry' was unexpected)",
    ),
    "servicemonitor-interval-not-a-duration": (
        "ServiceMonitor",
        lambda obj: first(obj, "spec.endpoints.0").update(interval="30 seconds"),
        "spec/endpoints/0/interval: '30 seconds' does not match",
    ),
    "servicemonitor-negative-sample-limit": (
        "ServiceMonitor",
        lambda obj: obj["spec"].update(sampleLimit=-1),
        "spec/sampleLimit: -1 is less than the minimum of 0",
    ),
    "servicemonitor-fractional-sample-limit": (
        "ServiceMonitor",
        lambda obj: obj["spec"].update(sampleLimit=1.5),
        "spec/sampleLimit: 1.5 is not of type 'integer'",
    ),
    "servicemonitor-repeated-scrape-protocol": (
        "ServiceMonitor",
        lambda obj: obj["spec"].update(scrapeProtocols=["PrometheusProto", "PrometheusProto"]),
        "spec/scrapeProtocols: ['PrometheusProto', 'PrometheusProto'] has non-unique elements",
    ),
    "externalsecret-key-outside-the-pattern": (
        "ExternalSecret",
        lambda obj: first(obj, "spec.data.0").update(secretKey="bad key!"),
        "spec/data/0/secretKey: 'bad key!' does not match '^[-._a-zA-Z0-9]+$'",
    ),
    "externalsecret-uppercase-store-name": (
        "ExternalSecret",
        lambda obj: obj["spec"]["secretStoreRef"].update(name="Vault"),
        "spec/secretStoreRef/name: 'Vault' does not match",
    ),
    "externalsecret-two-sources": (
        "ExternalSecret",
        lambda obj: first(obj, "spec.data.0").update(
            sourceRef={"storeRef": {"name": "a"}, "generatorRef": {"kind": "Password", "name": "b"}}
        ),
        "spec/data/0/sourceRef: has too many properties",
    ),
    "sealedsecret-encrypted-value-not-a-string": (
        "SealedSecret",
        lambda obj: obj["spec"]["encryptedData"].update(API_TOKEN=1),
        "spec/encryptedData/API_TOKEN: 1 is not of type 'string'",
    ),
    "sealedsecret-immutable-not-a-boolean": (
        "SealedSecret",
        lambda obj: obj["spec"]["template"].update(immutable="yes"),
        "spec/template/immutable: 'yes' is not of type 'boolean'",
    ),
    "sealedsecret-without-encrypted-data": (
        "SealedSecret",
        lambda obj: obj["spec"].pop("encryptedData"),
        "spec: 'encryptedData' is a required property",
    ),
    "clusterpolicy-lowercase-failure-action": (
        "ClusterPolicy",
        lambda obj: first(obj, "spec.rules.0.verifyImages.0").update(failureAction="enforce"),
        "spec/rules/0/verifyImages/0/failureAction: 'enforce' is not one of ['Audit', 'Enforce']",
    ),
    "clusterpolicy-fractional-timeout": (
        "ClusterPolicy",
        lambda obj: obj["spec"]["webhookConfiguration"].update(timeoutSeconds=1.5),
        "spec/webhookConfiguration/timeoutSeconds: 1.5 is not of type 'integer'",
    ),
    "clusterpolicy-no-attestor-count": (
        "ClusterPolicy",
        lambda obj: first(obj, "spec.rules.0.verifyImages.0.attestors.0").update(count=0),
        "spec/rules/0/verifyImages/0/attestors/0/count: 0 is less than the minimum of 1",
    ),
    "clusterpolicy-match-any-and-all": (
        "ClusterPolicy",
        lambda obj: first(obj, "spec.rules.0.match").update(all=[{"resources": {"kinds": ["Pod"]}}]),
        "spec/rules/0/match: should not be valid under {'required': ['any', 'all']}",
    ),
    "clusterpolicy-context-with-two-sources": (
        "ClusterPolicy",
        lambda obj: first(obj, "spec.rules.0").update(
            context=[{"name": "x", "variable": {"value": 1}, "apiCall": {"urlPath": "/"}}]
        ),
        "spec/rules/0/context/0: is valid under each of {'required': ['variable']}, {'required': ['apiCall",
    ),
}


@pytest.mark.parametrize("case", sorted(CRD_REJECTIONS), ids=str)
def test_crd_rejection(rendered: dict[str, Path], case: str) -> None:
    kind, mutate, reason = CRD_REJECTIONS[case]
    obj = sample(rendered, kind)
    assert schema_problems(obj) == []
    mutate(obj)
    problems = schema_problems(obj)
    where, _, message = reason.partition(": ")
    assert len(problems) == 1 and problems[0].startswith(f"{where}: ") and message in problems[0], problems


def test_what_the_crd_allows_is_accepted(application: Obj) -> None:
    """Free-form Helm values, int-or-string replica counts and a valid hydrator path pass."""
    application["spec"]["source"]["helm"] = {"valuesObject": {"any": {"nested": ["value", 1]}}}
    application["spec"]["source"]["kustomize"] = {
        "replicas": [{"name": "a", "count": 2}, {"name": "b", "count": "3"}]
    }
    application["spec"]["revisionHistoryLimit"] = 10
    application["metadata"]["creationTimestamp"] = None
    assert schema_problems(application) == []


# Updates (dotted path: fields) that the CRDs allow, each to a rendered object of its kind.
CRD_ACCEPTANCES: dict[str, tuple[str, dict[str, Obj]]] = {
    "httproute-wildcard-host-and-path-match": (
        "HTTPRoute",
        {
            "spec": {"hostnames": ["*.example.com"]},
            "spec.rules.0": {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}]},
        },
    ),
    "servicemonitor-target-port-number-or-name": (
        "ServiceMonitor",
        {"spec": {"endpoints": [{"targetPort": 8080}, {"targetPort": "metrics", "scheme": "HTTPS"}]}},
    ),
    "externalsecret-template-and-refresh-policy": (
        "ExternalSecret",
        {
            "spec": {"refreshPolicy": "Periodic"},
            "spec.target": {"template": {"type": "Opaque", "data": {"url": "{{ .url }}"}}},
        },
    ),
    # The CRD keeps unknown fields of a template's metadata and lets its data be null.
    "sealedsecret-open-template-metadata": (
        "SealedSecret",
        {"spec.template": {"data": None, "metadata": {"name": "web", "generation": 1}}},
    ),
    "clusterpolicy-free-form-pattern": (
        "ClusterPolicy",
        {"spec.rules.0": {"validate": {"message": "m", "pattern": {"spec": {"=(hostNetwork)": False}}}}},
    ),
}


@pytest.mark.parametrize("case", sorted(CRD_ACCEPTANCES), ids=str)
def test_what_the_other_crds_allow_is_accepted(rendered: dict[str, Path], case: str) -> None:
    kind, updates = CRD_ACCEPTANCES[case]
    obj = sample(rendered, kind)
    for where, fields in updates.items():
        first(obj, where).update(fields)
    assert schema_problems(obj) == []


# --------------------------------------------------------------------------- through tools/gitops validate


VALIDATE_CASES = {
    "string-revision-history-limit": (
        "spec:\n  project:",
        "spec:\n  revisionHistoryLimit: ten\n  project:",
        "spec/revisionHistoryLimit: 'ten' is not of type 'integer'",
    ),
    "string-retry-limit": (
        "limit: 5",
        "limit: five",
        "spec/syncPolicy/retry/limit: 'five' is not of type 'integer'",
    ),
    "fractional-backoff-factor": (
        "factor: 2",
        "factor: 1.5",
        "spec/syncPolicy/retry/backoff/factor: 1.5 is not of type 'integer'",
    ),
    # The CRD declares no enum for fields a repository sets; its pattern is the restricted value.
    "hydrator-path-outside-the-pattern": (
        "spec:\n  project:",
        "spec:\n  sourceHydrator:\n    drySource: {repoURL: x, targetRevision: main, path: a}\n"
        "    syncSource: {targetBranch: env, path: /}\n  project:",
        "spec/sourceHydrator/syncSource/path: '/' does not match",
    ),
}


@pytest.mark.parametrize("case", sorted(VALIDATE_CASES), ids=str)
def test_validate_names_the_file_and_field(repo: Path, case: str) -> None:
    old, new, reason = VALIDATE_CASES[case]
    edit(repo, "argocd/apps/myapp/dev.yaml", old, new)
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if reason in line]
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith(f"argocd/apps/myapp/dev.yaml: Application/myapp-dev: {reason}"), result.stdout


# One edit per derived kind, in the two repositories that render them: validate builds every
# overlay and names each problem once per overlay that holds the object.
OVERLAY_CASES = {
    "hardened-gateway": {
        "environments/prod/payments/httproute.yaml": ("port: 80", "port: 70000"),
        "environments/prod/payments/externalsecret.yaml": ("creationPolicy: Owner", "creationPolicy: Own"),
        "applications/base/payments/servicemonitor.yaml": ("interval: 30s", "interval: 30 seconds"),
        "platform/policies/verify-image-signatures.yaml": ("timeoutSeconds: 30", "timeoutSeconds: 1.5"),
    },
    "exposed-ingress": {
        "environments/dev/web/sealedsecret.yaml": ("type: Opaque", "type: Opaque\n    immutable: maybe"),
    },
}
INTERVAL = "spec/endpoints/0/interval: '30 seconds' does not match"
OVERLAY_PROBLEMS = {  # (overlay, object, the start of the reason), in validate's order
    "hardened-gateway": [
        ("environments/dev/payments", "ServiceMonitor/payments", INTERVAL),
        ("environments/prod/payments", "ExternalSecret/payments", "spec/target/creationPolicy: 'Own' is not"),
        (
            "environments/prod/payments",
            "HTTPRoute/payments",
            "spec/rules/0/backendRefs/0/port: 70000 is greater",
        ),
        ("environments/prod/payments", "ServiceMonitor/payments", INTERVAL),
        ("environments/staging/payments", "ServiceMonitor/payments", INTERVAL),
        (
            "platform/policies",
            "ClusterPolicy/verify-image-signatures",
            "spec/webhookConfiguration/timeoutSeconds: 1.5 is not of type 'integer'",
        ),
    ],
    "exposed-ingress": [
        (
            "environments/dev/web",
            "SealedSecret/web",
            "spec/template/immutable: 'maybe' is not of type 'boolean'",
        ),
    ],
}


@pytest.mark.parametrize("name", sorted(OVERLAY_CASES))
def test_validate_names_the_overlay_kind_and_field(
    rendered: dict[str, Path], tmp_path: Path, name: str
) -> None:
    repo = Path(shutil.copytree(rendered[name], tmp_path / "repo"))
    for relative, (old, new) in OVERLAY_CASES[name].items():
        edit(repo, relative, old, new)
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if ": spec/" in line]
    assert len(lines) == len(OVERLAY_PROBLEMS[name]), result.stdout
    for line, (overlay, obj, reason) in zip(lines, OVERLAY_PROBLEMS[name], strict=True):
        assert line.startswith(f"{overlay}: {obj}: {reason}"), result.stdout
