"""Label selectors (metav1.LabelSelector): ValidateLabelSelector and labels.Selector.Matches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .fields import Obj, list_field, maps_in, one_of
from .metadata import labels_problems
from .names import label_value_problem, name_problems, qualified_name_problem
from .scalars import show, type_problem

_SELECTOR_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


def _expression_problems(expression: Obj, path: str) -> list[str]:
    out = name_problems(expression.get("key"), f"{path}.key", qualified_name_problem)
    operator = expression.get("operator")
    values = list_field(expression, "values", path, out)
    if not one_of(operator, _SELECTOR_OPERATORS):
        out.append(f"{path}.operator: {show(operator)} is not one of In, NotIn, Exists, DoesNotExist")
    elif operator in ("In", "NotIn") and not values:
        out.append(f"{path}.values: must be specified when operator is {operator}")
    elif operator in ("Exists", "DoesNotExist") and values:
        out.append(f"{path}.values: may not be specified when operator is {operator}")
    for index, item in enumerate(values):
        out.extend(name_problems(item, f"{path}.values[{index}]", label_value_problem, required=False))
    return out


def selector_problems(selector: object, path: str) -> list[str]:
    """ValidateLabelSelector: matchLabels are labels, matchExpressions well formed."""
    if selector is None:
        return []
    if not isinstance(selector, dict):
        return [type_problem(path, selector, "a label selector mapping")]
    out = labels_problems(selector.get("matchLabels"), f"{path}.matchLabels")
    for item_path, expression in maps_in(
        list_field(selector, "matchExpressions", path, out), f"{path}.matchExpressions", out
    ):
        out.extend(_expression_problems(expression, item_path))
    return out


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """labels.Selector.Matches for a metav1.LabelSelector (an empty selector matches everything)."""
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True
