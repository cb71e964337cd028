"""extensions/compiled_string_cache.py: the Copier internals it relies on, its version guard, and
that it changes nothing but speed.

A failure here under a new Copier means the cache's assumptions need checking again before its
series goes into SUPPORTED_COPIER (until then the guard leaves the cache off).
"""

from __future__ import annotations

import importlib.util
import inspect
import shutil
from pathlib import Path
from types import ModuleType

import jinja2
import pytest
from copier._jinja_ext import YieldExtension, get_yield_context
from copier._main import Worker
from copier._user_data import Question
from copier.errors import MultipleYieldTagsError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import TEMPLATE_ROOT
from tests.template_versions import TemplateRepo, tree_state

MODULE = TEMPLATE_ROOT / "extensions/compiled_string_cache.py"


def load_module() -> ModuleType:
    """As copier-template-extensions loads it: by file path."""
    spec = importlib.util.spec_from_file_location("compiled_string_cache_under_test", MODULE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cache_module = load_module()

YIELD_PART = "{% yield env from envs %}{{ env }}{% endyield %}"


@pytest.fixture
def tiny_template(tmp_path: Path) -> Path:
    return write_tiny_template(tmp_path / "template")


def write_tiny_template(template: Path) -> Path:
    """A template with the cache extension: a default, a repeated path part and a yield part."""
    (template / "extensions").mkdir(parents=True)
    shutil.copy2(MODULE, template / "extensions" / MODULE.name)
    (template / "copier.yml").write_text(
        "_jinja_extensions:\n"
        "  - copier_template_extensions.TemplateExtensionLoader\n"
        f"  - extensions/{MODULE.name}:CompiledStringCache\n"
        "_subdirectory: content\n"
        "app:\n  type: str\n  default: \"{{ 'shop' }}\"\n"
        "envs:\n  type: yaml\n  default: '[dev, prod]'\n"
    )
    for part in (YIELD_PART, "other"):
        folder = template / "content" / part / "{{ app }}"
        folder.mkdir(parents=True)
        (folder / "{{ app }}.txt.jinja").write_text("{{ app }} in {{ env | default('all') }}\n")
    return template


def test_the_installed_copier_is_one_the_cache_was_checked_against() -> None:
    installed = cache_module.installed_copier_version()
    assert cache_module.supports(installed), (
        f"Copier {installed}: check the tests of this file, then add its series to SUPPORTED_COPIER "
        "in extensions/compiled_string_cache.py (until then the cache is off)"
    )


@pytest.mark.parametrize("version", ["9.20.0", "9.18.2", "10.19.0", "8.19.1", "", "dev", "9"])
def test_the_guard_leaves_jinja_alone_under_another_copier(version: str) -> None:
    environment = jinja2.Environment()
    assert cache_module.cache_compiled_strings(environment, version) is False
    assert "from_string" not in vars(environment)
    assert not hasattr(environment, cache_module.CACHE_ATTRIBUTE)
    assert environment.from_string("{{ 1 }}") is not environment.from_string("{{ 1 }}")


@pytest.mark.parametrize("version", ["9.19.0", "9.19.1", "9.19.12"])
def test_the_guard_admits_the_series_it_was_written_against(version: str) -> None:
    environment = jinja2.Environment()
    assert cache_module.cache_compiled_strings(environment, version) is True
    assert environment.from_string("{{ 1 }}") is environment.from_string("{{ 1 }}")


def never_compiles(environment: jinja2.Environment) -> None:
    def compile_refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    environment.compile = compile_refused  # type: ignore[method-assign]


def test_the_next_environment_with_the_same_settings_reuses_the_compiled_code() -> None:
    """Each render builds a new environment (and loads the extension anew from its clone): the
    code compiled for one serves the next, built for that environment's filters and globals."""
    source = "{{ name | shout }} {{ 40 + 2 }} {# unique: reuse #}"
    first = jinja2.Environment()
    first.filters["shout"] = str.upper
    assert cache_module.cache_compiled_strings(first, "9.19.1")
    assert first.from_string(source).render(name="shop") == "SHOP 42 "
    second = jinja2.Environment()
    second.filters["shout"] = str.title
    assert cache_module.cache_compiled_strings(second, "9.19.1")
    never_compiles(second)
    assert second.from_string(source).render(name="shop") == "Shop 42 "
    reloaded = load_module()  # as the next clone's copy of the extension: the code is shared
    third = jinja2.Environment()
    third.filters["shout"] = str.lower
    assert reloaded.cache_compiled_strings(third, "9.19.1")
    never_compiles(third)
    assert third.from_string(source).render(name="SHOP") == "shop 42 "


def test_a_filter_that_now_takes_the_context_gets_code_of_its_own() -> None:
    """Jinja compiles into a template whether a filter is passed the context: an update renders
    the old and the new template version in one process, and one may change a filter so."""
    source = "{{ name | greet }} {# unique: pass_context #}"
    plain = jinja2.Environment()
    plain.filters["greet"] = lambda name: f"hello {name}"
    assert cache_module.cache_compiled_strings(plain, "9.19.1")
    assert plain.from_string(source).render(name="shop") == "hello shop "
    with_context = jinja2.Environment()
    with_context.filters["greet"] = jinja2.pass_context(lambda context, name: f"{context['who']} {name}")
    assert cache_module.cache_compiled_strings(with_context, "9.19.1")
    assert with_context.from_string(source).render(name="shop", who="hi") == "hi shop "
    unknown = jinja2.Environment()
    assert cache_module.cache_compiled_strings(unknown, "9.19.1")
    with pytest.raises(jinja2.TemplateAssertionError, match="No filter named 'greet'"):
        unknown.from_string(source)


def test_other_syntax_settings_compile_their_own_code() -> None:
    source = "<< 40 + 2 >> {{ x }} {# unique: syntax #}"
    plain = jinja2.Environment()
    assert cache_module.cache_compiled_strings(plain, "9.19.1")
    assert plain.from_string(source).render(x=1) == "<< 40 + 2 >> 1 "
    angled = jinja2.Environment(variable_start_string="<<", variable_end_string=">>")
    assert cache_module.cache_compiled_strings(angled, "9.19.1")
    assert angled.from_string(source).render(x=1) == "42 {{ x }} "


def test_jinja_from_string_takes_what_the_cache_passes_on() -> None:
    parameters = list(inspect.signature(jinja2.Environment.from_string).parameters)
    assert parameters == ["self", "source", "globals", "template_class"]


def test_copier_renders_strings_through_from_string() -> None:
    """Paths, migration commands, messages (Worker._render_string), question defaults and
    validators (Question.render_value) and the answers file's name: all through `from_string`
    of the environment the extensions were given, with the source alone."""
    for function in (
        Worker._render_string,
        Question.render_value,
        inspect.unwrap(Worker.answers_relpath.fget),
    ):
        assert "self.jinja_env.from_string(" in inspect.getsource(function), function.__qualname__
    jinja_env = inspect.getsource(Worker.jinja_env.func)
    assert "extensions = default_extensions + list(self.template.jinja_extensions)" in jinja_env
    assert "YieldExtension" in jinja_env


def test_a_copy_goes_through_the_cache_and_yields_as_without_it(tiny_template: Path, tmp_path: Path) -> None:
    with Worker(
        src_path=str(tiny_template), dst_path=tmp_path / "out", defaults=True, unsafe=True, quiet=True
    ) as worker:
        worker.run_copy()
        cache = getattr(worker.jinja_env, cache_module.CACHE_ATTRIBUTE)
    assert "{{ app }}" in cache, "a path part"
    assert "{{ 'shop' }}" in cache, "a question default"
    assert YIELD_PART in cache, "a yield part"
    assert type(worker.jinja_env.bytecode_cache).__name__ == "FileCodeCache", "the files"
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.txt"))
    assert written == ["dev/shop/shop.txt", "other/shop/shop.txt", "prod/shop/shop.txt"]
    assert (tmp_path / "out/prod/shop/shop.txt").read_text() == "shop in prod\n"
    assert (tmp_path / "out/other/shop/shop.txt").read_text() == "shop in all\n"


def test_a_cached_string_resets_the_yield_state_as_a_compiled_one_does(tiny_template: Path) -> None:
    """Copier's yield extension keeps which variable a path part yields in per-environment state,
    reset by its preprocess hook, which runs when a string compiles: the cache replays it."""
    assert YieldExtension.preprocess is not jinja2.ext.Extension.preprocess
    with Worker(src_path=str(tiny_template), quiet=True) as worker:
        environment = worker.jinja_env
        assert hasattr(environment, cache_module.CACHE_ATTRIBUTE)
        state = get_yield_context(environment)
        environment.from_string("{{ a }}").render(a=1)  # compiled and cached
        environment.from_string(YIELD_PART).render(envs=["dev"])
        assert (state.yield_name, state.yield_iterable) == ("env", ["dev"])
        cached = environment.from_string("{{ a }}")
        assert cached is environment.from_string("{{ a }}"), "served from the cache"
        assert (state.yield_name, state.yield_iterable) == (None, None), "reset as by compiling"
        # Copier renders a yield part once per value, each time through from_string: the state
        # is set by rendering, so without the replayed reset the second render would refuse.
        yield_part = environment.from_string(YIELD_PART)
        assert yield_part is environment.from_string(YIELD_PART), "served from the cache"
        assert yield_part.render(envs=["prod"]) == "" and state.yield_iterable == ["prod"]
        with pytest.raises(MultipleYieldTagsError):
            yield_part.render(envs=["qa"])


def test_a_file_template_compiles_once_per_process_and_names_the_file_of_its_render(tmp_path: Path) -> None:
    """Copier builds a new environment (and a new clone of the template) for each render: the
    next one loads the same file of its own clone from the code compiled for the first."""
    sources = {"deployment.yaml.jinja": "replicas: {{ n | default(1) }} {# unique: files #}\n"}
    clones = []
    for clone in ("clone-a", "clone-b"):
        (tmp_path / clone).mkdir()
        for name, text in sources.items():
            (tmp_path / clone / name).write_text(text)
        clones.append(jinja2.FileSystemLoader(str(tmp_path / clone)))
    first = jinja2.Environment(loader=clones[0])
    assert cache_module.cache_compiled_strings(first, "9.19.1")
    assert first.get_template("deployment.yaml.jinja").render(n=2) == "replicas: 2 "
    second = jinja2.Environment(loader=clones[1])
    assert cache_module.cache_compiled_strings(second, "9.19.1")
    never_compiles(second)
    template = second.get_template("deployment.yaml.jinja")
    assert template.render() == "replicas: 1 "
    code_file = template.root_render_func.__code__.co_filename
    assert code_file == str(tmp_path / "clone-b" / "deployment.yaml.jinja"), "this render's file"


def test_a_changed_file_or_another_name_compiles_its_own_code(tmp_path: Path) -> None:
    """A template version that changes a file, or the same text under another name (Jinja bakes
    the name into the code): compiled anew, never served another file's code."""
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1/a.jinja").write_text("{{ self._TemplateReference__context.name }} v1 {# changed #}")
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2/a.jinja").write_text("{{ self._TemplateReference__context.name }} v2 {# changed #}")
    (tmp_path / "v2/b.jinja").write_text("{{ self._TemplateReference__context.name }} v1 {# changed #}")
    old = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path / "v1")))
    assert cache_module.cache_compiled_strings(old, "9.19.1")
    assert old.get_template("a.jinja").render() == "a.jinja v1 "
    new = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path / "v2")))
    assert cache_module.cache_compiled_strings(new, "9.19.1")
    assert new.get_template("a.jinja").render() == "a.jinja v2 "
    assert new.get_template("b.jinja").render() == "b.jinja v1 "


def test_the_cache_changes_nothing_in_a_generated_repository(tmp_path: Path) -> None:
    """This template rendered with the cache (twice: the second from the code the first compiled),
    and with the guard switched off: the same files."""
    with_cache = TemplateRepo.from_work_tree(tmp_path / "with-cache")
    without = TemplateRepo.from_work_tree(tmp_path / "without-cache")
    without.edit(
        "extensions/compiled_string_cache.py", "SUPPORTED_COPIER = ((9, 19),)", "SUPPORTED_COPIER = ()"
    )
    without.release("v1.0.1")
    trees = []
    for number, (template, ref) in enumerate(
        ((with_cache, "v1.0.0"), (with_cache, "v1.0.0"), (without, "v1.0.1"))
    ):
        destination = tmp_path / f"repo-{number}"
        with Worker(
            src_path=str(template.path),
            dst_path=destination,
            data={"app_name": "shop", "environments": ["dev", "qa", "prod"]},
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref=ref,
        ) as worker:
            worker.run_copy()
            cached = hasattr(worker.jinja_env, cache_module.CACHE_ATTRIBUTE)
        assert cached == (template is with_cache)
        answers = destination / ".copier-answers.shop.yml"
        answers.write_text(answers.read_text().replace(str(template.path), "TEMPLATE").replace(ref, "REF"))
        trees.append(tree_state(destination))
    assert trees[0] == trees[1] == trees[2]


# Jinja's syntax characters, whitespace, line breaks and a few letters: the strings that could
# make a source render as something other than itself.
JINJA_ALPHABET = "{}%#-+ \n\r\tab.=|"


@settings(max_examples=300, deadline=None)
@given(source=st.text(alphabet=JINJA_ALPHABET, max_size=12))
def test_a_source_served_as_it_is_is_what_jinja_renders(source: str) -> None:
    """The oracle is Jinja itself, in an environment without the cache: whatever as_it_is
    accepts renders to itself there, with Copier's settings (keep_trailing_newline)."""
    jinja = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    if cache_module.as_it_is(jinja, source):
        assert jinja.from_string(source).render() == source


@pytest.mark.parametrize("source", ["deployment.yaml", "tools", ".copier-answers.yml", "a%b}c"])
def test_a_plain_source_renders_as_it_is_without_a_context(source: str) -> None:
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    assert cache_module.cache_compiled_strings(environment, "9.19.1")
    assert environment.from_string(source).render(anything="ignored") == source


@pytest.mark.parametrize(
    ("source", "settings_of"),
    [
        ("{{ app }}", {}),
        ("{% if x %}y{% endif %}", {}),
        ("{# note #}x", {}),
        ("two\nlines", {}),
        ("# a line statement", {"line_statement_prefix": "#"}),
        ("x ## a comment", {"line_comment_prefix": "##"}),
        ("<< app >>", {"variable_start_string": "<<", "variable_end_string": ">>"}),
    ],
)
def test_a_source_with_syntax_is_rendered(source: str, settings_of: dict[str, str]) -> None:
    assert not cache_module.as_it_is(jinja2.Environment(**settings_of), source)
