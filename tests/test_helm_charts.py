"""What the Helm-chart layout rests on, checked with the real tools (issue 15): Kustomize's
helmCharts through `kubectl kustomize --enable-helm` and the pinned helm, against a real chart
repository on 127.0.0.1 (tests/helm_repository.py). Each test is one fact DESIGN.md states."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.helm_repository import ChartRepository, helm
from tests.oci_registry import OciRegistry

# The Kubernetes version the API-server tests emulate (tests/api_server.py): charts see it as
# .Capabilities.KubeVersion instead of helm's built-in default.
KUBE_VERSION = "1.33.0"


def build(
    kubectl: str, folder: Path, *, enable_helm: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    helm_flags = ["--enable-helm", f"--helm-command={helm()}", f"--helm-kube-version={KUBE_VERSION}"]
    return subprocess.run(
        [kubectl, "kustomize", *(helm_flags if enable_helm else []), str(folder)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def objects(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return {
        f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in yaml.safe_load_all(result.stdout) if doc
    }


def chart_entry(repository: ChartRepository, version: str, **more: Any) -> dict[str, Any]:
    return {"name": "hello", "repo": repository.url, "version": version, "releaseName": "shop", **more}


def write(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def image(built: dict[str, dict[str, Any]]) -> str:
    return str(built["Deployment/shop"]["spec"]["template"]["spec"]["containers"][0]["image"])


def test_a_chart_renders_only_with_helm_enabled(
    kubectl: str, chart_repository: ChartRepository, tmp_path: Path
) -> None:
    write(tmp_path / "kustomization.yaml", {"helmCharts": [chart_entry(chart_repository, "0.1.0")]})
    refused = build(kubectl, tmp_path, enable_helm=False)
    assert refused.returncode != 0 and "--enable-helm" in refused.stderr, refused.stderr
    built = objects(build(kubectl, tmp_path))
    assert set(built) == {"Deployment/shop", "Service/shop"}
    assert image(built) == "ghcr.io/example/hello:1.0.0"


def test_the_entrys_version_selects_the_chart(
    kubectl: str, chart_repository: ChartRepository, tmp_path: Path
) -> None:
    write(tmp_path / "kustomization.yaml", {"helmCharts": [chart_entry(chart_repository, "0.2.0")]})
    built = objects(build(kubectl, tmp_path))
    assert built["Deployment/shop"]["metadata"]["labels"]["helm.sh/chart"] == "hello-0.2.0"
    assert image(built) == "ghcr.io/example/hello:1.1.0"
    write(tmp_path / "kustomization.yaml", {"helmCharts": [chart_entry(chart_repository, "9.9.9")]})
    assert build(kubectl, tmp_path).returncode != 0


def test_a_release_component_renders_the_chart_but_the_overlays_namespace_misses_it(
    kubectl: str, chart_repository: ChartRepository, tmp_path: Path
) -> None:
    """The chart entry and its values in the overlay's `release/` Component: the Component's
    `images:` apply to what the chart renders, the overlay's `namespace:` does not (Kustomize
    5.8 skips helm-generated objects, kubernetes-sigs/kustomize#6058, even with an explicit
    NamespaceTransformer): only a chart that writes `.Release.Namespace` (the entry's
    `namespace:`) puts its objects in the namespace."""
    overlay = tmp_path / "environments/dev/shop"
    write(
        overlay / "kustomization.yaml",
        {"namespace": "shop-dev", "resources": ["config.yaml"], "components": ["release"]},
    )
    write(overlay / "config.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain"}})
    write(
        overlay / "release/kustomization.yaml",
        {
            "apiVersion": "kustomize.config.k8s.io/v1alpha1",
            "kind": "Component",
            "helmCharts": [
                chart_entry(chart_repository, "0.1.0", valuesFile="values.yaml", namespace="shop-dev")
            ],
            "images": [{"name": "ghcr.io/example/hello", "newTag": "2.0.0"}],
        },
    )
    write(overlay / "release/values.yaml", {"replicas": 2})
    built = objects(build(kubectl, overlay))
    assert built["ConfigMap/plain"]["metadata"]["namespace"] == "shop-dev"
    assert built["Service/shop"]["metadata"]["namespace"] == "shop-dev"  # the chart writes it
    assert "namespace" not in built["Deployment/shop"]["metadata"]  # the chart does not: nothing does
    assert built["Deployment/shop"]["spec"]["replicas"] == 2
    assert image(built) == "ghcr.io/example/hello:2.0.0"
    # Kustomize pulls the chart beside the entry (chartHome defaults to `charts`): a folder the
    # repository must keep out of git and out of its dirty-tree checks.
    assert (overlay / "release/charts/hello-0.1.0/hello/Chart.yaml").is_file()


def test_values_outside_the_entrys_folder_are_refused(
    kubectl: str, chart_repository: ChartRepository, tmp_path: Path
) -> None:
    """Kustomize's load restrictor: an entry in `release/` cannot read the overlay's values."""
    overlay = tmp_path / "environments/dev/shop"
    write(overlay / "kustomization.yaml", {"components": ["release"]})
    write(
        overlay / "release/kustomization.yaml",
        {
            "apiVersion": "kustomize.config.k8s.io/v1alpha1",
            "kind": "Component",
            "helmCharts": [chart_entry(chart_repository, "0.1.0", valuesFile="../values.yaml")],
        },
    )
    write(overlay / "values.yaml", {"replicas": 2})
    refused = build(kubectl, overlay)
    assert refused.returncode != 0
    assert "is not in or below" in refused.stderr, refused.stderr


def test_a_chart_from_an_oci_registry_renders_over_tls_only(
    kubectl: str, oci_registry: OciRegistry, tmp_path: Path
) -> None:
    """`repo: oci://...`: Kustomize has helm pull over HTTPS (the registry's certificate trusted
    through SSL_CERT_FILE); the entry's version selects the chart as with a chart repository."""
    entry = {"name": "hello", "repo": oci_registry.url, "version": "0.2.0", "releaseName": "shop"}
    write(tmp_path / "kustomization.yaml", {"helmCharts": [entry]})
    untrusted = build(kubectl, tmp_path)
    assert untrusted.returncode != 0 and "certificate" in untrusted.stderr, untrusted.stderr
    trusted = {**os.environ, "SSL_CERT_FILE": str(oci_registry.certificate)}
    built = objects(build(kubectl, tmp_path, env=trusted))
    assert built["Deployment/shop"]["metadata"]["labels"]["helm.sh/chart"] == "hello-0.2.0"
    assert image(built) == "ghcr.io/example/hello:1.1.0"
