"""Benchmarks of the template and of the generated repository's tools.

    python3 scripts/dev.py bench            # or: .venv/bin/python bench/run.py [--quick]

Prints a Markdown table (median seconds, ratio to a baseline measured in the same run);
BENCHMARKS.md holds the latest results. Not part of the test suite: no timing assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "template" / "tools"))

from gitopslib.layout import ANSWERS_GLOB, release_file
from repos import commit_all, git, many_app_repo, release_change, template_release
from timing import Figure, median_seconds

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
COPIER = [sys.executable, "-m", "copier"]
KUBECTL = str(BIN / "kubectl") if (BIN / "kubectl").exists() else "kubectl"


def run(*command: str | Path, cwd: Path | None = None) -> None:
    subprocess.run([str(c) for c in command], cwd=cwd, env=ENV, check=True, capture_output=True)


def gitops(repo: Path, *args: str) -> None:
    run(sys.executable, repo / "tools" / "gitops", *args, cwd=repo)


def bare_kustomize_loop(overlays: list[Path]) -> None:
    """The baseline of build-heavy commands: one `kubectl kustomize` per overlay, in sequence."""
    for overlay in overlays:
        run(KUBECTL, "kustomize", overlay)


def floor_template(path: Path) -> Path:
    """Copier's floor: a one-file template from the same kind of local git source."""
    (path / "template").mkdir(parents=True)
    (path / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: x\n")
    (path / "template" / "README.md.jinja").write_text("{{ name }}\n")
    git(path, "init", "-q", "-b", "main")
    commit_all(path, "floor")
    git(path, "tag", "v1.0.0")
    return path


def bench_copy(work: Path, template: Path, runs: int) -> Figure:
    floor = floor_template(work / "floor")
    targets = iter(range(10_000))

    def copy(source: Path) -> None:
        run(
            *COPIER,
            "copy",
            "--trust",
            "--defaults",
            "--quiet",
            "--vcs-ref",
            "HEAD",
            source,
            work / f"out{next(targets)}",
        )

    baseline = median_seconds(lambda: copy(floor), runs)
    ours = median_seconds(lambda: copy(template), runs)
    return Figure("copy with the defaults (CLI)", "one-file template", baseline, ours, runs, "<= 1.5")


def bench_onboarding(work: Path, template: Path, sizes: list[int], runs: int) -> list[Figure]:
    figures = []
    first = None
    for size in sizes:
        repo = many_app_repo(template, work / f"onboard{size}", size)

        def reset(repo: Path = repo) -> None:
            git(repo, "reset", "-q", "--hard")
            git(repo, "clean", "-qfdx")

        def onboard(repo: Path = repo) -> None:
            run(*COPIER, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "v1.0.0",
                "--data", "app_name=newapp", template, repo)  # fmt: skip

        seconds = median_seconds(onboard, runs, prepare=reset)
        first = first or seconds
        figures.append(
            Figure(f"onboard one app into {size} apps", "into 1 app", first, seconds, runs, "flat")
        )
    return figures


def bench_update(work: Path, apps: int, runs: int) -> Figure:
    """`tools/gitops update` against the naive loop: CLI `copier update` + commit per app."""
    template = template_release(work / f"update-template-{apps}")
    pristine = many_app_repo(template, work / f"update-pristine-{apps}", apps)
    release_change(template, "v1.1.0")
    answers = sorted(p.name for p in pristine.glob(ANSWERS_GLOB))
    trees = {}

    def fresh(name: str) -> Path:
        target = work / f"update-{name}-{apps}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(pristine, target)
        return target

    def naive() -> None:
        repo = fresh("naive")
        for file in answers:
            run(*COPIER, "update", "--trust", "--defaults", "--quiet", "-a", file, cwd=repo)
            commit_all(repo, file)
        trees["naive"] = repo

    def ours() -> None:
        repo = fresh("ours")
        gitops(repo, "update")
        trees["ours"] = repo

    baseline = median_seconds(naive, runs)
    mine = median_seconds(ours, runs)
    assert git(trees["naive"], "rev-parse", "HEAD^{tree}") == git(
        trees["ours"], "rev-parse", "HEAD^{tree}"
    ), "tools/gitops update must give the same tree as the naive loop"
    return Figure(
        f"`tools/gitops update`, {apps} apps",
        "copier update CLI + commit per app",
        baseline,
        mine,
        runs,
        "<= 0.6",
    )


def bench_validate(work: Path, template: Path, apps: int, runs: int) -> list[Figure]:
    repo = many_app_repo(template, work / f"validate-{apps}", apps)
    overlays = sorted(p.parent for p in repo.glob("environments/*/*/kustomization.yaml"))
    baseline = median_seconds(lambda: bare_kustomize_loop(overlays), runs)
    full = median_seconds(lambda: gitops(repo, "validate"), runs)
    release = repo / release_file("dev", "app000")
    release.write_text(release.read_text().replace("1.29.3-alpine", "1.29.4-alpine"))
    changed = median_seconds(lambda: gitops(repo, "validate", "--changed-since", "HEAD"), runs)
    git(repo, "checkout", "--", ".")
    return [
        Figure(
            f"`tools/gitops validate`, {len(overlays)} overlays",
            "sequential kubectl kustomize",
            baseline,
            full,
            runs,
            "<= 0.6",
        ),
        Figure(
            f"`validate --changed-since`, 1 of {len(overlays)} overlays",
            "full validate",
            full,
            changed,
            runs,
            "small",
        ),
    ]


def bench_promote(work: Path, template: Path, apps: int, runs: int) -> Figure:
    repo = many_app_repo(template, work / f"promote-{apps}", apps)
    for release in repo.glob(release_file("dev", "*")):
        release.write_text(release.read_text().replace("1.29.3-alpine", "1.29.4-alpine"))
    commit_all(repo, "new releases in dev")
    targets = sorted(p.parent for p in repo.glob("environments/staging/*/kustomization.yaml"))
    baseline = median_seconds(lambda: bare_kustomize_loop(targets), runs)
    ours = median_seconds(
        lambda: gitops(repo, "promote", "--all", "--from", "dev"),
        runs,
        prepare=lambda: git(repo, "checkout", "-q", "--", "."),
    )
    return Figure(
        f"`tools/gitops promote --all`, {apps} apps",
        "one kubectl kustomize per target",
        baseline,
        ours,
        runs,
        "report",
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, Python {python}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller repositories")
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    with tempfile.TemporaryDirectory(prefix="gitops-bench-") as tmp:
        work = Path(tmp)
        template = template_release(work / "template")
        figures = [bench_copy(work, template, 2 if args.quick else 5)]
        figures += bench_onboarding(work, template, [1, 10] if args.quick else [1, 10, 50], runs)
        for apps in [10] if args.quick else [10, 50]:
            figures.append(bench_update(work, apps, 1 if apps >= 50 else runs))
        for apps in [20] if args.quick else [20, 100]:
            figures += bench_validate(work, template, apps, runs)
        figures.append(bench_promote(work, template, 10 if args.quick else 50, runs))
    print(f"Machine: {machine()}\n")
    print("| benchmark | baseline (median) | ours (median) | ratio | target | runs |")
    print("|---|---|---|---|---|---|")
    for figure in figures:
        print(figure.row())


if __name__ == "__main__":
    main()
