"""gitopslib/quantities.py: Kubernetes quantities as the API server reads them, and the resource
rules validate applies to containers, ResourceQuotas and LimitRanges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from gitopslib.quantities import (
    NOT_A_CONTAINER_RESOURCE,
    QUANTITY_EXAMPLES,
    limit_range_problems,
    parse_quantity,
    quantity_map,
    resource_quota_problems,
    resources_problems,
    shown,
)
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.properties import PROPERTY

# Kubernetes' suffixes, written out from its documentation (not read from the module).
BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("0.001"), "": Decimal(1)}
DECIMAL |= {"k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9)}
DECIMAL |= {"T": Decimal(10**12), "P": Decimal(10**15), "E": Decimal(10**18)}


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("500m", Decimal("0.5")),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("+1", Decimal(1)),
        ("128Mi", Decimal(134217728)),
        ("1.5Gi", Decimal(1610612736)),
        ("1k", Decimal(1000)),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),  # an exponent, not exa followed by 3
        ("1e-3", Decimal("0.001")),
        ("1E", Decimal(10**18)),  # exa
        ("0.001E", Decimal(10**15)),
        ("250n", Decimal("0.00000025")),
        (" 1Gi ", Decimal(2**30)),  # the API server trims the string
        ("-1", Decimal(-1)),  # a quantity; negative amounts are refused by the callers
        (2, Decimal(2)),  # YAML gives unquoted numbers as int or float
        (0.25, Decimal("0.25")),
        (1e3, Decimal(1000)),
    ],
)
def test_quantities_kubernetes_accepts(written: object, value: Decimal) -> None:
    assert parse_quantity(written) == value


@pytest.mark.parametrize(
    "written",
    [
        "",
        "lots",
        "1.5.5",
        "128MiB",
        "1K",
        "1ki",
        "1 Gi",
        "1e",
        "e3",
        "Gi",
        "0x10",
        "1_000",
        "\u0661",  # an Arabic-Indic digit: Python's \d takes it, the API server does not
        True,
        False,
        None,
        float("inf"),
        float("nan"),
        [1],
        {"cpu": 1},
    ],
)
def test_values_that_are_not_quantities(written: object) -> None:
    assert parse_quantity(written) is None


@PROPERTY
@given(
    number=st.integers(min_value=0, max_value=10**6),
    suffix=st.sampled_from(sorted(set(BINARY) - {"Ei"})),  # Ei: test_exbibytes
)
def test_binary_suffixes_multiply_by_powers_of_1024(number: int, suffix: str) -> None:
    assert parse_quantity(f"{number}{suffix}") == number * BINARY[suffix]


def test_exbibytes() -> None:
    assert parse_quantity("1Ei") == 2**60


@PROPERTY
@given(
    number=st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    suffix=st.sampled_from(sorted(DECIMAL)),
)
def test_decimal_suffixes_multiply_by_powers_of_1000(number: Decimal, suffix: str) -> None:
    assert parse_quantity(f"{number}{suffix}") == number * DECIMAL[suffix]


@PROPERTY
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_unquoted_and_quoted_numbers_are_the_same_quantity(number: float) -> None:
    """`cpu: 0.5` (a YAML float) and `cpu: "0.5"` must mean the same to validate."""
    assert parse_quantity(number) == parse_quantity(repr(number))


def test_shown_says_when_yaml_read_a_boolean() -> None:
    assert shown("500m") == "500m"
    assert shown("") == '""'
    assert shown(1.5) == "1.5"
    assert shown(True).startswith("true (YAML read a bare yes/no/on/off/true/false as a boolean")


def test_quantity_map_keeps_the_valid_and_names_the_others() -> None:
    parsed, found = quantity_map({"cpu": "500m", "memory": "lots", "pods": "-1", "storage": 0}, "hard")
    assert parsed == {"cpu": (Decimal("0.5"), "500m"), "storage": (Decimal(0), 0)}
    assert found == [
        ("hard.memory", f"lots is not a Kubernetes quantity ({QUANTITY_EXAMPLES})"),
        ("hard.pods", "-1 is negative"),
    ]


@pytest.mark.parametrize("values", [None, "1Gi", ["1Gi"]])
def test_quantity_map_of_something_else_is_empty(values: object) -> None:
    assert quantity_map(values, "hard") == ({}, [])


def test_container_resources_request_above_limit_and_unknown_names() -> None:
    resources = {
        "requests": {"cpu": "2", "memroy": "1Gi", "nvidia.com/gpu": 1, "hugepages-2Mi": "4Mi"},
        "limits": {"cpu": "1", "memory": "bad"},
    }
    assert resources_problems(resources, "c") == [
        ("c.requests.memroy", NOT_A_CONTAINER_RESOURCE),
        ("c.limits.memory", f"bad is not a Kubernetes quantity ({QUANTITY_EXAMPLES})"),
        ("c.requests.cpu", "2 is more than its limit 1"),
    ]


def test_request_equal_to_its_limit_in_other_units_passes() -> None:
    resources = {"requests": {"cpu": "1000m", "memory": "1Gi"}, "limits": {"cpu": 1, "memory": "1024Mi"}}
    assert resources_problems(resources, "c") == []


@pytest.mark.parametrize("resources", [None, "1", [], {"requests": "1"}, {}])
def test_container_resources_of_other_shapes_are_left_to_the_schema(resources: object) -> None:
    assert resources_problems(resources, "c") == []


def test_resource_quota_quantities() -> None:
    quota = {"kind": "ResourceQuota", "spec": {"hard": {"pods": "ten", "requests.cpu": "4"}}}
    assert resource_quota_problems(quota) == [
        ("spec.hard.pods", f"ten is not a Kubernetes quantity ({QUANTITY_EXAMPLES})")
    ]
    assert resource_quota_problems({"kind": "ResourceQuota"}) == []
    assert resource_quota_problems({"spec": "x"}) == []


def test_limit_range_order_and_ratio() -> None:
    limit_range = {
        "spec": {
            "limits": [
                "not a mapping",
                {
                    "type": "Container",
                    "min": {"cpu": "2"},
                    "max": {"cpu": "1", "memory": "1Gi"},
                    "defaultRequest": {"memory": "2Gi"},
                    "maxLimitRequestRatio": {"cpu": "0.5", "memory": "1"},
                },
            ]
        }
    }
    assert limit_range_problems(limit_range) == [
        ("spec.limits[1].min.cpu", "2 is more than max 1"),
        ("spec.limits[1].defaultRequest.memory", "2Gi is more than max 1Gi"),
        ("spec.limits[1].maxLimitRequestRatio.cpu", "0.5 is less than 1"),
    ]


def test_limit_range_in_order_passes() -> None:
    item = {
        "min": {"cpu": "10m"},
        "defaultRequest": {"cpu": "100m"},
        "default": {"cpu": "100m"},
        "max": {"cpu": "1"},
        "maxLimitRequestRatio": {"cpu": 1},
    }
    assert limit_range_problems({"spec": {"limits": [item]}}) == []
    assert limit_range_problems({"spec": {"limits": "x"}}) == []
    assert limit_range_problems({}) == []


@pytest.mark.parametrize(
    ("amount", "whole"),
    [("128Mi", True), ("1.5Ki", True), ("1e3", True), (512, True), ("0", True), ("250m", False),
     ("0.5", False), (0.5, False), ("1.0001k", False), ("100u", False), ("8E", False),
     ("1.00000000000000000000000000001", False), ("100000000.000000000000000000001Ki", False)],
)  # fmt: skip
def test_memory_is_a_whole_number_of_bytes(amount: object, whole: bool) -> None:
    """The API server warns "fractional byte value ... must be an integer" for memory and
    ephemeral storage, judged on the amount in thousandths as an int64: beyond it (8E) some whole
    amounts draw the warning too, so those are refused as well."""
    for resource in ("memory", "ephemeral-storage"):
        found = resources_problems({"requests": {resource: amount}}, "c")
        assert (found == []) == whole, found
    # CPU is counted in thousandths of a core: 250m is whole there.
    assert resources_problems({"requests": {"cpu": amount}}, "c") == []
