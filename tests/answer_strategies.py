"""Hypothesis strategies: one per question, composed into whole answer sets.

Each question draws a valid value most of the time, and otherwise an edge value (length
limits of every derived name, YAML-special strings, unicode, surrounding whitespace,
Jinja syntax) or an invalid one. Per-environment maps draw keys from the drawn
environments plus, sometimes, a key of no environment. The property under test decides
by outcome, not by prediction: a refused set must have written nothing and named the
question, an accepted set must build and pass the independent checks.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.answer_sets import CHART_REPOSITORY

# Strings that YAML 1.1 (PyYAML, kustomize) reads as another type when written bare.
YAML_SPECIAL = ["no", "yes", "on", "off", "y", "n", "true", "false", "null", "123", "0x1f", "1e3", "0o17"]
# Names of generated folders and of .gitignore / _exclude patterns: an app or environment
# called like one must keep all its files.
LAYOUT_NAMES = ["tools", "platform", "secrets", "kubeconfig", "kubeconfig-proxy", "policies", "argocd"]
NAME_EDGES = ["a", "root", "default", "kube-system", "kube", "9lives", "1app", "app1", "x" * 20, "x" * 21]
BAD_NAMES = ["My_App", "-x", "x-", " dev", "dev ", "café", "{{ 7 * 7 }}", "a.b", "", "a" * 64]

dns_labels = st.from_regex(r"[a-z]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
INVALID_ONE_IN = 25


def maybe_invalid(valid: st.SearchStrategy[Any], invalid: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly valid values; about one in 25 is an invalid one (a set draws some 20 answers)."""
    return st.integers(1, INVALID_ONE_IN).flatmap(lambda n: st.sampled_from(invalid) if n == 1 else valid)


special_names = st.sampled_from(YAML_SPECIAL + LAYOUT_NAMES + NAME_EDGES)
# Environments are at most 20 characters; apps as long as `<app>-<env>` fits 63.
env_names = st.one_of(dns_labels, special_names, st.from_regex(r"[a-z][a-z0-9]{14,19}", fullmatch=True))
names = maybe_invalid(
    st.one_of(dns_labels, special_names, st.from_regex(r"[a-z][a-z0-9]{40,62}", fullmatch=True)), BAD_NAMES
)


QUANTITIES = ["10m", "50m", "250m", "0.5", 0.5, 1, "2", "1e3", "64Mi", "1Gi", "1.5Gi", "500M", "128974848"]
BAD_QUANTITIES = ["1KiB", "abc", "1.5.5", -1, "-1", True, None, "", "1e999", " 1Gi"]
quantities = maybe_invalid(st.sampled_from(QUANTITIES), BAD_QUANTITIES)


@st.composite
def resources(draw: st.DrawFn, environments: list[Any]) -> Any:
    spec: dict[Any, Any] = {}
    for env in draw(env_keys(environments, 3)):
        spec[env] = {
            kind: {name: draw(quantities) for name in draw(st.sets(st.sampled_from(["cpu", "memory"])))}
            for kind in draw(st.sets(st.sampled_from(["requests", "limits"]), min_size=1))
        }
    return spec


CRON_VALID = [
    "0 8 * * 1-5",
    "0 8 * * MON",
    "*/15 * * * *",
    "0 22 * * sat,sun",
    "30 2 1 jan-mar ?",
    "0 0 31 12 6",
]
CRON_INVALID = [
    "99 99 99 99 99",
    "*/0 * * * *",
    "5-1 * * * *",
    "0 8 * * 7",
    "0 8 * *",
    "@daily",
    "0 8 * * funday",
]
DURATIONS = ["10h", "90m", "1h30m", "1.5h", "45s", "2h0m"]
BAD_DURATIONS = ["10", "1d", "", "0s", "-1h", "h", "10 h", 10]


@st.composite
def sync_windows(draw: st.DrawFn, environments: list[Any]) -> Any:
    envs = draw(env_keys(environments, 2))
    return {
        env: {
            "schedule": draw(maybe_invalid(st.sampled_from(CRON_VALID), CRON_INVALID)),
            "duration": draw(maybe_invalid(st.sampled_from(DURATIONS), BAD_DURATIONS)),
        }
        for env in envs
    }


@st.composite
def autoscaling(draw: st.DrawFn, environments: list[Any]) -> Any:
    envs = draw(st.lists(st.sampled_from(environments), max_size=2, unique=True))
    spec = {}
    for env in envs:
        low = draw(st.integers(0, 12))
        spec[env] = {"min": low, "max": draw(st.integers(low - 1, 1001))}
        if draw(st.booleans()):
            spec[env]["cpu"] = draw(st.integers(0, 101))
    return spec


HOSTS = ["shop.example.com", "shop.xn--p1ai", "*.example.com", "a.b", "x", "a-b.c-d.example"]
BAD_HOSTS = ["Shop.example.com", "1.2.3.4", "shop..example.com", "-a.example.com", "shop.example.com.", 7]
# The tests' chart (tests/charts/hello at the versions tests/helm_repository.py serves) and its image.
CHART_NAME, CHART_IMAGE, CHART_VERSIONS = "hello", "ghcr.io/example/hello", ["0.1.0", "0.2.0"]
IMAGES = ["nginxinc/nginx-unprivileged", "reg.example.com:5000/team/app", "localhost/app", "a/b/c", "busybox"]
BAD_IMAGES = ["UPPER/case", "nginx:1.27", "a//b", "Registry.example.com/App", "app@sha256:" + "a" * 64, ""]
TAGS = ["1.29.3-alpine", "v2", "2024.12.01_build-7", "sha256:" + "0123456789abcdef" * 4, "x" * 128]
BAD_TAGS = ["latest", "-rc1", "1.0 beta", "sha256:1234", "x" * 129, ""]
PATHS = ["/tmp", "/var/cache/nginx", "/" + "d" * 80, "/a-b/c_d.e", "/x/" + "y" * 70]
BAD_PATHS = ["tmp", "/tmp/", "/a/../b", "//tmp", "/with space", 7]
COSIGN_KEY = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM\n"
    "5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==\n"
    "-----END PUBLIC KEY-----"
)


def env_keys(environments: list[Any], max_size: int) -> st.SearchStrategy[list[Any]]:
    """Some of the environments; rarely also one that is not listed (refused on copy)."""
    keys = st.lists(st.sampled_from(environments), max_size=max_size, unique=True)
    return maybe_invalid(keys, [["elsewhere"], [*environments, "elsewhere"]])


def per_env(values: st.SearchStrategy[Any], environments: list[Any]) -> st.SearchStrategy[Any]:
    return env_keys(environments, 3).flatmap(
        lambda keys: st.fixed_dictionaries({key: values for key in keys})
    )


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A subset of the questions with drawn values; the rest keep their defaults."""
    environments = draw(
        maybe_invalid(
            st.lists(env_names, min_size=1, max_size=5, unique=True),
            [[], "dev", ["dev", "dev"], ["dev", None], ["dev", {"prod": 1}], ["dev", *BAD_NAMES[:3]]],
        )
    )
    envs = [env for env in environments if isinstance(env, str)] if isinstance(environments, list) else []
    envs = envs or ["dev"]
    questions: dict[str, st.SearchStrategy[Any]] = {
        "app_name": names,
        "environments": st.just(environments),
        "team": maybe_invalid(dns_labels, ["no", "123", "Team_A.b", "-x", "x" * 64, "é"]),
        "image": maybe_invalid(st.sampled_from(IMAGES), BAD_IMAGES),
        "image_tag": maybe_invalid(st.sampled_from(TAGS), BAD_TAGS),
        "container_port": maybe_invalid(st.integers(1, 65535), [0, 65536, -1]),
        "service_port": maybe_invalid(st.integers(1, 65535), [0, 70000]),
        "replicas": per_env(maybe_invalid(st.integers(0, 1000), [-1, 1001, "3", True, None]), envs),
        "resources": resources(envs),
        "probe_path": maybe_invalid(
            st.sampled_from(["/", "/healthz", "/ready%20now", "/a/b-c"]), ["healthz", ""]
        ),
        "writable_paths": st.lists(maybe_invalid(st.sampled_from(PATHS), BAD_PATHS), max_size=3),
        "autoscaling": autoscaling(envs),
        "advanced": st.booleans(),
        "workload": maybe_invalid(st.sampled_from(["manifests", "helm-chart"]), ["helm", "Helm-Chart", ""]),
        "chart_repo": maybe_invalid(
            st.just(CHART_REPOSITORY), ["http://charts.example.com", "https://u:p@h.example.com", "oci://h/"]
        ),
        "chart_name": maybe_invalid(st.just(CHART_NAME), ["Hello", "a_b", ""]),
        "chart_version": maybe_invalid(
            st.sampled_from(CHART_VERSIONS), ["^0.1.0", "v0.1.0", "latest", "0.1"]
        ),
        "namespace_quota": st.booleans(),
        "exposure": maybe_invalid(st.sampled_from(["none", "ingress", "gateway"]), ["nodeport"]),
        "hosts": per_env(maybe_invalid(st.sampled_from(HOSTS), BAD_HOSTS), envs),
        "ingress_class": maybe_invalid(
            st.sampled_from(["nginx", "123", "internal.example.com", "no"]), ["Nginx", ""]
        ),
        "gateway": maybe_invalid(
            st.sampled_from(["gateway-system/public", "infra/public.gw", "true/null"]), ["true", "ns/", "/gw"]
        ),
        "manual_sync_environments": env_keys(envs, 2),
        "sync_windows": sync_windows(envs),
        "notifications_channel": maybe_invalid(st.sampled_from(["", "deploys", "team.alerts"]), ["#deploys"]),
        "smoke_test": st.booleans(),
        "service_monitor": st.booleans(),
        "secrets": maybe_invalid(st.sampled_from(["none", "external-secrets", "sealed-secrets"]), ["vault"]),
        "secret_keys": maybe_invalid(
            st.lists(
                st.sampled_from(["DATABASE_PASSWORD", "true", "null", "no", "_X", "a1"]),
                min_size=1,
                unique=True,
            ),
            [[], ["1A"], [True], ["A-B"], "KEY"],
        ),
        "secret_store": maybe_invalid(st.sampled_from(["vault", "aws.secrets", "123"]), ["Vault", "a_b"]),
        "sync_policy": st.sampled_from(["automated", "automated-no-prune", "manual"]),
        "repo_url": maybe_invalid(
            st.sampled_from(
                ["https://github.com/o/r.git", "git@github.com:o/r.git", "ssh://git@h:2222/o/r.git"]
            ),
            ["github.com/o/r", "https://h/o/r.git\nx: y", ""],
        ),
        "target_revision": maybe_invalid(st.sampled_from(["main", "release/1.x", "no"]), ["-x", "a..b", ""]),
        "argocd_version": maybe_invalid(
            st.sampled_from(["v3.6.2", "v3.3.0", "v4.0.0"]), ["stable", "v03.3.0", "v3.2.9"]
        ),
        "argocd_ha": st.booleans(),
        "platform_team": maybe_invalid(
            st.sampled_from(["@org/sre", "@user", "ops@example.com"]), ["org/sre"]
        ),
        "protected_environments": st.lists(st.sampled_from(envs), max_size=2, unique=True),
        "kyverno_policies": st.booleans(),
        "cosign_public_key": st.sampled_from(["", COSIGN_KEY]),
        "soak": per_env(maybe_invalid(st.sampled_from(DURATIONS), BAD_DURATIONS), envs),
        "ci_provider": maybe_invalid(
            st.sampled_from(["github", "gitlab", "none"]), ["GitHub", "jenkins", ""]
        ),
        "clusters": per_env(
            maybe_invalid(
                st.sampled_from(["https://prod.example.com:6443", "https://10.0.0.1"]),
                ["http://x", "https://x/"],
            ),
            envs,
        ),
    }
    chosen = draw(st.sets(st.sampled_from(sorted(questions)), max_size=len(questions)))
    answers = {name: draw(questions[name]) for name in sorted(chosen | {"environments"})}
    if answers.get("workload") == "helm-chart":
        # The chart the tests serve (tests/helm_repository.py) and its image, unless drawn invalid:
        # another name or image would be refused by no question, and validate would say why.
        answers.setdefault("chart_repo", CHART_REPOSITORY)
        answers.setdefault("chart_name", CHART_NAME)
        answers["image"] = CHART_IMAGE
    # Now and then one string answer gets what a --data-file block scalar or a paste adds.
    strings = sorted(name for name, value in answers.items() if isinstance(value, str))
    if strings and draw(st.integers(1, INVALID_ONE_IN)) == 1:
        name = draw(st.sampled_from(strings))
        stray = draw(st.sampled_from(["{}\n", " {}", "{}\t", "{}\x1f", "{{{{ {} }}}}"]))
        answers[name] = stray.format(answers[name])
    return answers
