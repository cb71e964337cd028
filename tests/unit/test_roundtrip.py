"""gitopslib/roundtrip.py: promotion rewrites YAML files and keeps what users wrote in them."""

from __future__ import annotations

from typing import Any

import pytest
from gitopslib.roundtrip import YAMLError, assign, dump, load

KUSTOMIZATION = """\
# Release of shop in prod: tools/gitops promote rewrites this file.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: ghcr.io/example/shop  # the app's image
    newTag: "1.2.0"
labels:
  - pairs:
      team: shop
replicas:
  - name: shop
    count: 3
"""


def test_a_file_as_the_template_writes_it_round_trips_unchanged() -> None:
    assert dump(load(KUSTOMIZATION)) == KUSTOMIZATION


def test_assign_changes_only_what_differs_and_keeps_comments_and_quotes() -> None:
    document = load(KUSTOMIZATION)
    wanted: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "images": [{"name": "ghcr.io/example/shop", "newTag": "1.3.0"}],
        "labels": [{"pairs": {"team": "shop"}}],
        "replicas": [{"name": "shop", "count": 3}],
    }
    assert assign(document, wanted) is document
    assert dump(document) == KUSTOMIZATION.replace('newTag: "1.2.0"', 'newTag: "1.3.0"')


def test_assign_drops_keys_the_source_lacks_and_adds_new_ones_at_the_end() -> None:
    document = load("a: 1  # kept\nb: 2  # dropped with its key\n")
    assign(document, {"a": 1, "c": {"d": [1, 2]}})
    assert dump(document) == "a: 1  # kept\nc:\n  d:\n    - 1\n    - 2\n"


def test_a_list_of_another_length_is_replaced() -> None:
    document = load("images:\n  - name: a\n    newTag: '1'\n")
    assign(document, {"images": [{"name": "a", "newTag": "1"}, {"name": "b", "newTag": "2"}]})
    assert load(dump(document)) == {"images": [{"name": "a", "newTag": "1"}, {"name": "b", "newTag": "2"}]}


@pytest.mark.parametrize(("target", "source"), [(1, 2), ("a", {"b": 1}), ({"a": 1}, [1]), (None, "x")])
def test_assign_to_a_plain_value_gives_the_source(target: object, source: object) -> None:
    assert assign(target, source) == source


def test_load_raises_yaml_error_for_broken_yaml() -> None:
    with pytest.raises(YAMLError):
        load("a: [1, 2\n")
