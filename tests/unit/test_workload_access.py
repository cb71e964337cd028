"""gitopslib/workload_access.py: which hosts an object claims of a shared controller."""

from __future__ import annotations

from typing import Any

import pytest
from gitopslib.repo import Overlay
from gitopslib.workload_access import EVERY_HOST, HostClaim, claimed_hosts, exposure_problems

INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress"}
ROUTE = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute"}


@pytest.mark.parametrize(
    ("obj", "hosts"),
    [
        ({**INGRESS, "spec": {"rules": [{"host": "a.example.com"}]}}, ["a.example.com"]),
        (
            {**INGRESS, "spec": {"rules": [{"host": "a.example.com"}, {"http": {}}]}},
            [EVERY_HOST, "a.example.com"],
        ),
        ({**INGRESS, "spec": {"defaultBackend": {"service": {"name": "x"}}}}, [EVERY_HOST]),
        ({**INGRESS, "spec": {"tls": [{"hosts": ["t.example.com"]}]}}, ["t.example.com"]),
        ({**ROUTE, "spec": {"hostnames": ["r.example.com"]}}, ["r.example.com"]),
        ({**ROUTE, "spec": {"rules": []}}, [EVERY_HOST]),
        ({**ROUTE, "kind": "GRPCRoute", "spec": {}}, [EVERY_HOST]),
        ({"apiVersion": "v1", "kind": "Service", "spec": {}}, []),
    ],
)
def test_claimed_hosts(obj: dict[str, Any], hosts: list[str]) -> None:
    assert claimed_hosts(obj) == hosts


def test_no_exposed_app_takes_every_host() -> None:
    overlay = Overlay("dev", "shop")
    named = HostClaim(overlay, "environments/dev/shop: Ingress/shop", ("shop.example.com",))
    every = HostClaim(overlay, "environments/dev/shop: Ingress/all", (EVERY_HOST,))
    assert exposure_problems([named], {"shop": "ingress"}) == []
    [problem] = exposure_problems([named, every], {"shop": "ingress"})
    assert str(problem).startswith("environments/dev/shop: Ingress/all: routes every host")
    assert [str(p).split(": ", 2)[2] for p in exposure_problems([named], {"shop": "none"})] == [
        "routes shop.example.com although the app's exposure answer is none"
    ]
