"""The Argo CD schemas derived from the vendored CRDs (scripts/derive_crd_schemas.py).

They accept every Argo CD object the template generates, reject what the old schemas rejected
(unknown fields at any depth, controller-written fields, other kinds or versions), and also
what only the CRD says: integer types, patterns and length limits. `--check` keeps the
committed schemas equal to what the CRDs give.
"""

from __future__ import annotations

import copy
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from tests.answer_sets import ANSWER_SETS
from tests.conftest import TEMPLATE_ROOT, render, run_gitops

sys.path.insert(0, str(TEMPLATE_ROOT / "template" / "tools"))
from gitopslib.schemas import schema_problems

SCRIPT = TEMPLATE_ROOT / "scripts" / "derive_crd_schemas.py"
CRDS = TEMPLATE_ROOT / "crds"
SCHEMAS = TEMPLATE_ROOT / "template" / "tools" / "schemas" / "argoproj.io"
RENDERED_SETS = ("defaults", "all-on", "all-off", "four-envs-registry")


def derive_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_crd_schemas", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def argo_objects(repo: Path) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((repo / "argocd").rglob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            if isinstance(obj, dict) and str(obj.get("apiVersion", "")).startswith("argoproj.io/"):
                found.append((path.relative_to(repo).as_posix(), obj))
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: render(tmp_path_factory.mktemp(name) / "repo", ANSWER_SETS[name]) for name in RENDERED_SETS}


@pytest.fixture
def repo(rendered: dict[str, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered["defaults"], tmp_path / "repo"))


@pytest.fixture
def application(rendered: dict[str, Path]) -> dict[str, Any]:
    objects = argo_objects(rendered["defaults"])
    dev = (obj for path, obj in objects if path == "argocd/apps/myapp/dev.yaml")
    return copy.deepcopy(next(obj for obj in dev if obj["kind"] == "Application"))


@pytest.fixture
def project(rendered: dict[str, Path]) -> dict[str, Any]:
    objects = argo_objects(rendered["defaults"])
    return copy.deepcopy(next(obj for _, obj in objects if obj["kind"] == "AppProject"))


# --------------------------------------------------------------------------- derivation


def test_committed_schemas_match_the_crds() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_check_fails_on_a_differing_schema_and_regeneration_restores_it(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts")
    shutil.copytree(CRDS, tmp_path / "crds")
    schemas = tmp_path / "template" / "tools" / "schemas" / "argoproj.io"
    shutil.copytree(SCHEMAS, schemas)
    script = [sys.executable, str(tmp_path / "scripts" / SCRIPT.name)]
    committed = (schemas / "Application.json").read_text()
    (schemas / "Application.json").write_text(committed.replace('"integer"', '"number"', 1))
    (schemas / "AppProject.json").unlink()

    result = subprocess.run([*script, "--check"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"template/tools/schemas/argoproj.io/{kind}.json: differs from what its CRD gives;"
        " run python scripts/derive_crd_schemas.py"
        for kind in ("Application", "AppProject")
    ]
    assert subprocess.run(script, capture_output=True).returncode == 0
    assert (schemas / "Application.json").read_text() == committed
    assert (schemas / "AppProject.json").read_text() == (SCHEMAS / "AppProject.json").read_text()
    assert subprocess.run([*script, "--check"], capture_output=True).returncode == 0


def test_the_crds_only_enum_is_kept_and_enforced() -> None:
    """The CRDs declare one enum, in `status` (which the schemas drop): the conversion keeps it."""
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


def test_nullable_and_int_or_string_translate() -> None:
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
    with pytest.raises(ValueError, match="unknown keywords"):
        convert({"type": "string", "x-kubernetes-validations": []}, "x")


# --------------------------------------------------------------------------- what the template generates


@pytest.mark.parametrize("name", RENDERED_SETS)
def test_every_generated_argo_object_validates(rendered: dict[str, Path], name: str) -> None:
    objects = argo_objects(rendered[name])
    assert {obj["kind"] for _, obj in objects} == {"Application", "AppProject"}
    for path, obj in objects:
        assert schema_problems(obj) == [], path


# --------------------------------------------------------------------------- rejections


def nested(obj: dict[str, Any], dotted: str) -> dict[str, Any]:
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
def test_application_rejection(application: dict[str, Any], case: str) -> None:
    assert schema_problems(application) == []
    mutate, reason = (KEPT_REJECTIONS | NEW_REJECTIONS)[case]
    mutate(application)
    problems = schema_problems(application)
    assert len(problems) == 1 and reason in problems[0], problems


def test_project_rejections(project: dict[str, Any]) -> None:
    assert schema_problems(project) == []
    project["spec"]["description"] = "x" * 256
    project["spec"]["roles"] = [{"name": "ci", "jwtTokens": [{"iat": 1.5}]}]
    assert schema_problems(project) == [
        f"spec/description: '{'x' * 256}' is too long",
        "spec/roles/0/jwtTokens/0/iat: 1.5 is not of type 'integer'",
    ]


def test_what_the_crd_allows_is_accepted(application: dict[str, Any]) -> None:
    """Free-form Helm values, int-or-string replica counts and a valid hydrator path pass."""
    application["spec"]["source"]["helm"] = {"valuesObject": {"any": {"nested": ["value", 1]}}}
    application["spec"]["source"]["kustomize"] = {
        "replicas": [{"name": "a", "count": 2}, {"name": "b", "count": "3"}]
    }
    application["spec"]["revisionHistoryLimit"] = 10
    application["metadata"]["creationTimestamp"] = None
    assert schema_problems(application) == []


# --------------------------------------------------------------------------- through tools/gitops validate


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    path = repo / relative
    text = path.read_text()
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1))


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
