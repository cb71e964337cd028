"""Resource names and amounts, shared by container requests and limits, ResourceQuota and LimitRange."""

from __future__ import annotations

import decimal
import fractions
import math

from .names import qualified_name_problem
from .quantities import milli_value

_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})


def _is_native(resource: str) -> bool:
    return "/" not in resource or "kubernetes.io/" in resource


def overcommit_allowed(resource: str) -> bool:
    return _is_native(resource) and not resource.startswith("hugepages-")


def container_resource_name_problem(resource: str) -> str:
    """ValidateContainerResourceName: cpu, memory, ephemeral-storage, hugepages-*, or an extended name."""
    if problem := qualified_name_problem(resource):
        return problem
    if "/" not in resource:
        if resource in _STANDARD_CONTAINER_RESOURCES or resource.startswith("hugepages-"):
            return ""
        return f"{resource!r} is not a container resource (cpu, memory, ephemeral-storage, hugepages-*)"
    if _is_native(resource):
        return ""
    if resource.startswith("requests.") or qualified_name_problem(f"requests.{resource}"):
        # Quota tracks it as `requests.<name>`, so that form must also be a qualified name.
        return f"{resource!r} does not follow the extended resource name standard"
    return ""


def quantity_value_problems(
    resource: str, amount: decimal.Decimal, path: str, raw: object = None
) -> list[str]:
    """ValidateResourceQuantityValue: never negative; counts and extended resources whole numbers.

    Whole as Go's `MilliValue() % 1000 == 0` decides, from `raw` (the value as written) when given:
    MilliValue rounds up, so 1.9999 passes and 1.5 does not, and it overflows int64 silently, so
    `1Ei` pods fail (2^60 * 1000 wraps to -2^63) and `1E` pass (the overflow gives 0). The API server
    showed the overflow: without `raw`, the exact value decides.
    """
    if amount < 0:
        return [f"{path}: {amount} must be greater than or equal to 0"]
    if not _is_integer_resource(resource):
        return []
    whole = milli_value(raw) % 1000 == 0 if raw is not None else _whole_after_milli_rounding(amount)
    return [] if whole else [f"{path}: {amount} must be an integer"]


# The container resources counted in bytes (pkg/api/pod/warnings.go): the server accepts a fraction
# of a byte with the warning "fractional byte value ... is invalid, must be an integer".
_BYTE_RESOURCES = frozenset({"memory", "ephemeral-storage"})


def fractional_byte_problems(
    resource: str, amount: decimal.Decimal, path: str, raw: object = None
) -> list[str]:
    """A container's memory or ephemeral storage as Go's `MilliValue() % 1000 != 0` judges it."""
    if resource not in _BYTE_RESOURCES or amount <= 0:
        return []
    whole = milli_value(raw) % 1000 == 0 if raw is not None else _whole_after_milli_rounding(amount)
    return [] if whole else [f"{path}: fractional byte value {amount} is invalid, must be an integer"]


def _whole_after_milli_rounding(amount: decimal.Decimal) -> bool:
    """Go's `MilliValue() % 1000 == 0` without overflow: MilliValue rounds up."""
    if int(amount.as_tuple().exponent) >= 0:
        return True
    return math.ceil(fractions.Fraction(amount) * 1000) % 1000 == 0


QUOTA_RESOURCES = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.storage",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "persistentvolumeclaims",
        "configmaps",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_INTEGER_RESOURCES = frozenset(
    {
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    }
)


def _is_integer_resource(resource: str) -> bool:
    extended = not _is_native(resource) and not resource.startswith("requests.")
    return resource in _INTEGER_RESOURCES or (extended and not qualified_name_problem(f"requests.{resource}"))
