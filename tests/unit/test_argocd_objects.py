"""gitopslib/argocd_objects.py: the YAML under argocd/ is read as Argo CD reads it, or refused."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from gitopslib.argocd_objects import ARGO_API, ArgoObjects, Located, NoAliasLoader


def load_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=NoAliasLoader))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: &x 1\nb: *x\n", "anchors and aliases are not allowed under argocd/"),
        ("a: &x 1\n", "anchors and aliases are not allowed under argocd/"),  # an anchor alone
        ("spec: &spec\n  sourceRepos: ['*']\n", "anchors and aliases are not allowed under argocd/"),
        ("- &item x\n", "anchors and aliases are not allowed under argocd/"),
        # Go reads a merge key after a field as overriding it, PyYAML keeps the field: refused.
        (
            "spec:\n  sourceRepos: [a]\n  <<: {sourceRepos: ['*']}\n",
            "merge keys (<<) are not allowed under argocd/",
        ),
        ("kind: AppProject\n---\na: &x 1\n", "anchors and aliases are not allowed under argocd/"),
    ],
)
def test_anchors_aliases_and_merge_keys_are_refused(text: str, reason: str) -> None:
    with pytest.raises(yaml.constructor.ConstructorError) as error:
        load_all(text)
    assert error.value.problem == reason


def test_a_quoted_merge_key_is_a_plain_key() -> None:
    assert load_all('"<<": 1\n') == [{"<<": 1}]


def test_plain_documents_load_as_safe_load_reads_them() -> None:
    text = "kind: AppProject\nmetadata:\n  name: shop-prod # a comment, not an anchor\nspec: {a: '&x'}\n---\n"
    assert load_all(text) == list(yaml.safe_load_all(text))


def test_the_loader_still_refuses_python_tags() -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        load_all("!!python/object/apply:os.system ['true']\n")


def argo(kind: str, name: str, path: str, api: str = ARGO_API) -> Located:
    return Located(path, {"apiVersion": api, "kind": kind, "metadata": {"name": name}})


def test_objects_by_kind_place_and_name() -> None:
    shop = argo("AppProject", "shop-prod", "argocd/apps/shop/projects.yaml")
    app = argo("Application", "shop-prod", "argocd/apps/shop/prod.yaml")
    root = argo("Application", "root", "argocd/bootstrap/root.yaml")
    other_api = argo("AppProject", "shop-dev", "argocd/apps/shop/x.yaml", api="argoproj.io/v1beta1")
    found = ArgoObjects([shop, app, root, other_api])
    assert found.of_kind("Application") == [app, root]
    assert found.of_kind("Application", under="argocd/apps") == [app]
    assert found.of_kind("Application", under="argocd/app") == []  # a folder, not a prefix
    assert found.project("shop-prod") is shop
    assert found.project("shop-dev") is None  # not Argo CD's API


def test_located_name_and_kind_of_odd_objects() -> None:
    assert Located("a.yaml", {}).name == ""
    assert Located("a.yaml", {}).kind == ""
    assert Located("a.yaml", {"metadata": "x", "kind": 1}).name == ""
    assert Located("a.yaml", {"metadata": {"name": 5}, "kind": 1}).name == "5"
