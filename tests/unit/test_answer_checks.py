"""extensions/answer_checks.py: what the validators accept, and their boundaries (63-character
names, ports 1 and 65535, the oldest Argo CD, cron and Go duration limits). The refusals a user
meets are in tests/test_bad_answers.py; the onboarding and repo-level checks (which read the
repository's layout, under change) are tested there and in tests/test_onboarding.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from extensions import answer_checks as checks

ENVS = ["dev", "staging", "prod"]


def accepted(problem: str) -> bool:
    return problem == ""


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a", "a" * 63, "a1", "1a", "a-b", "a--b", "0"])
def test_dns_labels(name: str) -> None:
    assert checks.dns_label_problem(name, "q") == ""


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("a" * 64, "longer than 63 characters"),
        ("-a", "not a DNS-1123 label"),
        ("a-", "not a DNS-1123 label"),
        ("A", "not a DNS-1123 label"),
        ("a.b", "not a DNS-1123 label"),
        ("é", "not a DNS-1123 label"),
        ("", "must be a non-empty string"),
        (5, "must be a non-empty string, got 5"),
        (None, "must be a non-empty string, got None"),
    ],
)
def test_not_dns_labels(name: Any, words: str) -> None:
    problem = checks.dns_label_problem(name, "q")
    assert problem.startswith("q: ") and words in problem


def test_long_values_are_shortened_in_messages() -> None:
    # repr() of the value cut to 57 characters and an ellipsis: 60 in all.
    assert checks.dns_label_problem("a" * 100, "q") == "q: '" + "a" * 56 + "... is longer than 63 characters"


@pytest.mark.parametrize(("length", "ok"), [(253, True), (254, False)])
def test_dns_subdomain_length(length: int, ok: bool) -> None:
    name = ".".join(["a" * 63] * 3) + "." + "b" * (length - 3 * 64)
    assert len(name) == length
    assert accepted(checks.dns_subdomain_problem(name, "ingress_class")) is ok


@pytest.mark.parametrize(
    ("name", "ok"), [("nginx.internal", True), ("a..b", False), ("a.-b", False), (".a", False)]
)
def test_dns_subdomains(name: str, ok: bool) -> None:
    assert accepted(checks.dns_subdomain_problem(name, "ingress_class")) is ok


@pytest.mark.parametrize(
    ("app", "envs", "ok"),
    [
        ("a" * 55, ["dev", "staging"], True),  # a...a-staging: 63 characters
        ("a" * 56, ["dev", "staging"], False),
        ("a" * 59, ["dev"], True),
        ("a" * 63, ["x"], False),
        ("kubelet", ENVS, True),
        ("kube", ENVS, False),
        ("kube-proxy", ENVS, False),
        ("platform", ["dev", "policies-2"], False),  # platform-policies-2: a Kyverno project
        ("platform", ["dev", "policies-x"], True),
        ("platform-policies", ["dev"], True),  # platform-policies-dev is no such name
    ],
)
def test_app_name_against_its_namespaces(app: str, envs: list[str], ok: bool) -> None:
    assert accepted(checks.app_name_problem(app, envs)) is ok


def test_app_name_rules_tightened_after_a_release_hold_for_new_answers_only() -> None:
    assert "must start with a letter" in checks.app_name_problem("9lives", ENVS, strict=True)
    assert checks.app_name_problem("9lives", ENVS, strict=False) == ""
    assert checks.app_name_problem("a" * 60, ENVS, strict=False) == ""  # stored before the length rule
    assert "kube-" in checks.app_name_problem("kube-x", ENVS, strict=False)  # a rule since the start


def test_app_name_without_valid_environments_checks_the_name_alone() -> None:
    assert checks.app_name_problem("a" * 60, "not a list") == ""
    assert checks.app_name_problem("a" * 60, ["dev", "dev"]) == ""  # environments say what is wrong


@pytest.mark.parametrize(
    ("envs", "ok"),
    [
        (["prod"], True),
        (["e" * 20], True),
        (["e" * 21], False),
        (["dev", "default"], False),
        (["dev", "dev"], False),
        (["123", "true", "null"], True),  # strings, as YAML lists them quoted or not
        ([1], False),
        ([], False),
        ("dev", False),
        ({"dev": 1}, False),
    ],
)
def test_environments(envs: Any, ok: bool) -> None:
    assert accepted(checks.environments_problem(envs)) is ok


def test_environment_too_long_for_the_stored_app_name() -> None:
    app = "a" * 50
    assert checks.environments_problem(["dev", "e" * 12], app, strict=True) == ""  # 50 + 1 + 12 = 63
    assert "would exceed 63" in checks.environments_problem(["dev", "e" * 13], app, strict=True)
    assert checks.environments_problem(["dev", "e" * 13], app, strict=False) == ""


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("platform", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("shop.core_team-1", True),
        ("_a", False),
        ("a_", False),
        ("Platform Team", False),
        ("", False),
    ],
)
def test_label_values(value: str, ok: bool) -> None:
    assert accepted(checks.label_value_problem(value, "team")) is ok


@pytest.mark.parametrize(("length", "ok"), [(52, True), (53, False)])
def test_smoke_test_job_name_fits_a_label(length: int, ok: bool) -> None:
    assert accepted(checks.smoke_test_problem(True, "a" * length)) is ok
    assert checks.smoke_test_problem(False, "a" * 63) == ""
    assert checks.smoke_test_problem(True, "a" * 63, strict=False) == ""


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginxinc/nginx-unprivileged",
        "reg.example.com:5000/team/app",
        "localhost/app",
        "localhost:5000/a/b/c",
        "[::1]:5000/app",
        "Registry.Example.com/app",
        "a__b/c.d-e",
        "ghcr.io/example-org/shop/checkout",
        "a" * 255,
    ],
)
def test_image_repositories(image: str) -> None:
    assert checks.image_problem(image) == ""


@pytest.mark.parametrize(
    ("image", "words"),
    [
        ("a" * 256, "not an image repository"),
        ("nginx:1.27", "holds a tag"),
        ("reg:5000/app:1", "holds a tag"),
        ("app@sha256:abc", "holds a digest"),
        ("UPPER/case", "path components are lowercase"),
        ("Nginx", "not an image repository"),
        ("a//b", "not an image repository"),
        ("a/", "not an image repository"),
    ],
)
def test_not_image_repositories(image: str, words: str) -> None:
    assert words in checks.image_problem(image)


def test_uppercase_first_path_component_was_accepted_before() -> None:
    assert checks.image_problem("UPPER/case", strict=False) == ""


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        ("1.29.3-alpine", True),
        ("_build", True),
        ("v" * 128, True),
        ("v" * 129, False),
        ("sha256:" + "0123456789abcdef" * 4, True),
        ("sha256:" + "A" * 64, False),
        ("sha256:" + "a" * 63, False),
        ("latest", False),
        ("LATEST", False),
        ("latest-1", True),
        (".1", False),
        ("-rc1", False),
        ("1.0 beta", False),
    ],
)
def test_image_tags(tag: str, ok: bool) -> None:
    assert accepted(checks.image_tag_problem(tag)) is ok


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("port", "ok"), [(1, True), (65535, True), (0, False), (65536, False), (-80, False)])
def test_port_range(port: int, ok: bool) -> None:
    assert accepted(checks.port_problem(port, "service_port")) is ok


@pytest.mark.parametrize("port", [True, "80", 80.0, None])
def test_port_must_be_a_whole_number(port: Any) -> None:
    assert checks.port_problem(port, "service_port").startswith("service_port: must be a whole number")


@pytest.mark.parametrize(
    ("replicas", "ok"),
    [
        ({}, True),
        ({"dev": 0, "prod": 1000}, True),
        ({"prod": 1001}, False),
        ({"prod": True}, False),
        ({"prod": 1.0}, False),
        ({"qa": 1}, False),
        ([1], False),
    ],
)
def test_replicas(replicas: Any, ok: bool) -> None:
    assert accepted(checks.replicas_problem(replicas, ENVS)) is ok


def test_replicas_of_a_dropped_environment_stay_valid_when_stored() -> None:
    assert checks.replicas_problem({"qa": 2}, ENVS, strict=False) == ""
    assert "autoscaling" in checks.replicas_problem({"prod": 2}, ENVS, True, {"prod": {"min": 1, "max": 2}})


@pytest.mark.parametrize(
    ("spec", "ok"),
    [
        ({"min": 1, "max": 1}, True),
        ({"min": 1000, "max": 1000, "cpu": 100}, True),
        ({"min": 1, "max": 2, "cpu": 1}, True),
        ({"min": 0, "max": 1}, False),
        ({"min": 1, "max": 1001}, False),
        ({"min": 3, "max": 2}, False),
        ({"min": 1, "max": 2, "cpu": 0}, False),
        ({"min": 1, "max": 2, "cpu": 101}, False),
        ({"min": 1}, False),
        ({"min": 1, "max": 2, "memory": 50}, False),
        ({"min": True, "max": 2}, False),
        ({"min": "1", "max": 2}, False),
        ("3", False),
    ],
)
def test_autoscaling_bounds(spec: Any, ok: bool) -> None:
    assert accepted(checks.autoscaling_problem({"prod": spec}, ENVS, {})) is ok


# ---------------------------------------------------------------------------
# Repository settings
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://github.com/example-org/gitops.git", True),
        ("https://git.example.com:8443/a/b", True),
        ("ssh://git@git.example.com:2222/platform/gitops.git", True),
        ("ssh://git.example.com/gitops", True),
        ("git@github.com:example-org/gitops.git", True),
        ("git@github.com:/abs/path.git", False),
        ("http://github.com/a/b.git", False),
        ("https://github.com", False),
        ("https://github.com/a b", False),
        ("file:///srv/git/repo.git", False),
    ],
)
def test_repo_urls(url: str, ok: bool) -> None:
    assert accepted(checks.repo_url_problem(url)) is ok


@pytest.mark.parametrize(
    ("ref", "ok"),
    [
        ("main", True),
        ("release/2026.1", True),
        ("v1.2.3", True),
        ("a.lock.b", True),
        ("a.lock", False),
        ("a..b", False),
        ("a//b", False),
        ("/a", False),
        ("a/", False),
        (".a", False),
        ("a.", False),
        ("-a", False),
        ("a b", False),
        ("", False),
        (5, False),
    ],
)
def test_git_refs(ref: Any, ok: bool) -> None:
    assert accepted(checks.git_ref_problem(ref)) is ok


@pytest.mark.parametrize("ref", ["release/.hidden", "a.lock/b", "a/./b"])
def test_git_ref_components(ref: str) -> None:
    assert checks.git_ref_problem(ref) != ""


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("v3.3.0", True),
        ("v3.6.2", True),
        ("v10.0.0", True),
        ("v3.2.99", False),
        ("v2.14.0", False),
        ("3.6.2", False),
        ("v3.6", False),
        ("v03.3.0", False),
        ("v3.3.00", False),
        (3.6, False),
    ],
)
def test_argocd_versions(version: Any, ok: bool) -> None:
    assert accepted(checks.argocd_version_problem(version)) is ok


def test_argocd_version_with_leading_zeros_was_accepted_before() -> None:
    assert checks.argocd_version_problem("v03.3.0", strict=False) == ""
    assert "older than v3.3.0" in checks.argocd_version_problem("v03.2.0", strict=False)


@pytest.mark.parametrize(
    ("clusters", "ok"),
    [
        ({"prod": "https://prod.example.com:6443"}, True),
        ({"prod": "https://rancher.example.com/k8s/clusters/c-m-1"}, True),
        ({"prod": "https://prod.example.com/"}, False),
        ({"prod": "http://prod.example.com"}, False),
        ({"prod": "https://prod.example.com:6443/a//b"}, False),
        ({"qa": "https://qa.example.com"}, False),
        ({"prod": 6443}, False),
    ],
)
def test_clusters(clusters: Any, ok: bool) -> None:
    assert accepted(checks.clusters_problem(clusters, ENVS)) is ok


@pytest.mark.parametrize(
    ("owner", "ok"),
    [
        ("@user", True),
        ("@example-org/platform", True),
        ("platform-leads@example.com", True),
        ("@org/team/sub", False),
        ("platform team", False),
        ("", False),
    ],
)
def test_code_owners(owner: str, ok: bool) -> None:
    assert accepted(checks.code_owner_problem(owner)) is ok


@pytest.mark.parametrize(
    ("value", "ok"), [([], True), (["prod", "qa"], True), (["Prod"], False), ("prod", False)]
)
def test_protected_environments_are_names_not_necessarily_listed(value: Any, ok: bool) -> None:
    assert accepted(checks.protected_environments_problem(value)) is ok


def test_environment_lists() -> None:
    assert checks.environment_list_problem(["prod"], "manual_sync_environments", ENVS) == ""
    assert "not one of the environments" in checks.environment_list_problem(["qa"], "m", ENVS)
    assert checks.environment_list_problem(["qa"], "m", ENVS, strict=False) == ""
    assert "must be a YAML list" in checks.environment_list_problem("prod", "m", ENVS, strict=False)


# ---------------------------------------------------------------------------
# Container settings
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/", True),
        ("/healthz", True),
        ("/a/b-c_d.e~f", True),
        ("/a%20b", True),
        ("healthz", False),
        ("/a?b=1", False),
        ("/a b", False),
        ("/é", False),
    ],
)
def test_probe_paths(path: str, ok: bool) -> None:
    assert accepted(checks.probe_path_problem(path)) is ok


@pytest.mark.parametrize(
    ("paths", "ok"),
    [
        ([], True),
        (["/tmp", "/var/cache/nginx"], True),
        (["/" + "v" * 300], True),
        (["/tmp/"], False),
        (["/a/./b"], False),
        (["//tmp"], False),
        (["/a/../b"], False),
        (["/a/.."], False),
        (["tmp"], False),
        (["/tmp", "/tmp"], False),
        ([1], False),
        ("/tmp", False),
    ],
)
def test_writable_paths(paths: Any, ok: bool) -> None:
    assert accepted(checks.writable_paths_problem(paths)) is ok


def test_writable_paths_stored_before_normalisation_stay_valid() -> None:
    assert checks.writable_paths_problem(["/tmp/", "/tmp"], strict=False) == ""
    assert "listed twice" in checks.writable_paths_problem(["/tmp/", "/tmp/"], strict=False)
    assert "write it as /tmp" in checks.writable_paths_problem(["/tmp/"])


@pytest.mark.parametrize(
    ("keys", "ok"),
    [
        (["DATABASE_PASSWORD"], True),
        (["_x1"], True),
        (["A" * 253], True),
        (["A" * 254], False),
        (["1A"], False),
        (["db-password"], False),
        (["A", "A"], False),
        ([], False),
        ("A", False),
    ],
)
def test_secret_keys(keys: Any, ok: bool) -> None:
    assert accepted(checks.secret_keys_problem(keys)) is ok


# ---------------------------------------------------------------------------
# Exposure
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("shop.example.com", True),
        ("*.dev.example.com", True),
        ("shop.xn--p1ai", True),
        ("localhost", True),
        (".".join(["a" * 63] * 3) + "." + "b" * 61, True),
        (".".join(["a" * 63] * 3) + "." + "b" * 62, False),
        ("1.2.3.4", False),
        ("010.001.001.001", False),  # an IP to Kubernetes' ParseIPSloppy
        ("256.1.1.1", True),  # not an IP: a (numeric) DNS name
        ("*." + ".".join(["a" * 63] * 3) + "." + "b" * 59, True),  # 253 with the *.
        ("*." + ".".join(["a" * 63] * 3) + "." + "b" * 60, False),  # 254
        ("*.1.2.3.4", False),
        ("::1", False),
        ("Shop.example.com", False),
        ("*", False),
        ("a.*.example.com", False),
        ("shop example", False),
        (5, False),
    ],
)
def test_hosts(host: Any, ok: bool) -> None:
    assert accepted(checks.host_problem(host)) is ok


def test_hosts_need_exposure_and_one_host_per_environment() -> None:
    hosts = {"dev": "shop.example.com", "prod": "shop.example.com"}
    assert "both use shop.example.com" in checks.hosts_problem(hosts, ENVS, "ingress")
    assert "exposure is none" in checks.hosts_problem({"prod": "a.example.com"}, ENVS, "none")
    assert checks.hosts_problem(hosts, ENVS, "none", strict=False) == ""  # stored before both rules
    assert checks.hosts_problem({"prod": "a.example.com"}, ENVS, "gateway") == ""


@pytest.mark.parametrize(
    ("gateway", "ok"),
    [
        ("gateway-system/public", True),
        ("ns/a.b", True),
        ("true/null.gateway", True),
        ("ns", False),
        ("ns/", False),
        ("/name", False),
        ("NS/x", False),
        ("ns/a/b", False),
        ("a" * 64 + "/x", False),
    ],
)
def test_gateways(gateway: str, ok: bool) -> None:
    assert accepted(checks.gateway_problem(gateway)) is ok


@pytest.mark.parametrize(
    ("channel", "ok"),
    [
        ("", True),
        ("deploys", True),
        ("a" * 80, True),
        ("a" * 81, False),
        ("#deploys", False),
        ("Deploys", False),
        ("-deploys", False),
        (None, False),
    ],
)
def test_slack_channels(channel: Any, ok: bool) -> None:
    assert accepted(checks.channel_problem(channel)) is ok


KEY = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM\n"
    "-----END PUBLIC KEY-----"
)


def test_cosign_keys() -> None:
    assert checks.cosign_key_problem("", False) == ""
    assert checks.cosign_key_problem("  \n", False) == ""
    assert checks.cosign_key_problem(KEY, True) == ""
    assert checks.cosign_key_problem(KEY + "\n\n", True) == ""  # trailing newlines from a pasted file
    assert "set kyverno_policies to true" in checks.cosign_key_problem(KEY, False)
    assert checks.cosign_key_problem(KEY, False, strict=False) == ""
    assert "not a PEM public key" in checks.cosign_key_problem(KEY.replace("PUBLIC", "PRIVATE"), True)
    assert "must be a string" in checks.cosign_key_problem(None, True)


# ---------------------------------------------------------------------------
# Sync windows: robfig/cron v3 (minute hour day-of-month month day-of-week) and Go durations
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "schedule",
    [
        "0 8 * * 1-5",
        "0 8 * * MON-FRI",
        "0 0 1 jan sun",
        "59 23 31 12 6",
        "0 0 1 1 0",
        "*/15 * * * *",
        "0-30/10 8,12,18 * * ?",
        "0 8 * DEC *",
        "  0  8 * * *  ",
    ],
)
def test_cron_schedules(schedule: str) -> None:
    assert checks.cron_problem(schedule) == ""


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ("60 * * * *", "minute '60': 60 is outside 0-59"),
        ("0 24 * * *", "hour '24': 24 is outside 0-23"),
        ("0 0 0 * *", "day of month '0': 0 is outside 1-31"),
        ("0 0 * 13 *", "month '13': 13 is outside 1-12"),
        ("0 0 * * 7", "day of week '7': 7 is outside 0-6"),
        ("5-1 * * * *", "range 5-1 runs backwards"),
        ("*/0 * * * *", "step '0' is not a positive number"),
        ("*/99999999999999999999 * * * *", "is not a positive number"),  # beyond Go's int64
        ("0 8 * * mon-fri-sat", "is not a number"),
        ("@daily", "not a cron schedule of five fields"),
        ("0 8 * *", "not a cron schedule of five fields"),
        ("0 8 * * * *", "not a cron schedule of five fields"),
        ("0 8 * * 1\x1c", "not a cron schedule of five fields"),
        ("0 8 * * \u0661", "not a cron schedule of five fields"),
    ],
)
def test_not_cron_schedules(schedule: str, words: str) -> None:
    assert words in checks.cron_problem(schedule)


@pytest.mark.parametrize(
    "duration",
    [
        "2h",
        "1h30m",
        "90m",
        "1.5h",
        ".5h",
        "1.h",
        "300ms",
        "1us",
        "1\u00b5s",
        "+2h",
        "1.5ns",
        "2562047h47m16.854775807s",
    ],
)
def test_go_durations(duration: str) -> None:
    assert checks.duration_problem(duration) == ""


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        ("1d", "not a duration"),
        ("2", "not a duration"),
        ("h", "not a duration"),
        ("2 h", "not a duration"),
        ("0", "not a positive duration"),
        ("0h0m", "not a positive duration"),
        ("-1h", "not a positive duration"),
        ("0.5ns", "not a positive duration"),  # Go keeps whole nanoseconds: 0
        (".0000000009s", "not a positive duration"),
        ("2562047h47m16.854775808s", "longer than Go's durations reach"),  # 2**63 ns
    ],
)
def test_not_go_durations(duration: str, words: str) -> None:
    assert words in checks.duration_problem(duration)


def test_sync_windows() -> None:
    window = {"schedule": "0 8 * * 1-5", "duration": "10h"}
    assert checks.sync_windows_problem({"prod": window}, ENVS) == ""
    assert "must be a mapping of schedule and duration" in checks.sync_windows_problem(
        {"prod": {**window, "timeZone": "UTC"}}, ENVS
    )
    stored = {"prod": {"schedule": "99 99 99 99 99", "duration": "1d"}}
    assert "sync_windows: prod: " in checks.sync_windows_problem(stored, ENVS)
    assert checks.sync_windows_problem(stored, ENVS, strict=False) == ""  # stored before the cron rules


@pytest.mark.parametrize("content", ["app_name: [shop\n", "app_name: shop\nwhen: 2024-02-30\n", "- a\n"])
def test_an_unreadable_stored_answers_file_reads_as_none(tmp_path: Path, content: str) -> None:
    """safe_load raises ValueError for `2024-02-30`: a validator must not end in a traceback."""
    (tmp_path / ".copier-answers.shop.yml").write_text(content)
    conf = {"dst_path": str(tmp_path), "answers_file": ".copier-answers.shop.yml"}
    assert checks._stored_answers(conf) is None


def test_a_stored_answers_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".copier-answers.shop.yml").write_text("app_name: shop\nwhen: 2024-02-29\n")
    conf = {"dst_path": str(tmp_path), "answers_file": ".copier-answers.shop.yml"}
    assert checks._stored_answers(conf) == {"app_name": "shop", "when": date(2024, 2, 29)}


def test_an_app_keeps_its_name_on_update() -> None:
    assert checks.renamed_app_problem("shop", {"app_name": "shop"}) == ""
    assert checks.renamed_app_problem("shop", {}) == "", "a copy has no stored answers"
    assert checks.renamed_app_problem("shop", None) == ""
    assert checks.renamed_app_problem("cart", {"app_name": "shop"}).startswith(
        "app_name: the app is shop; its name cannot change"
    )


def test_head_is_no_branch_for_a_new_answer() -> None:
    assert "HEAD is not a branch name" in checks.git_ref_problem("HEAD")
    assert checks.git_ref_problem("HEAD", strict=False) == ""
    assert checks.git_ref_problem("main") == ""


@pytest.mark.parametrize(
    ("server", "ok"),
    [
        ("https://10.0.0.1:6443", True),
        ("https://k8s.example.com", True),
        ("https://k8s.example.com:65535/api", True),
        ("https://k8s.example.com:99999", False),
        ("https://k8s.example.com:0", False),
    ],
)
def test_cluster_ports(server: str, ok: bool) -> None:
    assert accepted(checks.clusters_problem({"prod": server}, ENVS)) is ok
    assert checks.clusters_problem({"prod": server}, ENVS, strict=False) == ""


def test_a_misspelt_protected_environment_is_refused_when_answered() -> None:
    assert "'prdo' is not one of the environments" in checks.protected_environments_problem(
        ["prdo"], ENVS, True
    )
    assert checks.protected_environments_problem(["prod"], ENVS, True) == ""
    assert checks.protected_environments_problem(["prdo"], ENVS) == "", (
        "stored: environments may have changed"
    )


def test_a_cosign_key_body_must_be_der() -> None:
    one_byte = "-----BEGIN PUBLIC KEY-----\n=\n-----END PUBLIC KEY-----"
    not_der = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
    for key in (one_byte, not_der):
        assert "not a PEM public key" in checks.cosign_key_problem(key, True)
        assert checks.cosign_key_problem(key, True, strict=False) == ""
    assert checks.cosign_key_problem(KEY, True) == ""


def test_a_host_given_for_one_environment_may_not_be_another_ones_default() -> None:
    hosts = {"dev": "shop.staging.example.com"}
    problem = checks.hosts_problem(hosts, ENVS, "ingress", True, "shop")
    assert problem == (
        "hosts: dev and staging both use shop.staging.example.com (its default host); "
        "each environment needs its own host"
    )
    assert checks.hosts_problem(hosts, ENVS, "ingress", True) == "", "without the app name: given hosts only"
    assert checks.hosts_problem(hosts, ENVS, "ingress", False, "shop") == "", "stored answers keep"


def test_an_onboarded_app_may_not_route_another_apps_host(tmp_path: Path) -> None:
    (tmp_path / ".copier-answers.cart.yml").write_text(
        "app_name: cart\nenvironments: [dev, staging, prod]\nexposure: ingress\n"
        "hosts: {prod: shop.example.com}\n"
    )
    (tmp_path / ".copier-answers.quiet.yml").write_text(
        "app_name: quiet\nenvironments: [dev, prod]\nexposure: none\n"
    )
    taken = checks.hosts_problem({"prod": "shop.example.com"}, ENVS, "gateway", True, "shop", tmp_path)
    assert (
        taken == "hosts: prod uses shop.example.com, which app cart in prod routes already; pick another host"
    )
    default = checks.hosts_problem({"dev": "cart.dev.example.com"}, ENVS, "ingress", True, "shop", tmp_path)
    assert "which app cart in dev routes already" in default, "cart's default host counts"
    assert (
        checks.hosts_problem({"dev": "quiet.dev.example.com"}, ENVS, "ingress", True, "shop", tmp_path) == ""
    )
    assert checks.hosts_problem({}, ENVS, "ingress", True, "shop", tmp_path) == ""


def test_the_smoke_test_and_image_verification_exclude_each_other(tmp_path: Path) -> None:
    """Its curl image is signed with no platform's key: verify-image-signatures would refuse it."""
    assert "not signed with the platform's cosign key" in checks.smoke_test_problem(True, "shop", True, KEY)
    assert checks.smoke_test_problem(True, "shop", True, "") == ""
    assert checks.smoke_test_problem(True, "shop", False, KEY) == "", "stored answers keep"
    (tmp_path / ".copier-answers.shop.yml").write_text("app_name: shop\nsmoke_test: true\n")
    refused = checks.cosign_key_problem(KEY, True, True, tmp_path)
    assert refused.startswith("cosign_public_key: app shop has smoke_test on: the smoke test's pod runs")
    (tmp_path / ".copier-answers.shop.yml").write_text("app_name: shop\nsmoke_test: false\n")
    assert checks.cosign_key_problem(KEY, True, True, tmp_path) == ""
