"""The rules a chart app's release and pods are held to, on hand-written objects: which fields of
a chart entry are the environment's (releases.py, layout.py), which pods meet the hardening rules
(pod_hardening.py), and which `images:` entries match a running container (release_images.py).
Each case is one a reviewer found could go wrong."""

from __future__ import annotations

from typing import Any

from gitopslib.layout import environment_files
from gitopslib.overlay_checks import release_problems
from gitopslib.pod_hardening import hardening_reasons, resources_reasons
from gitopslib.release_images import running_images, split_image, unmatched_image_reasons
from gitopslib.releases import chart_names_problem, keep_environment_fields


def entry(name: str, namespace: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "repo": "https://c.example.com", "version": "1.0.0", "namespace": namespace, **more}


def test_entries_are_matched_by_name_whatever_their_order() -> None:
    source = {"helmCharts": [entry("b", "dev"), entry("a", "dev", valuesFile="dev.yaml")]}
    target = {"helmCharts": [entry("a", "prod", valuesFile="values.yaml"), entry("b", "prod")]}
    assert chart_names_problem(source, target) == ""
    keep_environment_fields(source, target)
    assert [(e["name"], e["namespace"], e.get("valuesFile")) for e in source["helmCharts"]] == [
        ("b", "prod", None),
        ("a", "prod", "values.yaml"),
    ]


def test_charts_that_differ_by_name_cannot_be_promoted() -> None:
    renamed = chart_names_problem(
        {"helmCharts": [entry("web2", "dev")]}, {"helmCharts": [entry("web", "prod")]}
    )
    assert "the source holds web2, this release web" in renamed
    added = chart_names_problem(
        {"helmCharts": [entry("a", "dev"), entry("b", "dev")]}, {"helmCharts": [entry("a", "p")]}
    )
    assert "a, b" in added
    assert chart_names_problem({"helmCharts": [entry("a", "dev")]}, {"images": []}).endswith(
        "change the charts of each environment in its own release"
    )
    twice = {"helmCharts": [entry("a", "dev"), entry("a", "dev")]}
    assert chart_names_problem(twice, twice)
    assert chart_names_problem({"images": []}, {}) == ""  # no chart on either side: nothing to say


def test_values_files_are_named_as_kustomize_reads_them() -> None:
    release = {
        "helmCharts": [entry("a", "d", valuesFile="./values.yaml", additionalValuesFiles=["x/../y.yaml"])]
    }
    assert environment_files(release) == {"values.yaml", "y.yaml"}
    outside = {"helmCharts": [entry("a", "d", valuesFile="../values.yaml", additionalValuesFiles="z.yaml")]}
    assert environment_files(outside) == set()


def test_a_release_whose_helm_charts_is_not_a_list_is_named() -> None:
    assert release_problems({"helmCharts": 5}) == [
        "helmCharts must be a list of mappings (name, repo, version, ...)"
    ]
    assert release_problems({"helmCharts": [entry("a", "d")]}) == []


HARDENED = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},  # Kubernetes requests the limits
            "readinessProbe": {"tcpSocket": {"port": 8080}},
            "livenessProbe": {"tcpSocket": {"port": 8080}},
        }
    ],
}


def test_a_hardened_pod_with_limits_only_passes() -> None:
    assert hardening_reasons("Deployment", HARDENED) == []


def test_each_missing_rule_is_named() -> None:
    container = {"name": "app", "resources": {"requests": {"cpu": 0}}}
    reasons = hardening_reasons(
        "StatefulSet", {"containers": [container], "volumes": [{"name": "n", "nfs": {}}]}
    )
    assert reasons == [
        "container app: allowPrivilegeEscalation must be false (restricted Pod Security)",
        "container app: capabilities must drop ALL (restricted Pod Security)",
        "runAsNonRoot must be true, for the pod or every container (restricted Pod Security)",
        "seccompProfile.type must be RuntimeDefault or Localhost, for the pod or every container "
        "(restricted Pod Security)",
        "volume n: type nfs (restricted Pod Security)",
        "container app: no resources requests.memory, limits.memory",  # cpu: 0 is a request
        "container app: no readinessProbe or livenessProbe",
    ]
    assert resources_reasons({"containers": [{"name": "x", "resources": {"requests": {"memory": ""}}}]})


def test_jobs_need_no_probes_and_root_is_refused_wherever_it_is_set() -> None:
    job = {
        **HARDENED,
        "containers": [{**HARDENED["containers"][0], "readinessProbe": None, "livenessProbe": None}],
    }
    assert hardening_reasons("Job", job) == []
    rooted = {**HARDENED, "securityContext": {**HARDENED["securityContext"], "runAsUser": 0}}
    assert "runs as user 0 (root): restricted Pod Security refuses it" in hardening_reasons("Job", rooted)


def test_release_images_are_found_in_any_kind() -> None:
    knative = {"kind": "Service", "apiVersion": "serving.knative.dev/v1"}
    knative["spec"] = {"template": {"spec": {"containers": [{"image": "ghcr.io/org/web:2.0"}]}}}
    assert running_images([knative]) == {"ghcr.io/org/web:2.0"}
    release = {
        "images": [{"name": "ghcr.io/org/web", "newTag": "2.0"}, {"name": "ghcr.io/org/gone", "newTag": "1"}]
    }
    reasons = unmatched_image_reasons(release, [knative])
    assert len(reasons) == 1 and reasons[0].startswith("images: ghcr.io/org/gone matches no container")


def test_image_references_are_split_as_docker_reads_them() -> None:
    assert split_image("reg:5000/app:1.2@sha256:ab") == ("reg:5000/app", "1.2", "sha256:ab")
    assert split_image("reg:5000/app") == ("reg:5000/app", None, None)
    digest = {"name": "a", "digest": "sha256:ab"}
    assert (
        unmatched_image_reasons({"images": [digest]}, [{"spec": {"containers": [{"image": "a@sha256:ab"}]}}])
        == []
    )
