"""gitopslib/argocd_objects.py: the YAML under argocd/ is read as Argo CD reads it, or refused."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from gitopslib.argocd_objects import ARGO_API, C_LOADER, ArgoObjects, Located, load_documents

# Both readers: libyaml's (what validate takes where PyYAML has it, as its wheels do) and the
# pure-Python one (a PyYAML built without libyaml).
READERS = pytest.mark.parametrize("fast", [True, False], ids=["libyaml", "pure-python"])


def test_libyaml_is_here_so_both_readers_are_tested() -> None:
    assert C_LOADER is not None


def load_all(text: str, fast: bool = True) -> list[Any]:
    return load_documents(text, fast)


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
@READERS
def test_anchors_aliases_and_merge_keys_are_refused(text: str, reason: str, fast: bool) -> None:
    with pytest.raises(yaml.constructor.ConstructorError) as error:
        load_all(text, fast)
    assert error.value.problem == reason
    assert error.value.problem_mark is not None, "the message names the line"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # Go decodes the key to the label pod-security.kubernetes.io/enforce; PyYAML to bytes.
        ("labels:\n  !!binary cG9kLXNlY3VyaXR5Lmt1YmVybmV0ZXMuaW8vZW5mb3JjZQ==: privileged\n", "!!binary"),
        ("a: !!timestamp 2026-01-01\n", "!!timestamp"),
        ("a: !!set {x}\n", "!!set"),
        ("a: !custom x\n", "!custom"),
        ("- !!omap [{a: 1}]\n", "!!omap"),
    ],
)
@READERS
def test_tags_go_reads_otherwise_are_refused(text: str, shown: str, fast: bool) -> None:
    with pytest.raises(yaml.constructor.ConstructorError) as error:
        load_all(text, fast)
    assert error.value.problem == (
        f"the YAML tag {shown} is not allowed under argocd/: Argo CD's parser reads it otherwise"
    )


@READERS
def test_tags_read_alike_are_kept(fast: bool) -> None:
    text = "a: !!str 5\nb: !!int '7'\nc: ! x\nd: !!map {e: !!seq [!!null '', !!bool true, !!float 1]}\n"
    assert load_all(text, fast) == [yaml.safe_load(text)]


@READERS
def test_a_quoted_merge_key_is_a_plain_key(fast: bool) -> None:
    assert load_all('"<<": 1\n', fast) == [{"<<": 1}]


@READERS
def test_plain_documents_load_as_safe_load_reads_them(fast: bool) -> None:
    text = (
        "kind: AppProject\nmetadata:\n  name: shop-prod # a comment, not an anchor\n"
        "spec: {a: '&x', b: \"*y\", on: yes, n: 0o17, t: 2026-12-02}\n---\n---\n- [1, {c: null}]\n"
    )
    assert load_all(text, fast) == [doc for doc in yaml.safe_load_all(text) if doc is not None]


@READERS
def test_the_loader_still_refuses_python_tags(fast: bool) -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        load_all("!!python/object/apply:os.system ['true']\n", fast)


@READERS
def test_broken_yaml_is_a_yaml_error(fast: bool) -> None:
    with pytest.raises(yaml.YAMLError):
        load_all("a: [1\n", fast)


@pytest.mark.parametrize("text", ["a: 2024-02-30\n", "a: !!int abc\n", "a: !!bool maybe\n"])
@READERS
def test_a_value_that_cannot_be_constructed_is_a_yaml_error(text: str, fast: bool) -> None:
    """yaml.safe_load raises ValueError or KeyError for these, which validate used to let through."""
    with pytest.raises(yaml.constructor.ConstructorError, match="cannot read the"):
        load_all(text, fast)


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
