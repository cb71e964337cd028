"""gitopslib/schemas.py: strict schemas, so that a misspelt field is an error and not dropped."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gitopslib import schemas
from gitopslib.errors import BrokenFileError
from gitopslib.schemas import schema_problems


def config_map(**extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"a": "b"},
        **extra,
    }


def test_valid_builtin_object_has_no_problem() -> None:
    assert schema_problems(config_map()) == []


def test_unknown_field_is_an_error_at_its_place() -> None:
    assert schema_problems(config_map(datta={"a": "b"})) == [
        "(top level): Additional properties are not allowed ('datta' was unexpected)"
    ]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop"},
        "spec": {"replicas": "3", "selector": {}, "template": {}},
    }
    assert schema_problems(deployment) == ["spec/replicas: '3' is not of type 'integer', 'null'"]


def test_argo_cd_kinds_use_the_schemas_shipped_under_tools() -> None:
    project = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": "shop-prod"}}
    assert schema_problems({**project, "spec": {"sourceRepos": ["https://example.com/g.git"]}}) == []
    assert schema_problems({**project, "spec": {"sourceRepo": ["https://example.com/g.git"]}}) == [
        "spec: Additional properties are not allowed ('sourceRepo' was unexpected)"
    ]


def test_problems_are_sorted_by_place() -> None:
    found = schema_problems(config_map(zeta=1, metadata={"name": "x", "labelz": {}}, alpha=2))
    assert [problem.split(":")[0] for problem in found] == ["(top level)", "metadata"]


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        (
            {"apiVersion": "example.com/v1", "kind": "Widget"},
            "no schema for example.com/v1 Widget: add one as tools/schemas/example.com/Widget.json",
        ),
        (
            {"apiVersion": "v1", "kind": "Gadget"},
            "no schema for v1 Gadget: add one as tools/schemas/core/Gadget.json",
        ),
        # A kind or group that is no file name never reads a file outside tools/schemas/.
        (
            {"apiVersion": "../argoproj.io/v1alpha1", "kind": "AppProject"},
            "no schema for ../argoproj.io/v1alpha1",
        ),
        ({"apiVersion": "argoproj.io/v1alpha1", "kind": "../argoproj.io/AppProject"}, "no schema for"),
    ],
)
def test_kind_without_schema_says_where_to_add_one(obj: dict[str, Any], problem: str) -> None:
    [found] = schema_problems(obj)
    assert found.startswith(problem)


@pytest.mark.parametrize("obj", [None, [], "kind: ConfigMap", {"kind": "ConfigMap"}, {"apiVersion": "v1"}])
def test_not_a_kubernetes_object(obj: object) -> None:
    assert schema_problems(obj) == ["not a Kubernetes object (apiVersion and kind are required)"]


@pytest.fixture
def schema_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """tools/schemas/ of a repository with one schema of the team's own (its caches emptied)."""
    directory = tmp_path / "tools" / "schemas"
    shutil.copytree(schemas.TOOLS_SCHEMAS, directory)
    monkeypatch.setattr(schemas, "TOOLS_SCHEMAS", directory)
    for cached in (schemas._validator, schemas._checked_sums):
        cached.cache_clear()
    yield directory
    for cached in (schemas._validator, schemas._checked_sums):
        cached.cache_clear()


WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": 1, "sise": 2}}


def write_widget_schema(schema_dir: Path, additional: object) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"size": {}}, "additionalProperties": additional}
        },
    }
    (schema_dir / "example.com").mkdir()
    (schema_dir / "example.com" / "Widget.json").write_text(json.dumps(schema))


def test_a_schema_the_template_did_not_derive_is_checked_before_use(schema_dir: Path) -> None:
    """A schema that is wrong without failing (a string where JSON Schema wants a boolean) would
    let every misspelt field through: it is refused, naming the file."""
    write_widget_schema(schema_dir, "false")
    with pytest.raises(BrokenFileError) as refused:
        schema_problems(WIDGET)
    assert refused.value.path.endswith("tools/schemas/example.com/Widget.json")
    assert refused.value.reason.startswith("not a valid JSON Schema: 'false' is not of type")


def test_a_sound_schema_of_the_team_is_used(schema_dir: Path) -> None:
    write_widget_schema(schema_dir, False)
    assert schema_problems(WIDGET) == ["spec: Additional properties are not allowed ('sise' was unexpected)"]


def test_every_shipped_schema_is_listed_as_checked() -> None:
    listed = {line.split()[1] for line in (schemas.TOOLS_SCHEMAS / "SHA256SUMS").read_text().splitlines()}
    shipped = {
        path.relative_to(schemas.TOOLS_SCHEMAS).as_posix() for path in schemas.TOOLS_SCHEMAS.glob("*/*.json")
    }
    assert listed == shipped
