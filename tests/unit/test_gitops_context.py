"""extensions/gitops_context.py, its pure helpers: per-environment defaults, quantities in the
answers, the namespace quota and the writable volumes. (The answers file it stores and the
unfinished-update marker are under change; tests/test_update_* cover them end to end.)"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from gitopslib.quantities import parse_quantity
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from extensions import gitops_context as context
from tests.unit.properties import PROPERTY

# The defaults the `resources` question's help promises, in the order of the environments.
FIRST = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "128Mi"}}
MIDDLE = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
LAST = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@pytest.mark.parametrize(("count", "replicas"), [(1, [1]), (2, [1, 3]), (3, [1, 2, 3]), (5, [1, 2, 2, 2, 3])])
def test_positional_replicas_small_first_large_last(count: int, replicas: list[int]) -> None:
    assert [context.positional_replicas(position, count) for position in range(count)] == replicas


def test_positional_resources_and_overrides() -> None:
    assert [context.positional_resources(p, 3, None) for p in range(3)] == [FIRST, MIDDLE, LAST]
    assert context.positional_resources(0, 1, None) == FIRST  # one environment: the first size
    given = {"limits": {"cpu": 2, "memory": "1Gi"}, "requests": {"cpu": 0.5}}
    assert context.positional_resources(2, 3, given) == {
        "requests": {"cpu": "0.5", "memory": "256Mi"},
        "limits": {"cpu": "2", "memory": "1Gi"},
    }
    assert context.positional_resources(2, 3, None) == LAST  # the defaults are not changed by a merge


@pytest.mark.parametrize(
    ("amount", "value"),
    [
        ("500m", Decimal("0.5")),
        (0.5, Decimal("0.5")),
        (2, Decimal(2)),
        ("1Gi", Decimal(2**30)),
        ("256Mi", Decimal(2**28)),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("1k", Decimal(1000)),
        (".5", Decimal("0.5")),
        ("-1", Decimal(-1)),
        (str(2**53 - 1), Decimal(2**53 - 1)),
    ],
)
def test_quantity_values(amount: Any, value: Decimal) -> None:
    assert context.quantity_value(amount) == value


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("lots", "not a Kubernetes quantity"),
        ("1.5.5", "not a Kubernetes quantity"),
        ("128MiB", "not a Kubernetes quantity"),
        ("", "not a Kubernetes quantity"),
        (True, "not a Kubernetes quantity"),
        (None, "not a Kubernetes quantity"),
        ([1], "not a Kubernetes quantity"),
        (str(2**53), "larger than Kubernetes stores"),
        ("8Pi", "larger than Kubernetes stores"),
    ],
)
def test_not_quantity_values(amount: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        context.quantity_value(amount)


def test_exa_suffix() -> None:
    assert context.quantity_value("0.001E") == Decimal(10**15)


@PROPERTY
@given(
    number=st.integers(min_value=0, max_value=10**6),
    suffix=st.sampled_from(
        [
            ("m", Decimal("0.001")),
            ("", Decimal(1)),
            ("k", Decimal(1000)),
            ("Ki", Decimal(1024)),
            ("Mi", Decimal(2**20)),
            ("M", Decimal(10**6)),
        ]
    ),
)
def test_answers_and_validate_read_a_quantity_alike(number: int, suffix: tuple[str, Decimal]) -> None:
    """The answer's check (this module) and validate's (gitopslib/quantities.py) must agree."""
    text = f"{number}{suffix[0]}"
    assert context.quantity_value(text) == number * suffix[1] == parse_quantity(text)


def test_resources_default_keeps_what_an_app_ran_before_the_question() -> None:
    assert context.resources_default({}, ["dev"]) == "{}"  # a first copy
    assert context.resources_default(None, ["dev"]) == "{}"
    assert context.resources_default({"app_name": "shop"}, ["dev"]) == "{}"  # not an answers file
    before = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}
    stored = json.loads(context.resources_default({"_commit": "v0.1.0"}, ["dev", "prod", 5]))
    assert stored == {"dev": before, "prod": before}
    assert context.resources_default({"_commit": "v0.1.0"}, "dev") == "{}"


@pytest.mark.parametrize(
    ("quantity", "factor", "resource", "scaled"),
    [
        ("250m", 8, "cpu", "2000m"),
        ("1", 3, "cpu", "3000m"),
        ("0.0001", 1, "cpu", "1m"),  # rounded up: a quota below the pods' needs would block them
        ("64Mi", 3, "memory", "192Mi"),
        ("1Gi", 2, "memory", "2048Mi"),
        ("100M", 1, "memory", "96Mi"),  # 100,000,000 bytes = 95.37 MiB
        ("1", 1, "memory", "1Mi"),
    ],
)
def test_scaled_quantities_round_up(quantity: str, factor: int, resource: str, scaled: str) -> None:
    assert context.scaled_quantity(quantity, factor, resource) == scaled


def test_namespace_quota_has_room_for_every_pod_twice_and_two_hooks() -> None:
    assert context.namespace_quota(LAST, 3) == {
        "pods": "8",
        "requests.cpu": "2000m",
        "requests.memory": "2048Mi",
        "limits.cpu": "8000m",
        "limits.memory": "4096Mi",
    }


@pytest.mark.parametrize(
    ("paths", "names"),
    [
        (["/tmp"], ["tmp"]),
        (["/var/cache/nginx", "/Tmp"], ["var-cache-nginx", "tmp"]),
        (["/var/cache", "/var-cache", "/var_cache"], ["var-cache", "var-cache-2", "var-cache-3"]),
        (["/", "/."], ["root", "root-2"]),
        (["/" + "v" * 70], ["v" * 63]),
        (["/" + "v" * 70, "/" + "v" * 70 + "/cache"], ["v" * 63, "v" * 61 + "-2"]),
        (["/" + "v" * 62 + "/x"], ["v" * 62]),  # cut before the '-': no trailing '-'
    ],
)
def test_writable_volume_names(paths: list[str], names: list[str]) -> None:
    assert context.writable_volumes(paths) == [
        {"name": n, "path": p} for n, p in zip(names, paths, strict=True)
    ]


@PROPERTY
@given(st.lists(st.from_regex(r"/[A-Za-z0-9._/-]{0,90}", fullmatch=True), unique=True, max_size=12))
def test_writable_volume_names_are_distinct_dns_labels(paths: list[str]) -> None:
    volumes = context.writable_volumes(paths)
    assert [v["path"] for v in volumes] == paths
    names = [v["name"] for v in volumes]
    assert len(set(names)) == len(names)
    assert all(len(name) <= 63 and DNS_LABEL.fullmatch(name) for name in names), names


ENVS = ["dev", "staging", "prod"]


@pytest.mark.parametrize(
    ("resources", "words"),
    [
        ({}, ""),
        ({"prod": {"requests": {"cpu": "1"}}}, ""),  # equal to the default limit
        (
            {"prod": {"requests": {"cpu": "1001m"}}},
            "resources: prod: requests.cpu 1001m is above limits.cpu 1",
        ),
        (
            {"dev": {"requests": {"memory": "129Mi"}}},
            "resources: dev: requests.memory 129Mi is above limits.memory 128Mi",
        ),
        ({"dev": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}}}, ""),  # both given
        ({"dev": {"requests": {"cpu": 0.1}, "limits": {"cpu": 0.2}}}, ""),
        ({"qa": {}}, "resources: 'qa' is not one of the environments"),
        ({"prod": {"limit": {"cpu": 1}}}, "resources: prod: must be a mapping with requests and/or limits"),
        ({"prod": {"limits": {"gpu": 1}}}, "resources: prod.limits: must be a mapping of cpu and/or memory"),
        ({"prod": {"limits": {"cpu": "-1"}}}, "resources: prod.limits.cpu: '-1' is negative"),
        (
            {"prod": {"limits": {"cpu": "lots"}}},
            "resources: prod.limits.cpu: 'lots' is not a Kubernetes quantity",
        ),
        ([], "resources: must be a YAML mapping keyed by environment"),
    ],
)
def test_resources(resources: Any, words: str) -> None:
    problem = context.resources_problem(resources, ENVS)
    assert problem.startswith(words) if words else problem == ""


def test_resources_stored_before_the_rules_stay_valid() -> None:
    assert context.resources_problem({"qa": {}, "prod": {"requests": {"cpu": "2"}}}, ENVS, strict=False) == ""
    assert "not a Kubernetes quantity" in context.resources_problem(
        {"prod": {"limits": {"cpu": "lots"}}}, ENVS, strict=False
    )  # a rule since the start


def test_environment_settings_of_a_plain_app() -> None:
    settings = context.environment_settings(
        {"app_name": "shop"}, ENVS, {}, {"prod": "https://p.example.com:6443"}
    )
    assert list(settings) == ENVS
    dev, staging, prod = settings["dev"], settings["staging"], settings["prod"]
    assert (dev["namespace"], dev["application"], dev["project"]) == ("shop-dev", "shop-dev", "shop-dev")
    assert [s["previous"] for s in (dev, staging, prod)] == [None, "dev", "staging"]
    assert [s["replicas"] for s in (dev, staging, prod)] == [1, 2, 3]
    assert [s["disruption_budget"] for s in (dev, staging, prod)] == [False, True, True]
    assert (dev["server"], prod["server"]) == ("https://kubernetes.default.svc", "https://p.example.com:6443")
    assert dev["host"] == "shop.dev.example.com"
    assert (dev["autoscaling"], dev["manual_sync"], dev["sync_window"]) == (None, False, None)
    assert prod["resources"] == LAST
    assert prod["quota"]["pods"] == "8"  # 3 pods twice, and two hook Jobs


def test_environment_settings_with_autoscaling_and_manual_sync() -> None:
    answers = {
        "app_name": "pay",
        "autoscaling": {"prod": {"min": 1, "max": 10}},
        "manual_sync_environments": ["staging"],
        "hosts": {"prod": "pay.example.com"},
        "sync_windows": {"prod": {"schedule": "0 8 * * 1-5", "duration": "10h"}},
    }
    settings = context.environment_settings(answers, ENVS, {"dev": 0}, {})
    prod = settings["prod"]
    assert prod["autoscaling"] == {"cpu": 75, "min": 1, "max": 10}
    assert prod["replicas"] is None
    assert prod["disruption_budget"] is False  # may run one pod
    assert prod["quota"]["pods"] == "22"
    assert prod["host"] == "pay.example.com"
    assert prod["sync_window"] == {"schedule": "0 8 * * 1-5", "duration": "10h"}
    assert settings["dev"]["replicas"] == 0
    assert settings["dev"]["quota"]["pods"] == "4"  # room for hooks even at zero replicas
    assert [s["manual_sync"] for s in settings.values()] == [False, True, False]
    manual = context.environment_settings({**answers, "sync_policy": "manual"}, ENVS, {}, {})
    assert all(s["manual_sync"] for s in manual.values())


def test_stored_soak_keeps_listed_environments_that_releases_leave() -> None:
    """After `environments` changes (staging removed, qa added), the soak stored in the answers
    file and gitops.yaml holds no environment that is gone, nor the last one."""
    settings = {env: {"replicas": 1, "resources": FIRST} for env in ("dev", "qa", "prod")}
    answers = {
        "soak": {"staging": "24h", "qa": "1h", "prod": "2h"},
        "clusters": {"staging": "https://s.example"},
    }
    stored = context.answers_to_store(answers, settings)
    assert stored["soak"] == {"qa": "1h"}
    assert stored["clusters"] == {}
    assert answers["soak"] == {"staging": "24h", "qa": "1h", "prod": "2h"}  # the answers themselves stay


@pytest.mark.parametrize("memory", ["250m", "0.5", "1.0001k"])
def test_memory_answer_with_a_fraction_of_a_byte_is_refused(memory: str) -> None:
    for kind in ("requests", "limits"):
        problem = context.resources_problem({"dev": {kind: {"memory": memory}}}, ENVS)
        assert f"{kind}.memory: {memory} is a fraction of a byte" in problem, problem
    # Answers stored by an earlier release are kept (the rule is for new answers).
    assert context.resources_problem({"dev": {"requests": {"memory": memory}}}, ENVS, strict=False) == ""


def rendered_context(answers: dict[str, Any]) -> dict[str, Any]:
    """What Copier hands the hook for each string: the answers, a new mapping of them, its conf."""
    conf = {"dst_path": "/nonexistent/repo", "answers_file": ".copier-answers.shop.yml"}
    return {**answers, "_copier_answers": dict(answers), "_copier_conf": conf, "_copier_phase": "render"}


def derived(hook: context.GitOpsContext, answers: dict[str, Any]) -> dict[str, Any]:
    rendered = rendered_context(answers)
    hook.hook(rendered)
    return {name: rendered[name] for name in ("gitops_envs", "gitops_answers", "writable_volumes")}


def test_the_hook_derives_anew_whenever_an_answer_is_another_object() -> None:
    """The hook keeps what it derived last while the answers are the very same objects; any other
    object, equal or not, is derived again: each result equals a fresh hook's."""
    hook = context.GitOpsContext(Environment())
    answers = {
        "app_name": "shop", "environments": ENVS, "replicas": {"prod": 5}, "clusters": {},
        "writable_paths": ["/tmp"], "image": "ghcr.io/example/shop",
    }  # fmt: skip
    first = derived(hook, answers)
    again = derived(hook, answers)
    assert all(again[name] is first[name] for name in first)
    for changed in (
        {**answers, "replicas": {"prod": 7}},
        {**answers, "image": "ghcr.io/example/other"},
        {**answers, "writable_paths": ["/var/cache"]},
        copy.deepcopy(answers),
        {key: value for key, value in answers.items() if key != "image"},
    ):
        assert derived(hook, changed) == derived(context.GitOpsContext(Environment()), changed)
    assert derived(hook, {**answers, "replicas": {"prod": 7}})["gitops_envs"]["prod"]["replicas"] == 7
    assert derived(hook, answers) == first


def test_the_quota_has_room_for_a_smoke_test_larger_than_the_apps_pods() -> None:
    """A small app (10m, 8Mi) with the smoke test: its pod (100m, 32Mi limits) must still fit
    beside two rolling copies of the app's pod, or the quota refuses it at the PostSync hook."""
    small = {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"cpu": "10m", "memory": "8Mi"}}
    smoke = context.SMOKE_TEST_RESOURCES
    quota = context.namespace_quota(small, 1, smoke)
    assert quota == {
        "pods": "4",
        "requests.cpu": "30m",  # 2 x 5m + 2 x 10m
        "requests.memory": "48Mi",  # 2 x 8Mi + 2 x 16Mi
        "limits.cpu": "220m",  # 2 x 10m + 2 x 100m
        "limits.memory": "80Mi",  # 2 x 8Mi + 2 x 32Mi
    }
    assert context.namespace_quota(LAST, 3, smoke) == context.namespace_quota(LAST, 3), (
        "a larger app: as before"
    )
