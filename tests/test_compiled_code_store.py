"""extensions/compiled_string_cache.py, the part that outlives the process: compiled code kept in
the user's cache folder serves the next process, and a damaged, unreadable or unwritable store
costs only speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import jinja2
import pytest
from copier._jinja_ext import YieldExtension, get_yield_context

from tests.test_compiled_string_cache import YIELD_PART, load_module, never_compiles, write_tiny_template

cache_module: ModuleType = load_module()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache folder, and an empty process cache: as a new process with a new home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    saved = dict(cache_module.process_code())
    cache_module.process_code().clear()
    yield tmp_path / "cache" / "gitops-template" / "jinja-code"
    cache_module.process_code().clear()
    cache_module.process_code().update(saved)


def new_process() -> None:
    cache_module.process_code().clear()


def environment(**options: object) -> jinja2.Environment:
    created = jinja2.Environment(**options)  # type: ignore[arg-type]
    assert cache_module.cache_compiled_strings(created, "9.19.1")
    return created


def test_the_next_process_loads_the_code_instead_of_compiling(store: Path, tmp_path: Path) -> None:
    source = "{{ name | upper }} {# unique: stored #}"
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.txt.jinja").write_text("{{ n }} from a file {# unique: stored #}")
    first = environment(loader=jinja2.FileSystemLoader(str(tmp_path / "files")))
    assert first.from_string(source).render(name="shop") == "SHOP "
    assert first.get_template("a.txt.jinja").render(n=1) == "1 from a file "
    assert len(list(store.glob("*.code"))) == 2
    assert oct(store.stat().st_mode & 0o777) == "0o700", "the user's own"
    new_process()
    second = environment(loader=jinja2.FileSystemLoader(str(tmp_path / "files")))
    never_compiles(second)
    assert second.from_string(source).render(name="cart") == "CART "
    assert second.get_template("a.txt.jinja").render(n=2) == "2 from a file "


def test_stored_code_replays_the_preprocess_hooks(store: Path) -> None:
    """Copier's yield state is reset by compiling; code read from the store must reset it too."""
    environment(extensions=[YieldExtension]).from_string("{{ 1 }} {# unique: replay #}").render()
    new_process()
    second = environment(extensions=[YieldExtension])
    second.from_string(YIELD_PART).render(envs=["dev"])
    state = get_yield_context(second)
    assert state.yield_name == "env"
    never_compiles(second)
    second.from_string("{{ 1 }} {# unique: replay #}")
    assert (state.yield_name, state.yield_iterable) == (None, None)


@pytest.mark.parametrize("damage", ["cut short", "another payload", "empty", "not marshal"])
def test_a_damaged_file_is_compiled_again_and_rewritten(store: Path, damage: str) -> None:
    source = "{{ 6 * 7 }} {# unique: damaged #}"
    environment().from_string(source)
    (path,) = store.glob("*.code")
    data = path.read_bytes()
    damaged = {
        "cut short": data[:-5],
        "another payload": data[:32] + data[32:-1] + b"x",
        "empty": b"",
        "not marshal": __import__("hashlib").sha256(b"junk").digest() + b"junk",
    }[damage]
    path.write_bytes(damaged)
    new_process()
    assert environment().from_string(source).render() == "42 "
    assert path.read_bytes() == data, "rewritten whole"


def test_an_unwritable_or_missing_home_costs_only_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    saved = dict(cache_module.process_code())
    try:
        for home in (str(tmp_path / "a-file"), "relative/path"):
            monkeypatch.setenv("XDG_CACHE_HOME", home)
            new_process()
            assert environment().from_string("{{ 2 + 2 }} {# unique: unwritable #}").render() == "4 "
        assert [p.name for p in tmp_path.rglob("*")] == ["a-file"]
    finally:
        cache_module.process_code().update(saved)


def test_a_write_that_fails_midway_leaves_nothing_behind(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(source: str, target: str) -> None:
        assert Path(source).name.startswith(".writing-") and Path(source).exists(), "written first"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "replace", full_disk)
    assert environment().from_string("{{ 2 + 3 }} {# unique: full disk #}").render() == "5 "
    assert store.is_dir() and list(store.iterdir()) == []


def test_writes_abandoned_by_a_killed_process_are_pruned(store: Path) -> None:
    store.mkdir(mode=0o700, parents=True)
    abandoned, in_progress = store / ".writing-abandoned", store / ".writing-in-progress"
    abandoned.write_bytes(b"half")
    in_progress.write_bytes(b"half")
    old = cache_module.time.time() - cache_module.ABANDONED_WRITE_SECONDS - 60
    os.utime(abandoned, (old, old))
    environment().from_string("{{ 1 }} {# unique: abandoned #}")
    assert not abandoned.exists()
    assert in_progress.exists(), "another process may be writing it now"


def test_the_store_is_pruned_once_per_process_though_each_clone_loads_the_module(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.mkdir(mode=0o700, parents=True)
    clones = [load_module(), load_module()]  # Copier loads the extension anew from each clone
    assert clones[0] is not clones[1]
    for clone in clones:
        monkeypatch.setattr(clone, "MAX_STORED_CODE", 3)
    for number, clone in enumerate(clones):
        for extra in range(5):
            (store / f"{number}-{extra}.code").write_bytes(b"")
            os.utime(store / f"{number}-{extra}.code", (1_000 * (number + 1) + extra,) * 2)
        created = jinja2.Environment()
        assert clone.cache_compiled_strings(created, "9.19.1")
        created.from_string(f"{{{{ {number} }}}} {{# unique: once per process #}}")
    left = sorted(path.name for path in store.glob("?-?.code"))
    # The first render took the oldest half of 5 + 0 files; a second pruning would take 0-2 to 1-0.
    assert left == ["0-2.code", "0-3.code", "0-4.code"] + [f"1-{n}.code" for n in range(5)]


def test_stored_code_is_kept_apart_per_copier_version() -> None:
    """Copier's `yield` compiles to a call into Copier: a patch release may change it."""
    assert cache_module.store_format("9.19.1") != cache_module.store_format("9.19.2")
    assert cache_module.installed_copier_version() in cache_module.STORE_FORMAT


def test_environments_that_finalize_differently_do_not_share_code(store: Path) -> None:
    source = "[{{ nothing }}] {# unique: finalize #}"
    assert environment().from_string(source).render(nothing=None) == "[None] "
    finalizing = environment(finalize=lambda value: "" if value is None else value)
    assert finalizing.from_string(source).render(nothing=None) == "[] "
    new_process()
    assert environment(finalize=lambda value: "-").from_string(source).render(nothing=None) == "[-] "


def test_a_store_others_can_write_to_is_neither_read_nor_written(store: Path) -> None:
    source = "{{ 5 }} {# unique: shared store #}"
    environment().from_string(source)
    (path,) = store.glob("*.code")
    store.chmod(0o777)
    new_process()
    compiled = environment()
    calls: list[str] = []
    original = compiled.compile
    compiled.compile = lambda *args, **kwargs: calls.append("compiled") or original(*args, **kwargs)  # type: ignore[method-assign]
    assert compiled.from_string(source).render() == "5 "
    assert calls == ["compiled"], "not read from a folder others can write to"
    environment().from_string("{{ 6 }} {# unique: shared store #}")
    assert list(store.glob("*.code")) == [path], "nor written to"


def test_the_store_keeps_at_most_its_limit(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store.mkdir(mode=0o700, parents=True)
    for number in range(12):
        (store / f"{number:02}.code").write_bytes(b"")
        os.utime(store / f"{number:02}.code", (1_000 + number, 1_000 + number))
    monkeypatch.setattr(cache_module, "MAX_STORED_CODE", 10)
    environment().from_string("{{ 3 }} {# unique: prune #}")
    kept = sorted(path.name for path in store.glob("*.code"))
    assert [name for name in kept if len(name) == 7] == [f"{n:02}.code" for n in range(6, 12)], "oldest half"
    assert len(kept) == 7, "and the new one"


CHILD = """
import json, sys, jinja2, copier
compiled = []
original = jinja2.Environment.compile
def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
    compiled.append(name or source[:40])
    return original(self, source, name, filename, raw, defer_init)
jinja2.Environment.compile = counting
copier.run_copy(sys.argv[1], sys.argv[2], defaults=True, unsafe=True, quiet=True)
print(json.dumps(compiled))
"""


def test_a_second_copier_process_compiles_nothing(tmp_path: Path) -> None:
    """Two `copier copy` processes in a row with one home: the second reads every template."""
    tiny_template = write_tiny_template(tmp_path / "template")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = []
    for number in (1, 2):
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(tiny_template), str(tmp_path / f"out-{number}")],
            capture_output=True,
            text=True,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert len(runs[0]) >= 3, runs[0]
    assert runs[1] == [], "compiled again in the second process"
    assert (tmp_path / "out-2/prod/shop/shop.txt").read_text() == "shop in prod\n"
