"""The attack suite: each way to widen access through the repository, as its own broken repo.

Written as someone with write access to a branch would try it: each case changes a generated
repository (Kyverno policies on, so the platform project is there too) and must make
`tools/gitops validate` exit 1 with a line that names the file and the widened permission.
The declared-exception cases show the platform team's way to allow one on purpose.

The repository is rendered and validated once; each case changes a copy of it. Two attacks run
the real tools/gitops; the others run validate in this process without its secret scan, which
no attack is about (tests/template_versions.py: gitops_in_process): under half the cost.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import render, run_gitops
from tests.template_versions import copy_repo, edit, gitops_in_process, validated

REPO_URL = "https://github.com/example-org/gitops.git"
APP = "myapp"
DEV_APP = f"argocd/apps/{APP}/dev.yaml"
DEV_OVERLAY = f"environments/dev/{APP}"
ROOT_PROJECT = "argocd/bootstrap/root-project.yaml"
ROOT_APP = "argocd/bootstrap/root-application.yaml"
PLATFORM = "argocd/apps/_platform/policies.yaml"

EVIL_PROJECT = """\
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: evil
  namespace: argocd
spec:
  sourceRepos: ["*"]
  destinations:
    - server: "*"
      namespace: "*"
  clusterResourceWhitelist:
    - group: "*"
      kind: "*"
"""

EVIL_APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: evil
  namespace: argocd
spec:
  project: evil
  source:
    repoURL: https://git.example.net/attacker/payload.git
    targetRevision: main
    path: .
  destination:
    server: https://kubernetes.default.svc
    namespace: kube-system
"""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("attacks") / "repo"
    return validated(render(repo, {"kyverno_policies": True, "protected_environments": ["prod"]}))


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def validate(repo: Path) -> subprocess.CompletedProcess[str]:
    return gitops_in_process(repo, "validate", scan_secrets=False)


def write(repo: Path, relative: str, text: str) -> None:
    (repo / relative).parent.mkdir(parents=True, exist_ok=True)
    (repo / relative).write_text(text)


CLUSTER_ADMIN_BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: evil
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: User
    name: mallory
    apiGroup: rbac.authorization.k8s.io
"""


INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: evil
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: myapp, port: {number: 80}}}
"""

# The same Ingress with no rules: its default backend takes every host.
DEFAULT_BACKEND_INGRESS = (
    INGRESS.split("  rules:\n")[0] + "  defaultBackend: {service: {name: myapp, port: {number: 80}}}\n"
)

HOSTLESS_ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: evil
spec:
  parentRefs: [{name: public, namespace: gateway-system}]
  rules: [{backendRefs: [{name: myapp, port: 80}]}]
"""

EXTERNAL_SECRET = """\
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: myapp
spec:
  secretStoreRef: {kind: ClusterSecretStore, name: vault}
  target: {name: myapp}
  data: [{secretKey: PASSWORD, remoteRef: {key: KEY, property: PASSWORD}}]
"""


# A git repository Kustomize would clone as the overlay builds (absent here: the build fails, and
# validate must name the entry itself, as it would for one that builds).
REMOTE_BASE = "file:///nonexistent/attacker.git//deploy?ref=main"


def symlink(repo: Path, relative: str, target: str) -> None:
    (repo / relative).parent.mkdir(parents=True, exist_ok=True)
    (repo / relative).symlink_to(target)


def add_to_platform(repo: Path, name: str, manifest: str) -> None:
    write(repo, f"platform/policies/{name}", manifest)
    edit(repo, "platform/policies/kustomization.yaml", "resources:\n", f"resources:\n  - {name}\n")


def add_to_overlay(repo: Path, name: str, manifest: str, env: str = "dev") -> None:
    """An object an overlay deploys, as an app team's pull request would add it."""
    overlay = f"environments/{env}/{APP}"
    write(repo, f"{overlay}/{name}", textwrap.dedent(manifest))
    edit(repo, f"{overlay}/kustomization.yaml", "resources:\n", f"resources:\n  - {name}\n")


def patch_deployment(repo: Path, patch: str) -> None:
    """A strategic-merge patch of the dev Deployment's pod spec."""
    body = textwrap.indent(textwrap.dedent(patch).strip(), " " * 12)
    edit(
        repo,
        f"{DEV_OVERLAY}/kustomization.yaml",
        "patches:\n",
        "patches:\n  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata:\n"
        f"        name: {APP}\n      spec:\n        template:\n          spec:\n{body}\n",
    )


def move_dev_into(repo: Path, namespace: str) -> None:
    """The dev overlay, its project and its Application all moved to `namespace`, consistently."""
    edit(repo, f"{DEV_OVERLAY}/kustomization.yaml", f'namespace: "{APP}-dev"', f'namespace: "{namespace}"')
    text = (repo / DEV_APP).read_text()
    text = text.replace(f'namespace: "{APP}-dev"', f'namespace: "{namespace}"')
    text = text.replace(
        f'kind: Namespace\n      name: "{APP}-dev"', f'kind: Namespace\n      name: "{namespace}"'
    )
    (repo / DEV_APP).write_text(text)


@dataclass
class Attack:
    change: Callable[[Path], None]
    where: str  # the start of the problem line: the file (and object)
    widened: str  # what the line must name


ATTACKS: dict[str, Attack] = {
    # --- AppProjects --------------------------------------------------------------------------
    "new-project-allows-everything": Attack(
        lambda r: write(r, "argocd/apps/evil/evil.yaml", EVIL_PROJECT),
        "argocd/apps/evil/evil.yaml: AppProject/evil:",
        "clusterResourceWhitelist allows cluster-scoped '*'/'*'",
    ),
    "new-project-any-destination": Attack(
        lambda r: write(r, "argocd/apps/evil/evil.yaml", EVIL_PROJECT),
        "argocd/apps/evil/evil.yaml: AppProject/evil:",
        "destinations allow server '*', namespace '*'",
    ),
    "new-project-any-source": Attack(
        lambda r: write(r, "argocd/apps/evil/evil.yaml", EVIL_PROJECT),
        "argocd/apps/evil/evil.yaml: AppProject/evil:",
        "sourceRepos allows any repository",
    ),
    "new-project-with-an-application": Attack(
        lambda r: write(r, "argocd/apps/evil/evil.yaml", EVIL_PROJECT + "---\n" + EVIL_APPLICATION),
        "argocd/apps/evil/evil.yaml: Application/evil:",
        "source.repoURL https://git.example.net/attacker/payload.git is not",
    ),
    "app-project-any-source": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            f'  sourceRepos:\n    - "{REPO_URL}"',
            f'  sourceRepos:\n    - "{REPO_URL}"\n    - "*"',
        ),
        f"{DEV_APP}: AppProject/{APP}-dev:",
        "sourceRepos must be exactly",
    ),
    "app-project-any-namespace": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            f'      namespace: "{APP}-dev"\n  # CreateNamespace',
            '      namespace: "*"\n  # CreateNamespace',
        ),
        f"{DEV_APP}: AppProject/{APP}-dev:",
        "destinations must be exactly",
    ),
    "app-project-cluster-kinds": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            "  clusterResourceWhitelist:\n",
            '  clusterResourceWhitelist:\n    - group: "*"\n      kind: "*"\n',
        ),
        f"{DEV_APP}: AppProject/{APP}-dev:",
        "clusterResourceWhitelist allows more than Namespace",
    ),
    "app-project-roles": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            "  clusterResourceWhitelist:\n",
            "  roles:\n    - name: ci\n      policies: ['p, proj:x:ci, applications, *, */*, allow']\n"
            "  clusterResourceWhitelist:\n",
        ),
        f"{DEV_APP}: AppProject/{APP}-dev:",
        "spec.roles grants its own policies and JWT tokens",
    ),
    "app-project-source-namespaces": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            "  clusterResourceWhitelist:\n",
            "  sourceNamespaces: ['*']\n  clusterResourceWhitelist:\n",
        ),
        f"{DEV_APP}: AppProject/{APP}-dev:",
        "spec.sourceNamespaces lets Applications outside the argocd namespace",
    ),
    "root-project-every-kind": Attack(
        lambda r: edit(r, ROOT_PROJECT, "  namespaceResourceWhitelist:\n", "  namespaceResourceBlacklist:\n"),
        f"{ROOT_PROJECT}: AppProject/root:",
        "namespaceResourceWhitelist must allow only argoproj.io Application and AppProject",
    ),
    "root-project-cluster-kinds": Attack(
        lambda r: edit(
            r,
            ROOT_PROJECT,
            "  clusterResourceWhitelist: []",
            '  clusterResourceWhitelist:\n    - group: "*"\n      kind: "*"',
        ),
        f"{ROOT_PROJECT}: AppProject/root:",
        "clusterResourceWhitelist must be empty",
    ),
    "platform-project-widened": Attack(
        lambda r: edit(
            r,
            PLATFORM,
            "      kind: ClusterPolicy\n",
            "      kind: ClusterPolicy\n    - group: rbac.authorization.k8s.io\n"
            "      kind: ClusterRoleBinding\n",
        ),
        f"{PLATFORM}: AppProject/platform-policies:",
        "clusterResourceWhitelist allows cluster-scoped 'rbac.authorization.k8s.io'/'ClusterRoleBinding'",
    ),
    "platform-application-left-with-a-widened-project": Attack(
        lambda r: edit(
            r,
            PLATFORM,
            "      kind: ClusterPolicy\n",
            "      kind: ClusterPolicy\n    - group: ''\n      kind: Namespace\n",
        ),
        f"{PLATFORM}: Application/platform-policies-1:",
        "project platform-policies is not the platform project's shape",
    ),
    # --- Applications -------------------------------------------------------------------------
    "app-uses-the-default-project": Attack(
        lambda r: edit(r, DEV_APP, f'  project: "{APP}-dev"', '  project: "default"'),
        f"{DEV_APP}: Application/{APP}-dev:",
        f"project default is not {APP}-dev",
    ),
    "app-follows-another-branch": Attack(
        lambda r: edit(r, DEV_APP, '    targetRevision: "main"', '    targetRevision: "attacker-branch"'),
        f"{DEV_APP}: Application/{APP}-dev:",
        "source.targetRevision attacker-branch is not main",
    ),
    "app-runs-a-plugin": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            f'    path: "environments/dev/{APP}"\n',
            f'    path: "environments/dev/{APP}"\n    plugin:\n      name: anything\n',
        ),
        f"{DEV_APP}: Application/{APP}-dev:",
        "source.plugin runs a config management plugin",
    ),
    "app-privileged-namespace": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            "pod-security.kubernetes.io/enforce: restricted",
            "pod-security.kubernetes.io/enforce: privileged",
        ),
        f"{DEV_APP}: Application/{APP}-dev:",
        "pod-security.kubernetes.io/enforce must be restricted, got 'privileged'",
    ),
    "app-into-kube-system": Attack(
        lambda r: move_dev_into(r, "kube-system"),
        f"{DEV_OVERLAY}:",
        "namespace kube-system: apps never deploy into argocd, default or kube-*",
    ),
    "app-into-kube-system-named-by-the-application": Attack(
        lambda r: move_dev_into(r, "kube-system"),
        f"{DEV_APP}: Application/{APP}-dev:",
        "destination.namespace kube-system: apps never deploy into argocd, default or kube-*",
    ),
    "root-app-syncs-the-whole-repository": Attack(
        lambda r: edit(r, ROOT_APP, "    path: argocd/apps", "    path: ."),
        f"{ROOT_APP}: Application/root:",
        "source.path . is not argocd/apps",
    ),
    "second-application-in-bootstrap": Attack(
        lambda r: write(
            r, "argocd/bootstrap/extra.yaml", EVIL_APPLICATION.replace("project: evil", "project: root")
        ),
        "argocd/bootstrap/extra.yaml: Application/evil:",
        "only the root Application (project root) lives in argocd/bootstrap/",
    ),
    "applicationset-under-apps": Attack(
        lambda r: write(
            r,
            "argocd/apps/evil/set.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: evil\n"
            "  namespace: argocd\nspec:\n  generators: []\n  template:\n    metadata:\n      name: x\n"
            "    spec: {}\n",
        ),
        "argocd/apps/evil/set.yaml: ApplicationSet/evil:",
        "only argoproj.io/v1alpha1 Applications and AppProjects belong under argocd/",
    ),
    "cluster-role-binding-under-apps": Attack(
        lambda r: write(r, "argocd/apps/evil/crb.yaml", CLUSTER_ADMIN_BINDING),
        "argocd/apps/evil/crb.yaml: ClusterRoleBinding/evil:",
        "got rbac.authorization.k8s.io/v1 ClusterRoleBinding",
    ),
    "cluster-role-binding-in-platform": Attack(
        lambda r: add_to_platform(r, "crb.yaml", CLUSTER_ADMIN_BINDING),
        "platform/policies: ClusterRoleBinding/evil:",
        "the platform project syncs only Kyverno ClusterPolicies",
    ),
    # --- Objects inside an overlay ------------------------------------------------------------
    "rolebinding-to-cluster-admin": Attack(
        lambda r: add_to_overlay(
            r,
            "rb.yaml",
            """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: evil
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
            subjects: [{kind: ServiceAccount, name: myapp}]
            """,
        ),
        f"{DEV_OVERLAY}: RoleBinding/evil:",
        "grants ClusterRole cluster-admin",
    ),
    "rolebinding-edit-to-another-namespace": Attack(
        lambda r: add_to_overlay(
            r,
            "rb.yaml",
            """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: evil
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
            subjects: [{kind: ServiceAccount, name: ci, namespace: other-team}]
            """,
        ),
        f"{DEV_OVERLAY}: RoleBinding/evil:",
        "grants ClusterRole edit to ServiceAccount ci, outside the namespace's own service accounts",
    ),
    "rolebinding-to-everyone": Attack(
        lambda r: add_to_overlay(
            r,
            "rb.yaml",
            """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: evil
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
            subjects: [{kind: Group, name: "system:authenticated", apiGroup: rbac.authorization.k8s.io}]
            """,
        ),
        f"{DEV_OVERLAY}: RoleBinding/evil:",
        "grants ClusterRole view to everyone (Group system:authenticated)",
    ),
    "role-with-escalate": Attack(
        lambda r: add_to_overlay(
            r,
            "role.yaml",
            """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata:
              name: evil
            rules:
              - {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [get, escalate, bind]}
            """,
        ),
        f"{DEV_OVERLAY}: Role/evil:",
        "grants bind, escalate",
    ),
    "role-with-impersonate": Attack(
        lambda r: add_to_overlay(
            r,
            "role.yaml",
            """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata:
              name: evil
            rules: [{apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate]}]
            """,
        ),
        f"{DEV_OVERLAY}: Role/evil:",
        "grants impersonate",
    ),
    "cluster-role-in-overlay": Attack(
        lambda r: add_to_overlay(
            r,
            "cr.yaml",
            """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: evil
            rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
            """,
        ),
        f"{DEV_OVERLAY}: ClusterRole/evil:",
        "grants every verb on ['*'], escalate and bind included",
    ),
    "host-network": Attack(
        lambda r: patch_deployment(r, "hostNetwork: true"),
        f"{DEV_OVERLAY}: Deployment/{APP}:",
        "hostNetwork: true shares the node's namespace",
    ),
    "host-pid": Attack(
        lambda r: patch_deployment(r, "hostPID: true"),
        f"{DEV_OVERLAY}: Deployment/{APP}:",
        "hostPID: true shares the node's namespace",
    ),
    "host-path": Attack(
        lambda r: patch_deployment(r, "volumes:\n  - name: root\n    hostPath: {path: /}"),
        f"{DEV_OVERLAY}: Deployment/{APP}:",
        "volume root mounts the node's / (hostPath)",
    ),
    "privileged-container": Attack(
        lambda r: patch_deployment(
            r, f"containers:\n  - name: {APP}\n    securityContext: {{privileged: true}}"
        ),
        f"{DEV_OVERLAY}: Deployment/{APP}:",
        f"container {APP} is privileged",
    ),
    "host-port": Attack(
        lambda r: patch_deployment(
            r,
            f"containers:\n  - name: {APP}\n"
            "    ports: [{name: http, containerPort: 8080, protocol: TCP, hostPort: 80}]",
        ),
        f"{DEV_OVERLAY}: Deployment/{APP}:",
        f"container {APP} binds host port 80",
    ),
    "node-port-service": Attack(
        lambda r: add_to_overlay(
            r,
            "svc.yaml",
            """\
            apiVersion: v1
            kind: Service
            metadata:
              name: evil
            spec:
              type: NodePort
              selector: {app: x}
              ports: [{port: 80}]
            """,
        ),
        f"{DEV_OVERLAY}: Service/evil:",
        "type NodePort opens the app outside the cluster",
    ),
    "load-balancer-service": Attack(
        lambda r: add_to_overlay(
            r,
            "svc.yaml",
            """\
            apiVersion: v1
            kind: Service
            metadata:
              name: evil
            spec:
              type: LoadBalancer
              selector: {app: x}
              ports: [{port: 80}]
            """,
        ),
        f"{DEV_OVERLAY}: Service/evil:",
        "type LoadBalancer opens the app outside the cluster",
    ),
    "external-ips": Attack(
        lambda r: add_to_overlay(
            r,
            "svc.yaml",
            """\
            apiVersion: v1
            kind: Service
            metadata:
              name: evil
            spec:
              selector: {app: x}
              externalIPs: [10.0.0.1]
              ports: [{port: 80}]
            """,
        ),
        f"{DEV_OVERLAY}: Service/evil:",
        "externalIPs ['10.0.0.1'] can capture other traffic",
    ),
    "application-inside-an-overlay": Attack(
        lambda r: add_to_overlay(r, "app.yaml", EVIL_APPLICATION),
        f"{DEV_OVERLAY}: Application/evil:",
        "Argo CD objects belong under argocd/apps/",
    ),
    # --- Found by an adversarial review: files and fields Argo CD reads that validate did not --
    "remote-resource-in-an-overlay": Attack(
        lambda r: edit(
            r, f"{DEV_OVERLAY}/kustomization.yaml", "resources:\n", f"resources:\n  - {REMOTE_BASE}\n"
        ),
        f"{DEV_OVERLAY}/kustomization.yaml:",
        f"resources lists {REMOTE_BASE}, which is fetched from outside this repository",
    ),
    "remote-component-in-the-base": Attack(
        lambda r: edit(
            r,
            f"applications/base/{APP}/kustomization.yaml",
            "resources:\n",
            "components:\n  - https://git.example.net/attacker/payload//sidecar\nresources:\n",
        ),
        f"applications/base/{APP}/kustomization.yaml:",
        "components lists https://git.example.net/attacker/payload//sidecar, which is fetched",
    ),
    "remote-resource-in-a-kustomization-yml": Attack(
        lambda r: (
            edit(r, f"{DEV_OVERLAY}/kustomization.yaml", "resources:\n", f"resources:\n  - {REMOTE_BASE}\n"),
            (r / DEV_OVERLAY / "kustomization.yaml").rename(r / DEV_OVERLAY / "kustomization.yml"),
        ),
        f"{DEV_OVERLAY}/kustomization.yml:",
        f"resources lists {REMOTE_BASE}, which is fetched from outside this repository",
    ),
    "remote-base-in-another-spelling": Attack(
        lambda r: (
            (r / DEV_OVERLAY / "GitHub.com/evil/payload").mkdir(parents=True),  # Kustomize tries git first
            edit(
                r,
                f"{DEV_OVERLAY}/kustomization.yaml",
                "resources:\n",
                "resources:\n  - GitHub.com/evil/payload\n",
            ),
        ),
        f"{DEV_OVERLAY}/kustomization.yaml:",
        "resources lists GitHub.com/evil/payload, which is fetched",
    ),
    "remote-patch": Attack(
        lambda r: edit(
            r,
            f"{DEV_OVERLAY}/kustomization.yaml",
            "patches:\n",
            "patches:\n  - path: http://example.net/p.yaml\n",
        ),
        f"{DEV_OVERLAY}/kustomization.yaml:",
        "patches lists http://example.net/p.yaml, which is fetched",
    ),
    "remote-generator-file": Attack(
        lambda r: edit(
            r,
            f"{DEV_OVERLAY}/kustomization.yaml",
            "patches:\n",
            "configMapGenerator:\n  - name: cfg\n    envs: [deploy@example.com:evil/env]\npatches:\n",
        ),
        f"{DEV_OVERLAY}/kustomization.yaml:",
        "configMapGenerator lists deploy@example.com:evil/env, which is fetched",
    ),
    "chart-pulled-from-anywhere": Attack(
        lambda r: edit(
            r,
            f"{DEV_OVERLAY}/kustomization.yaml",
            "patches:\n",
            "helmCharts:\n  - name: payload\n    repo: https://charts.example.net\n"
            "    releaseName: p\npatches:\n",
        ),
        f"{DEV_OVERLAY}/kustomization.yaml:",
        "helmCharts payload comes from https://charts.example.net, but the answers give no chart_repo",
    ),
    "argocd-source-file-in-an-overlay": Attack(
        lambda r: write(r, f"{DEV_OVERLAY}/.argocd-source.yaml", 'directory: {include: "payload.yaml"}\n'),
        f"{DEV_OVERLAY}/.argocd-source.yaml:",
        "Argo CD merges this file into the Application's source",
    ),
    "merge-key-widens-a-project-for-argo-cd-only": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            "  clusterResourceWhitelist:\n",
            '  <<: {sourceRepos: ["*"]}\n  clusterResourceWhitelist:\n',
        ),
        f"{DEV_APP}:",
        "merge keys (<<) are not allowed under argocd/",
    ),
    "alias-under-argocd": Attack(
        lambda r: write(r, "argocd/apps/myapp/x.yaml", "a: &big [1, 2]\nb: *big\n"),
        "argocd/apps/myapp/x.yaml:",
        "anchors and aliases are not allowed under argocd/",
    ),
    "binary-tagged-label-under-argocd": Attack(
        # Argo CD decodes the key to pod-security.kubernetes.io/enforce: a privileged namespace.
        lambda r: edit(
            r,
            DEV_APP,
            "        pod-security.kubernetes.io/enforce-version: latest\n",
            "        pod-security.kubernetes.io/enforce-version: latest\n"
            "        !!binary cG9kLXNlY3VyaXR5Lmt1YmVybmV0ZXMuaW8vZW5mb3JjZQ==: privileged\n",
        ),
        f"{DEV_APP}:",
        "the YAML tag !!binary is not allowed under argocd/",
    ),
    "jsonnet-under-apps": Attack(
        lambda r: write(r, "argocd/apps/evil/evil.jsonnet", "{}\n"),
        "argocd/apps/evil/evil.jsonnet:",
        "Argo CD evaluates jsonnet here",
    ),
    "project-in-a-kustomization-named-file-under-apps": Attack(
        lambda r: write(r, "argocd/apps/evil/kustomization.yaml", EVIL_PROJECT),
        "argocd/apps/evil/kustomization.yaml: AppProject/evil:",
        "sourceRepos allows any repository",
    ),
    "symlink-under-argocd": Attack(
        lambda r: symlink(
            r, "argocd/apps/evil/evil.yaml", "../../../environments/dev/myapp/kustomization.yaml"
        ),
        "argocd/apps/evil/evil.yaml:",
        "a symlink: Argo CD follows it",
    ),
    "skip-file-rendering-marker": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject",
            "# +argocd:skip-file-rendering\napiVersion: argoproj.io/v1alpha1\nkind: AppProject",
        ),
        f"{DEV_APP}:",
        "holds +argocd:skip-file-rendering",
    ),
    "deeply-nested-file-under-argocd": Attack(
        lambda r: write(r, "argocd/apps/evil/deep.yaml", "[" * 5000 + "]" * 5000 + "\n"),
        "argocd/apps/evil/deep.yaml:",
        "nested too deeply to read",
    ),
    "platform-application-climbs-out-of-platform": Attack(
        lambda r: edit(
            r, PLATFORM, "    path: platform/policies", "    path: platform/../environments/dev/myapp"
        ),
        f"{PLATFORM}: Application/platform-policies-1:",
        "is not a kustomization platform/<name>",
    ),
    "application-with-kustomize-patches": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            f'    path: "environments/dev/{APP}"\n',
            f'    path: "environments/dev/{APP}"\n    kustomize:\n      namePrefix: x-\n',
        ),
        f"{DEV_APP}: Application/{APP}-dev:",
        "source.kustomize: changes what Argo CD builds from what validate checks",
    ),
    "application-with-a-source-hydrator": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            "  destination:\n",
            "  sourceHydrator:\n    drySource: {repoURL: x, targetRevision: main, path: .}\n"
            "    syncSource: {targetBranch: mallory, path: x}\n  destination:\n",
        ),
        f"{DEV_APP}: Application/{APP}-dev:",
        "spec.sourceHydrator",
    ),
    "application-named-root-under-apps": Attack(
        lambda r: edit(
            r,
            DEV_APP,
            f'  name: "{APP}-dev"\n  namespace: argocd\n  labels:',
            '  name: "root"\n  namespace: argocd\n  labels:',
        ),
        f"{DEV_APP}: Application/root:",
        "root is reserved",
    ),
    "cluster-server-pattern": Attack(
        lambda r: edit(r, "gitops.yaml", "clusters: {}", 'clusters: {dev: "*"}'),
        "gitops.yaml:",
        "clusters.dev: '*' is not one https:// API server",
    ),
    "namespace-object-in-an-overlay": Attack(
        lambda r: add_to_overlay(
            r,
            "ns.yaml",
            """\
            apiVersion: v1
            kind: Namespace
            metadata:
              name: myapp-dev
              labels: {pod-security.kubernetes.io/enforce: restricted}
            """,
        ),
        f"{DEV_OVERLAY}: Namespace/{APP}-dev:",
        "a Namespace here would replace them",
    ),
    "external-secret-reads-prod": Attack(
        lambda r: add_to_overlay(r, "es.yaml", EXTERNAL_SECRET.replace("KEY", f"{APP}/prod")),
        f"{DEV_OVERLAY}: ExternalSecret/{APP}:",
        f"reads remote key {APP}/prod, not this environment's {APP}/dev",
    ),
    "external-secret-finds-everything": Attack(
        lambda r: add_to_overlay(
            r,
            "es.yaml",
            EXTERNAL_SECRET.replace("KEY", f"{APP}/dev") + "  dataFrom: [{find: {name: {regexp: '.*'}}}]\n",
        ),
        f"{DEV_OVERLAY}: ExternalSecret/{APP}:",
        "dataFrom.find reads every remote key it matches",
    ),
    "endpoint-slice-to-the-metadata-api": Attack(
        lambda r: add_to_overlay(
            r,
            "eps.yaml",
            """\
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: evil
            addressType: IPv4
            endpoints: [{addresses: [169.254.169.254]}]
            """,
        ),
        f"{DEV_OVERLAY}: EndpointSlice/evil:",
        "hand-written endpoints can send the app's traffic to any address",
    ),
    "external-name-service": Attack(
        lambda r: add_to_overlay(
            r,
            "svc.yaml",
            """\
            apiVersion: v1
            kind: Service
            metadata:
              name: evil
            spec: {type: ExternalName, externalName: kubernetes.default.svc.cluster.local}
            """,
        ),
        f"{DEV_OVERLAY}: Service/evil:",
        "type ExternalName points the Service at kubernetes.default.svc.cluster.local",
    ),
    "claim-a-volume-by-name": Attack(
        lambda r: add_to_overlay(
            r,
            "pvc.yaml",
            """\
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: evil
            spec:
              accessModes: [ReadWriteOnce]
              volumeName: pv-other-team-prod-db
              resources: {requests: {storage: 1Gi}}
            """,
        ),
        f"{DEV_OVERLAY}: PersistentVolumeClaim/evil:",
        "volumeName pv-other-team-prod-db claims a volume by name",
    ),
    "rolebinding-to-a-person": Attack(
        lambda r: add_to_overlay(
            r,
            "rb.yaml",
            """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: evil
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
            subjects: [{kind: User, name: mallory, apiGroup: rbac.authorization.k8s.io}]
            """,
        ),
        f"{DEV_OVERLAY}: RoleBinding/evil:",
        "grants Role reader to User mallory, outside the namespace's own service accounts",
    ),
    "answers-files-left-to-anyone": Attack(
        lambda r: edit(r, ".github/CODEOWNERS", "/.copier-answers.*.yml", "/.copier-answers.*.yml.unused"),
        ".github/CODEOWNERS:",
        f".copier-answers.{APP}.yml is owned by nobody",
    ),
    "ingress-despite-exposure-none": Attack(
        lambda r: add_to_overlay(r, "ing.yaml", INGRESS),
        f"{DEV_OVERLAY}: Ingress/evil:",
        "routes shop.example.com although the app's exposure answer is none",
    ),
    "ingress-rule-without-a-host": Attack(
        lambda r: add_to_overlay(
            r, "ing.yaml", INGRESS.replace("    - host: shop.example.com\n      http:", "    - http:")
        ),
        f"{DEV_OVERLAY}: Ingress/evil:",
        "routes * (every host) although the app's exposure answer is none",
    ),
    "ingress-default-backend": Attack(
        lambda r: add_to_overlay(r, "ing.yaml", DEFAULT_BACKEND_INGRESS),
        f"{DEV_OVERLAY}: Ingress/evil:",
        "routes * (every host) although the app's exposure answer is none",
    ),
    "http-route-without-hostnames": Attack(
        lambda r: add_to_overlay(r, "route.yaml", HOSTLESS_ROUTE),
        f"{DEV_OVERLAY}: HTTPRoute/evil:",
        "routes * (every host) although the app's exposure answer is none",
    ),
    "overlay-moved-into-a-controllers-namespace": Attack(
        lambda r: move_dev_into(r, "external-secrets"),
        f"{DEV_OVERLAY}:",
        f"namespace external-secrets is not {APP}-dev",
    ),
    "overlay-moved-into-another-environments-namespace": Attack(
        lambda r: move_dev_into(r, f"{APP}-staging"),
        f"environments/staging/{APP}:",
        f"namespace {APP}-staging is also {DEV_OVERLAY}'s on the same cluster",
    ),
    "namespace-label-hides-it-from-the-platform-policies": Attack(
        lambda r: edit(
            r, DEV_APP, 'gitops-template/app-namespace: "true"', 'gitops-template/app-namespace: "false"'
        ),
        f"{DEV_APP}: Application/{APP}-dev:",
        "labels.gitops-template/app-namespace must be 'true', got 'false'",
    ),
    "external-secret-from-a-generator": Attack(
        lambda r: add_to_overlay(
            r,
            "es.yaml",
            EXTERNAL_SECRET.replace(
                "  data: [",
                "  dataFrom: [{sourceRef: {generatorRef: {apiVersion: "
                "generators.external-secrets.io/v1alpha1, kind: ClusterGenerator, name: admin-sts}}}]\n"
                "  data: [",
            ).replace("key: KEY", f"key: {APP}/dev"),
        ),
        f"{DEV_OVERLAY}: ExternalSecret/{APP}:",
        "dataFrom[0].sourceRef reads from a generator, not spec.secretStoreRef",
    ),
    "external-secret-entry-from-another-store": Attack(
        lambda r: add_to_overlay(
            r,
            "es.yaml",
            EXTERNAL_SECRET.replace(
                "property: PASSWORD}}]",
                "property: PASSWORD}, "
                "sourceRef: {storeRef: {kind: ClusterSecretStore, name: vault-platform}}}]",
            ).replace("key: KEY", f"key: {APP}/dev"),
        ),
        f"{DEV_OVERLAY}: ExternalSecret/{APP}:",
        "data[0].sourceRef reads from another store, not spec.secretStoreRef",
    ),
    "wide-project-in-the-argocd-install": Attack(
        lambda r: (
            write(r, "argocd/install/sandbox.yaml", EVIL_PROJECT),
            edit(
                r,
                "argocd/install/kustomization.yaml",
                "  - namespace.yaml\n",
                "  - namespace.yaml\n  - sandbox.yaml\n",
            ),
        ),
        "argocd/install/sandbox.yaml:",
        "AppProject/evil: Argo CD objects belong under argocd/apps/",
    ),
    "every-user-an-admin-in-the-argocd-install": Attack(
        lambda r: (
            write(
                r,
                "argocd/install/rbac.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-rbac-cm\n"
                "data:\n  policy.default: role:admin\n",
            ),
            edit(r, "argocd/install/kustomization.yaml", "patches:\n", "patches:\n  - path: rbac.yaml\n"),
        ),
        "argocd/install/rbac.yaml:",
        "argocd-rbac-cm: policy.default role:admin gives that role to every user who logs in",
    ),
    "admin-default-through-a-json6902-patch-in-the-install": Attack(
        lambda r: edit(
            r,
            "argocd/install/kustomization.yaml",
            "patches:\n",
            "patches:\n  - target: {kind: ConfigMap, name: argocd-rbac-cm}\n    patch: |-\n"
            "      - op: add\n        path: /data/policy.default\n        value: role:admin\n",
        ),
        "argocd/install/kustomization.yaml:",
        "argocd-rbac-cm: policy.default role:admin",
    ),
    "admin-default-through-a-generator-in-the-install": Attack(
        lambda r: edit(
            r,
            "argocd/install/kustomization.yaml",
            "patches:\n",
            "configMapGenerator:\n  - name: argocd-rbac-cm\n    behavior: merge\n"
            "    literals: [policy.default=role:admin]\npatches:\n",
        ),
        "argocd/install/kustomization.yaml:",
        "argocd-rbac-cm: policy.default role:admin",
    ),
    "readonly-redefined-as-admin-in-a-folder-of-the-install": Attack(
        lambda r: (
            write(
                r,
                "argocd/install/extra/rbac.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-rbac-cm\n"
                "data:\n  policy.csv: |\n    p, role:readonly, *, *, */*, allow\n",
            ),
            write(r, "argocd/install/extra/project.yaml", EVIL_PROJECT),
            edit(
                r,
                "argocd/install/kustomization.yaml",
                "  - namespace.yaml\n",
                "  - namespace.yaml\n  - extra\n",
            ),
        ),
        "argocd/install/extra/rbac.yaml:",
        "policy.csv `p, role:readonly, *, *, */*, allow` gives every user who logs in",
    ),
    "ingress-takes-another-environments-host": Attack(
        lambda r: [add_to_overlay(r, "ing.yaml", INGRESS, env) for env in ("dev", "staging")],
        f"environments/staging/{APP}: Ingress/evil:",
        f"host shop.example.com is also routed to {DEV_OVERLAY}",
    ),
}


# Refused by the real command too: one attack on Argo CD objects, one on what an overlay builds.
ON_THE_COMMAND_LINE = {"new-project-allows-everything", "host-network"}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_refused_naming_file_and_permission(repo: Path, name: str) -> None:
    attack = ATTACKS[name]
    attack.change(repo)
    result = run_gitops(repo, "validate") if name in ON_THE_COMMAND_LINE else validate(repo)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(attack.where) and attack.widened in line for line in lines), result.stdout


def test_unused_project_is_still_named(repo: Path) -> None:
    """A project that widens nothing yet is still not one the repository generates."""
    narrow = EVIL_PROJECT.replace('["*"]', f'["{REPO_URL}"]').split("  destinations:")[0]
    write(repo, "argocd/apps/evil/evil.yaml", narrow)
    result = validate(repo)
    assert result.returncode == 1
    assert (
        "argocd/apps/evil/evil.yaml: AppProject/evil: not a project this repository generates"
        in result.stdout
    )


DECLARED = """
exceptions:
  - kind: AppProject
    name: evil
    reason: approved by the platform team (PLAT-1)
  - kind: Service
    name: edge
    namespace: myapp-dev
    reason: the edge load balancer
"""


def declare(repo: Path, text: str) -> None:
    edit(repo, "gitops.yaml", "exceptions: []\n", text.lstrip("\n"))


def test_declared_exceptions_are_honoured_and_named(repo: Path) -> None:
    write(repo, "argocd/apps/evil/evil.yaml", EVIL_PROJECT)
    add_to_overlay(repo, "svc.yaml", ATTACKS_SERVICE.replace("name: evil", "name: edge"))
    declare(repo, DECLARED)
    result = validate(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert (
        "exceptions honoured (gitops.yaml): AppProject/evil (approved by the platform team (PLAT-1))"
        in summary
    )
    assert "Service/edge in myapp-dev (the edge load balancer)" in summary


def test_exception_for_one_environment_does_not_cover_another(repo: Path) -> None:
    add_to_overlay(repo, "svc.yaml", ATTACKS_SERVICE)
    declare(repo, DECLARED.replace("name: edge", "name: evil").replace("myapp-dev", "myapp-prod"))
    result = validate(repo)
    assert result.returncode == 1
    assert f"{DEV_OVERLAY}: Service/evil: type LoadBalancer" in result.stdout


def test_stale_and_malformed_exceptions_are_problems(repo: Path) -> None:
    declare(
        repo,
        "exceptions:\n  - kind: AppProject\n    name: gone\n    reason: once needed\n  - kind: Service\n",
    )
    result = validate(repo)
    assert result.returncode == 1
    assert "gitops.yaml: exceptions: AppProject/gone (once needed) matches no object" in result.stdout
    assert "gitops.yaml: exceptions[1]: needs `kind`, `name`, a `reason`, and a `namespace`" in result.stdout


ATTACKS_SERVICE = """\
    apiVersion: v1
    kind: Service
    metadata:
      name: evil
    spec:
      type: LoadBalancer
      selector: {app.kubernetes.io/name: myapp}
      ports: [{port: 80, targetPort: http}]
    """


ALLOWING_LOAD_BALANCER = """
exceptions:
  - kind: Service
    name: evil
    namespace: myapp-dev
    allows: [type LoadBalancer]
    reason: the edge load balancer
"""


def test_an_exception_with_allows_excuses_only_what_it_names(repo: Path) -> None:
    """An exception once excused every problem of its object: the load balancer approved, an
    externalIPs added to the same Service later passed with it."""
    declare(repo, ALLOWING_LOAD_BALANCER)
    with_ips = ATTACKS_SERVICE.replace(
        "      type: LoadBalancer\n", "      type: LoadBalancer\n      externalIPs: [10.0.0.1]\n"
    )
    add_to_overlay(repo, "svc.yaml", with_ips)
    result = validate(repo)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(f"{DEV_OVERLAY}: Service/evil:")]
    assert len(lines) == 1 and "externalIPs ['10.0.0.1']" in lines[0], result.stdout
    (repo / DEV_OVERLAY / "svc.yaml").write_text(textwrap.dedent(ATTACKS_SERVICE))
    result = validate(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Service/evil in myapp-dev allowing type LoadBalancer (the edge load balancer)" in result.stderr
