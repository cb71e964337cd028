"""gitopslib/chart_refs.py: what pins a Helm chart, shared by copier.yml's chart questions and
`tools/gitops release --chart-version`. Versions are held to SemVer 2's own grammar (semver.org's
examples), ranges to the forms Helm's constraint syntax (Masterminds/semver) reads as ranges."""

from __future__ import annotations

import pytest
from gitopslib.chart_refs import chart_name_problem, chart_repo_problem, chart_version_problem
from gitopslib.layout import environment_files
from gitopslib.releases import identity, keep_environment_fields, released

EXACT = [
    "0.1.0",
    "1.2.3",
    "10.20.30",
    "1.0.0-alpha",
    "1.0.0-rc.1+build.5",
    "1.0.0+20130313144700",
    "2.0.0-0.3.7",
]
RANGES = ["^1.2.3", "~1.2", "1.x", "1.2.*", ">=1.0.0", "1.2.3 || 2.0.0", "<2", "1", "1.2", "*", "latest"]
NOT_VERSIONS = ["1.2.3.4", "01.2.3", "1.2.3-", "1.2.3-01", "one", ""]


@pytest.mark.parametrize("version", EXACT)
def test_exact_versions_pass(version: str) -> None:
    assert chart_version_problem(version) == ""


@pytest.mark.parametrize("version", RANGES)
def test_ranges_are_refused_as_ranges(version: str) -> None:
    problem = chart_version_problem(version)
    assert problem.startswith("chart_version: ") and "range" in problem, problem


@pytest.mark.parametrize("version", NOT_VERSIONS)
def test_other_text_is_not_a_version(version: str) -> None:
    problem = chart_version_problem(version)
    assert problem.startswith("chart_version: ") and problem, version


def test_a_leading_v_is_named_with_the_version_to_write() -> None:
    assert "(1.2.3)" in chart_version_problem("v1.2.3")
    assert chart_version_problem("v1.2.3", "--chart-version").startswith("--chart-version: ")


@pytest.mark.parametrize("value", [None, 1.2, ["1.2.3"]])
def test_non_strings_are_refused(value: object) -> None:
    assert "non-empty string" in chart_version_problem(value)
    assert "non-empty string" in chart_repo_problem(value)
    assert "non-empty string" in chart_name_problem(value)


@pytest.mark.parametrize(
    "url",
    [
        "https://charts.example.com",
        "https://charts.example.com/",
        "https://127.0.0.1:8443",
        "https://example.com/helm/stable",
        "oci://ghcr.io/org/charts",
        "oci://registry.example.com:5000/team",
    ],
)
def test_repositories_and_registries_pass(url: str) -> None:
    assert chart_repo_problem(url) == ""


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://charts.example.com", "plain http"),
        ("https://user:secret@charts.example.com", "credentials"),
        ("oci://token@ghcr.io/org", "credentials"),
        ("oci://ghcr.io/org/charts/", "OCI registry"),
        ("ftp://charts.example.com", "not a chart repository"),
        ("charts.example.com", "not a chart repository"),
        ("https://charts.example.com/a b", "not a chart repository"),
        ('https://charts.example.com"\nversion: 9', "not a chart repository"),  # YAML injection
    ],
)
def test_other_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    problem = chart_repo_problem(url)
    assert problem.startswith("chart_repo: ") and reason in problem, problem


@pytest.mark.parametrize("name", ["hello", "podinfo", "kube-prometheus-stack", "a", "x" * 53])
def test_chart_names_pass(name: str) -> None:
    assert chart_name_problem(name) == ""


@pytest.mark.parametrize("name", ["Hello", "my_chart", "-chart", "chart-", "a/b", "x" * 54, "chart.v2"])
def test_other_chart_names_are_refused(name: str) -> None:
    assert chart_name_problem(name).startswith("chart_name: ")


def chart_release(namespace: str, values: str = "values.yaml", version: str = "0.1.0") -> dict[str, object]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "helmCharts": [
            {"name": "hello", "repo": "https://c.example.com", "version": version, "releaseName": "shop",
             "namespace": namespace, "valuesFile": values},
        ],
        "images": [{"name": "ghcr.io/example/hello", "newTag": "1.0.0"}],
    }  # fmt: skip


def test_a_charts_namespace_and_values_are_not_part_of_its_release() -> None:
    dev, prod = chart_release("shop-dev"), chart_release("shop-prod", values="prod-values.yaml")
    assert released(dev) == released(prod)
    files = {"kustomization.yaml": b"", "values.yaml": b"replicas: 1\n"}
    assert identity(dev, files) == identity(dev, {**files, "values.yaml": b"replicas: 5\n"})
    assert identity(dev, files) != identity(chart_release("shop-dev", version="0.2.0"), files)
    # A file the entry does not name as values is part of the release, as any other file.
    assert identity(dev, {**files, "extra.yaml": b"a"}) != identity(dev, {**files, "extra.yaml": b"b"})
    assert environment_files(dev) == {"values.yaml"}


def test_promote_keeps_the_targets_environment_fields() -> None:
    source, target = (
        chart_release("shop-dev", version="0.2.0"),
        chart_release("shop-prod", values="prod.yaml"),
    )
    keep_environment_fields(source, target)
    entry = source["helmCharts"][0]  # type: ignore[index]
    assert (entry["namespace"], entry["valuesFile"], entry["version"]) == ("shop-prod", "prod.yaml", "0.2.0")
    # Another chart in the same place is not the same entry: nothing of the target's goes into it.
    other = chart_release("shop-dev")
    other["helmCharts"][0]["name"] = "other"  # type: ignore[index]
    keep_environment_fields(other, target)
    assert other["helmCharts"][0]["namespace"] == "shop-dev"  # type: ignore[index]
