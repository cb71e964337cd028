"""gitopslib/install_checks.py: what the Argo CD install's own files may not hold."""

from __future__ import annotations

from typing import Any

import pytest
from gitopslib.install_checks import _install_reasons


def rbac(default: Any) -> dict[str, Any]:
    return {"kind": "ConfigMap", "metadata": {"name": "argocd-rbac-cm"}, "data": {"policy.default": default}}


@pytest.mark.parametrize("default", ["role:admin", "role:admin ", ["role:admin"], {"a": 1}, 5])
def test_a_default_role_other_than_readonly_is_named(default: Any) -> None:
    [reason] = _install_reasons(rbac(default))
    assert reason.startswith("argocd-rbac-cm: policy.default")


@pytest.mark.parametrize("default", ["", "role:readonly", " role:readonly"])
def test_readonly_or_none_is_fine(default: str) -> None:
    assert _install_reasons(rbac(default)) == []
