"""gitopslib.kustomize.build_environment: builds hold Go's collector off, unless the user tuned it."""

from __future__ import annotations

import pytest
from gitopslib.kustomize import SHORT_LIVED_GO, build_environment


def test_a_build_holds_the_collector_off_until_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SHORT_LIVED_GO:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KEPT", "yes")
    environment = build_environment()
    assert environment["GOGC"] == "off" and environment["GOMEMLIMIT"] == "1GiB"
    assert environment["KEPT"] == "yes"


@pytest.mark.parametrize("name", sorted(SHORT_LIVED_GO))
def test_the_users_own_setting_is_kept_whole(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    for other in SHORT_LIVED_GO:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, "mine")
    environment = build_environment()
    assert environment[name] == "mine"
    assert not (set(SHORT_LIVED_GO) - {name}) & set(environment), "half a setting of ours added"
