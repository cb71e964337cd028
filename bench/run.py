"""Benchmarks of the template and of the generated repository's tools.

    python3 scripts/dev.py bench            # or: .venv/bin/python bench/run.py [--quick] [--apps 10,50,200]

Prints a Markdown table: each command against a baseline timed in interleaved pairs in the same
run (bench/timing.py), the median of the pairs' ratios with their smallest and largest.
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
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "template" / "tools"))

from gitopslib.layout import ANSWERS_GLOB, release_file
from repos import commit_all, git, many_app_repo, onboarded_repo, release_change, template_release
from timing import HEADER, Figure, paired

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
COPIER = [sys.executable, "-m", "copier"]
KUBECTL = str(BIN / "kubectl") if (BIN / "kubectl").exists() else "kubectl"
OLD_IMAGE, NEW_IMAGE = "1.29.3-alpine", "1.29.4-alpine"


def run(*command: str | Path, cwd: Path | None = None) -> None:
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(map(str, command))}: exit {result.returncode}\n{result.stdout}{result.stderr}"
        )


def gitops(repo: Path, *args: str) -> None:
    run(sys.executable, repo / "tools" / "gitops", *args, cwd=repo)


def overlays_of(repo: Path, env: str = "*") -> list[Path]:
    return sorted(p.parent for p in repo.glob(f"environments/{env}/*/kustomization.yaml"))


def kustomize_loop(overlays: list[Path]) -> None:
    """One `kubectl kustomize` per overlay, in sequence."""
    for overlay in overlays:
        run(KUBECTL, "kustomize", overlay)


def one_batched_build(overlays: list[Path], scratch: Path) -> None:
    """One `kubectl kustomize` of a kustomization listing every overlay: the floor of building
    them all in one process (each overlay's objects are in a namespace of their own)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    listed = "".join(f"- {os.path.relpath(overlay, scratch)}\n" for overlay in overlays)
    (scratch / "kustomization.yaml").write_text(f"resources:\n{listed}")
    run(KUBECTL, "kustomize", scratch)


@contextmanager
def busy_core() -> Iterator[None]:
    """One core kept busy by a load generator (a Python loop) while the block runs."""
    # The loop ends by itself once this process is gone (killed, it cannot kill the loop): its
    # parent changes. Looked at every million turns, so that the load stays pure Python.
    parent = os.getpid()
    loop = f"import os\nturns = 0\nwhile (turns := turns + 1) % 1_000_000 or os.getppid() == {parent}: pass"
    load = subprocess.Popen([sys.executable, "-c", loop])
    try:
        yield
    finally:
        load.kill()
        load.wait()


def floor_template(path: Path) -> Path:
    """Copier's floor: a one-file template from the same kind of local git source."""
    (path / "template").mkdir(parents=True)
    (path / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: x\n")
    (path / "template" / "README.md.jinja").write_text("{{ name }}\n")
    git(path, "init", "-q", "-b", "main")
    commit_all(path, "floor")
    git(path, "tag", "v1.0.0")
    return path


def bench_copy(work: Path, template: Path, pairs: int) -> Figure:
    floor = floor_template(work / "floor")
    targets = iter(range(10_000))

    def copy(source: Path) -> None:
        destination = work / f"out{next(targets)}"
        run(*COPIER, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", source, destination)

    return paired(
        "copy with the defaults (CLI)",
        "one-file template",
        lambda: copy(floor),
        lambda: copy(template),
        pairs,
        "<= 1.6",
    )


def bench_onboarding(work: Path, template: Path, sizes: list[int], pairs: int) -> list[Figure]:
    single = many_app_repo(template, work / "onboard-into-1", 1)
    figures = []
    for size in sizes:
        repo = many_app_repo(template, work / f"onboard-into-{size}", size)

        def onboard(repo: Path) -> None:
            run(
                *COPIER,
                "copy",
                "--trust",
                "--defaults",
                "--quiet",
                "--vcs-ref",
                "v1.0.0",
                "--data",
                "app_name=newapp",
                template,
                repo,
            )

        def reset(repo: Path = repo) -> None:
            for each in (single, repo):
                git(each, "reset", "-q", "--hard")
                git(each, "clean", "-qfdx")

        figures.append(
            paired(
                f"onboard one app into {size} apps",
                "into 1 app",
                baseline=lambda: onboard(single),
                ours=partial(onboard, repo),
                pairs=pairs,
                target="flat",
                prepare=reset,
            )
        )
    return figures


def bench_update(work: Path, apps: int, pairs: int, loaded: bool) -> Figure:
    """`tools/gitops update` against the naive loop: CLI `copier update` + commit per app."""
    template = template_release(work / f"update-template-{apps}-{loaded}")
    pristine = many_app_repo(template, work / f"update-pristine-{apps}-{loaded}", apps)
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
        trees["naive"] = git(repo, "rev-parse", "HEAD^{tree}")

    def ours() -> None:
        repo = fresh("ours")
        gitops(repo, "update")
        trees["ours"] = git(repo, "rev-parse", "HEAD^{tree}")

    load = " (one core kept busy)" if loaded else ""
    with busy_core() if loaded else nullcontext():
        figure = paired(
            f"`tools/gitops update`, {apps} apps{load}",
            "copier update CLI + commit per app",
            naive,
            ours,
            pairs,
            "<= 0.5",
        )
    assert trees["naive"] == trees["ours"], "tools/gitops update must give the same tree as the naive loop"
    return figure


def bench_validate(work: Path, template: Path, apps: int, pairs: int) -> list[Figure]:
    repo = many_app_repo(template, work / f"validate-{apps}", apps)
    overlays = overlays_of(repo)
    scratch = work / f"batch-{apps}"
    figures = [
        paired(
            f"`tools/gitops validate`, {len(overlays)} overlays",
            "one batched kubectl kustomize",
            lambda: one_batched_build(overlays, scratch),
            lambda: gitops(repo, "validate"),
            pairs,
            "<= 0.5 at 600",
        )
    ]
    # As a CI checkout runs it: no secret-scan cache in .git/gitops/ (validate keeps one locally).
    figures.append(
        paired(
            f"`tools/gitops validate` (cold, as in CI), {len(overlays)} overlays",
            "one batched kubectl kustomize",
            baseline=lambda: one_batched_build(overlays, scratch),
            ours=lambda: gitops(repo, "validate"),
            pairs=pairs,
            target="report",
            prepare=lambda: shutil.rmtree(repo / ".git" / "gitops", ignore_errors=True),
        )
    )
    if len(overlays) <= 150:
        figures.append(
            paired(
                f"`tools/gitops validate`, {len(overlays)} overlays",
                "sequential kubectl kustomize",
                lambda: kustomize_loop(overlays),
                lambda: gitops(repo, "validate"),
                pairs,
                "<= 0.15 at 60",
            )
        )
    release = repo / release_file("dev", "app000")
    release.write_text(release.read_text().replace(OLD_IMAGE, NEW_IMAGE))
    figures.append(
        paired(
            f"`validate --changed-since`, 1 of {len(overlays)} overlays",
            "full validate",
            lambda: gitops(repo, "validate"),
            lambda: gitops(repo, "validate", "--changed-since", "HEAD"),
            pairs,
            "small",
        )
    )
    git(repo, "checkout", "--", ".")
    return figures


def bench_promote(work: Path, template: Path, apps: int, pairs: int) -> Figure:
    repo = many_app_repo(template, work / f"promote-{apps}", apps)
    for release in repo.glob(release_file("dev", "*")):
        release.write_text(release.read_text().replace(OLD_IMAGE, NEW_IMAGE))
    commit_all(repo, "new releases in dev")
    overlays, scratch = overlays_of(repo), work / f"promote-batch-{apps}"
    return paired(
        f"`tools/gitops promote --all`, {apps} apps",
        f"one batched build of all {len(overlays)} overlays",
        baseline=lambda: one_batched_build(overlays, scratch),
        ours=lambda: gitops(repo, "promote", "--all", "--from", "dev"),
        pairs=pairs,
        target="<= 1.0",
        prepare=lambda: (
            git(repo, "checkout", "-q", "--", "."),
            git(repo, "clean", "-qfd", "--", "environments"),
        ),
    )


def bench_status(work: Path, template: Path, apps: int, pairs: int) -> Figure:
    repo = many_app_repo(template, work / f"status-{apps}", apps)
    floor = (
        "import glob, yaml\n"
        "for name in glob.glob('environments/*/*/release/*.yaml'):\n"
        "    yaml.load(open(name), Loader=yaml.CSafeLoader)\n"
    )
    return paired(
        f"`tools/gitops status`, {apps} apps",
        "Python reading every release file",
        lambda: run(sys.executable, "-c", floor, cwd=repo),
        lambda: gitops(repo, "status"),
        pairs,
        "report",
    )


def check_copied_repos(work: Path, template: Path) -> str:
    """The repositories made by copying one app's files (repos.many_app_repo) are what onboarding
    each app with Copier makes: the same tree, which validates and updates the same."""
    copied = many_app_repo(template, work / "check-copied", 3)
    onboarded = onboarded_repo(template, work / "check-onboarded", 3)
    trees = [git(repo, "rev-parse", "HEAD^{tree}") for repo in (copied, onboarded)]
    assert trees[0] == trees[1], f"copied and onboarded repositories differ: {trees}"
    return f"copied-file repositories checked against real onboarding (3 apps): same tree {trees[0][:12]}"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, Python {python}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one pair each, 10 and 50 apps")
    parser.add_argument("--apps", default="10,50,200", help="the repository sizes, e.g. 10,50,200")
    parser.add_argument("--update-apps", default="10,50,200", help="the sizes of the update benchmark")
    parser.add_argument(
        "--loaded-update-apps", default="10,50", help="the sizes of the update benchmark with one core busy"
    )
    parser.add_argument("--only", default="", help="only these benchmarks, e.g. validate,promote")
    args = parser.parse_args()
    pairs = 1 if args.quick else 3
    sizes = [10, 50] if args.quick else [int(size) for size in args.apps.split(",")]
    update_sizes = [10] if args.quick else [int(size) for size in args.update_apps.split(",")]
    loaded_sizes = [10] if args.quick else [int(size) for size in args.loaded_update_apps.split(",") if size]
    wanted = set(filter(None, args.only.split(",")))

    def chosen(name: str) -> bool:
        return not wanted or name in wanted

    # Each row is printed as soon as it is measured: a long run that fails late keeps the rest.
    print(f"Machine: {machine()}\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="gitops-bench-") as tmp:
        work = Path(tmp)
        template = template_release(work / "template")
        if chosen("check"):
            print(check_copied_repos(work, template) + "\n", flush=True)
        print(HEADER, flush=True)

        def show(*figures: Figure) -> None:
            for figure in figures:
                print(figure.row(), flush=True)

        if chosen("copy"):
            show(bench_copy(work, template, 3 if args.quick else 6))
        for apps in sizes:
            if chosen("validate"):
                show(*bench_validate(work, template, apps, pairs))
            if chosen("promote"):
                show(bench_promote(work, template, apps, pairs))
            if chosen("status"):
                show(bench_status(work, template, apps, pairs))
        if chosen("onboard"):
            show(*bench_onboarding(work, template, sizes, pairs))
        for apps in update_sizes if chosen("update") else []:
            show(bench_update(work, apps, 1 if apps >= 50 else pairs, loaded=False))
            if apps in loaded_sizes:
                show(bench_update(work, apps, 1 if apps >= 50 else pairs, loaded=True))


if __name__ == "__main__":
    main()
