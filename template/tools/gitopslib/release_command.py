"""`tools/gitops release`: a new release enters the first environment.

Sets the tag or digest of one `images:` entry of the first environment's release
(environments/<first>/<app>/release/kustomization.yaml, environments in gitops.yaml order),
keeping the file's comments and formatting, and the `app.kubernetes.io/version` label the
release sets, if it sets one. From there `tools/gitops promote` moves it on. The tag or digest
is checked by the rule the `image_tag` answer is checked by (image_refs.py). An app with a Helm
chart (workload helm-chart) also takes a chart version (--chart-version, checked as the
`chart_version` answer is, chart_refs.py): the `version` of the release's helmCharts entry, with or
without an image, so that a chart and the image it runs enter together.

It edits releases as promote does, with promote's guarantees: the release is read as committed,
uncommitted or untracked changes in its release/ are refused, the first environment must still
build and validate, provenance.yaml records that the release entered here, every refusal is one
line and leaves the repository as it was, and a release that changes nothing writes nothing and
creates no branch or commit.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from . import fast_yaml, releases, roundtrip
from .chart_refs import chart_version_problem
from .errors import UsageError
from .git import git, is_work_tree
from .image_refs import VERSION_LABEL, digest_problem, image_tag_problem, is_digest, shown, version_label
from .interrupts import interruptible
from .kustomize import build_overlays, overlay_namespace, rendered_text
from .layout import KUSTOMIZATION, PROVENANCE, image_placeholder, release_dir
from .overlay_checks import release_problems
from .promote import (
    PromotionRefusedError,
    check_branch,
    checked_objects,
    commit_on_branch,
    refuse_uncommitted,
    relative_path,
    rendered_diff,
    restore,
    round_trip,
    snapshot,
)
from .repo import Overlay, Repo

COMMAND = "tools/gitops release"
# The image the base's containers name (applications/base/<app>/deployment.yaml): each release's
# `images:` entry of that name sets the app's own image; other entries are sidecars' images.
TAG, DIGEST = "newTag", "digest"


@dataclass(frozen=True)
class ReleaseRequest:
    app: str
    env: str
    reference: str | None  # an image tag, or a digest (sha256:...); None: the image stays
    image: str | None  # the `images:` entry to set, by name; None: the app's own image
    chart_version: str | None = None  # the helmCharts entry's version; None: the chart stays


@dataclass
class ReleasePlan:
    """What releasing writes in the first environment's release/: nothing when it runs it already."""

    directory: str
    before: dict[str, Any]
    after: dict[str, Any]
    writes: dict[str, bytes] = field(default_factory=dict)


def resolve_request(
    repo: Repo,
    app: str,
    tag: str | None,
    digest: str | None,
    image: str | None,
    chart_version: str | None = None,
) -> ReleaseRequest:
    """Refuses (UsageError) an unknown app, and a tag, digest or chart version that the image_tag or
    chart_version answer would refuse."""
    reference: str | None = None
    problem = ""
    if tag is not None:
        if is_digest(tag):
            raise UsageError(f"--tag: {shown(tag)} is a digest: pass it with --digest")
        reference, problem = tag, image_tag_problem(tag, "--tag")
    elif digest is not None:
        reference, problem = digest, digest_problem(digest, "--digest")
    elif chart_version is None:
        raise UsageError(
            "give the release with --tag TAG or --digest sha256:... (a chart: or --chart-version)"
        )
    if chart_version is not None:
        problem = problem or chart_version_problem(chart_version, "--chart-version")
    if image is not None and reference is None:
        raise UsageError("--image: give the image's --tag or --digest with it")
    if problem:
        raise UsageError(problem)
    known = repo.apps()
    if app not in known:
        raise UsageError(f"--app {app}: no such app ({', '.join(known) or 'none yet'})")
    return ReleaseRequest(
        app=app, env=repo.environments[0], reference=reference, image=image, chart_version=chart_version
    )


def head_commit(repo: Repo) -> str:
    """The commit the release is read from; a usage error when there is none."""
    if not is_work_tree(repo.root):
        raise UsageError(f"{repo.root}: not a git work tree; release edits the committed release")
    commit = git(repo.root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
    if not commit:
        raise UsageError(f"{repo.root}: no commit yet; release edits the committed release, commit first")
    return commit


def plan_release(repo: Repo, request: ReleaseRequest, head: str) -> ReleasePlan:
    """Reads the release as committed and works out what to write; ReleaseError for what cannot be
    read, UsageError when the `images:` entry to set is not clear."""
    directory = release_dir(request.env, request.app)
    path = f"{directory}/{KUSTOMIZATION}"
    files = releases.files_at(repo.root, head, directory)
    files.pop(PROVENANCE, None)
    if KUSTOMIZATION not in files:
        raise releases.ReleaseError(path, f"not in HEAD ({head[:12]}): there is no release to set")
    text = releases.decoded(path, files[KUSTOMIZATION])
    before = releases.mapping(path, text)
    if problems := release_problems(before):
        raise releases.ReleaseError(path, problems[0])
    document = round_trip(path, text)
    if request.chart_version is not None:
        _set_scalar(_chart_entry(document, path), "version", request.chart_version)
    image = ""
    if request.reference is not None:
        entry, own = _image_entry(document, path, request, _image_answer(repo, request.app))
        set_reference(entry, request.reference)
        if own:  # a sidecar's tag is not the app's version
            set_version_label(document, request.reference)
        image = str(entry.get("newName") or entry.get("name"))
    new_text = roundtrip.dump(document)
    plan = ReleasePlan(directory, before, releases.mapping(path, new_text))
    # Compared as releases, not as text: the same release with other quotes is left alone.
    if releases.identity(plan.before) != releases.identity(plan.after):
        files[KUSTOMIZATION] = new_text.encode()
        plan.writes[KUSTOMIZATION] = files[KUSTOMIZATION]
        plan.writes[PROVENANCE] = provenance(request, image, head, releases.folder_identity(files)).encode()
    return plan


def _chart_entry(document: Any, path: str) -> CommentedMap:
    """The release's one helmCharts entry (--chart-version sets its version)."""
    listed = document.get("helmCharts")
    entries = (
        [entry for entry in listed if isinstance(entry, CommentedMap)] if isinstance(listed, list) else []
    )
    if len(entries) == 1:
        return entries[0]
    if not entries:
        raise UsageError(f"--chart-version: {path} has no helmCharts entry (the app deploys no chart)")
    names = ", ".join(str(entry.get("name")) for entry in entries)
    raise releases.ReleaseError(path, f"helmCharts: holds {names}: --chart-version sets one chart only")


def _image_answer(repo: Repo, app: str) -> str | None:
    """The app's `image` answer; None when its answers file cannot tell (the release still can)."""
    try:
        answers = fast_yaml.load(repo.answers_file(app).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    image = answers.get("image") if isinstance(answers, dict) else None
    return image if isinstance(image, str) else None


def _image_entry(
    document: Any, path: str, request: ReleaseRequest, own_image: str | None
) -> tuple[CommentedMap, bool]:
    """The `images:` entry the release sets (--image by name, else the app's own image), and
    whether it is the app's own image (whose tag is the app's version) rather than a sidecar's."""
    entries: list[CommentedMap] = list(document.get("images") or [])
    if not entries:
        raise releases.ReleaseError(path, "has no images: entry to set the release of")
    names = ", ".join(str(entry.get("name")) for entry in entries)
    own_names = {image_placeholder(request.app), own_image}
    own = [e for e in entries if e.get("name") in own_names or (own_image and e.get("newName") == own_image)]
    if len(entries) == 1:
        own = entries
    if request.image is not None:
        matches = [entry for entry in entries if entry.get("name") == request.image]
        if not matches:
            raise UsageError(f"--image {request.image}: no such name in images: of {path} ({names})")
        if len(matches) > 1:
            raise releases.ReleaseError(path, f"images: names {request.image} more than once")
        return matches[0], len(own) == 1 and own[0] is matches[0]
    if len(own) == 1:
        return own[0], True
    which = "none" if not own else "more than one"
    raise UsageError(
        f"{path}: images: holds {names} and {which} of them is {request.app}'s own image "
        f"({own_image or image_placeholder(request.app)}): pick one with --image NAME"
    )


def set_reference(entry: CommentedMap, reference: str) -> None:
    """`newTag` for a tag, `digest` for a digest, in place of the other (where it was, with its comment)."""
    key, other = (DIGEST, TAG) if is_digest(reference) else (TAG, DIGEST)
    if entry.get(key) != reference:
        if key in entry or other not in entry:
            _set_scalar(entry, key, reference)
        else:
            _rename_key(entry, other, key, reference)
    if other in entry:
        _delete_key(entry, other)


def set_version_label(document: Any, reference: str) -> None:
    """The `app.kubernetes.io/version` pair a `labels:` entry of the release sets (never one that
    also goes into selectors, which cannot change): the tag when it is a valid label value,
    removed for a digest or a tag no label can hold. A release without any `labels:` gets the
    entry the template writes (a digest release removed it; releases written before the label
    existed never had it); one whose `labels:` leave the version out keeps them as they are."""
    labels = document.get("labels")
    value = version_label(reference)
    if labels is None and value is not None:
        entry = CommentedMap([("pairs", CommentedMap([(VERSION_LABEL, DoubleQuotedScalarString(value))]))])
        entry["includeSelectors"] = False
        entry["includeTemplates"] = True
        document["labels"] = CommentedSeq([entry])
        return
    if not isinstance(labels, list):
        return
    for entry in list(labels):
        if not isinstance(entry, dict) or entry.get("includeSelectors") is True:
            continue
        pairs = entry.get("pairs")
        if not isinstance(pairs, CommentedMap) or VERSION_LABEL not in pairs:
            continue
        if value is not None:
            if pairs[VERSION_LABEL] != value:
                _set_scalar(pairs, VERSION_LABEL, value)
            continue
        _delete_key(pairs, VERSION_LABEL)
        if not pairs:
            labels.remove(entry)
            if not labels:
                _delete_section(document, "labels")


def _delete_section(document: CommentedMap, key: str) -> None:
    """Deletes a top-level key with the comment lines right above it, which describe it (as the
    template writes them): ruamel.yaml keeps those with the value before the key."""
    keys = list(document)
    position = keys.index(key)
    if position > 0:
        holder, where, slot = _last_comment_slot(document, keys[position - 1])
        comment = holder.ca.items.get(where)
        token = comment[slot] if comment is not None else None
        if token is not None and "\n" in token.value:
            own_line = token.value.split("\n", 1)[0]
            if own_line.strip():
                token.value = own_line + "\n"
            else:
                comment[slot] = None
    _delete_key(document, key)


def _last_comment_slot(mapping: CommentedMap, key: Any) -> tuple[Any, Any, int]:
    """Where ruamel.yaml keeps the comment that follows `mapping[key]`: with the last scalar of
    its value, as (collection, key or index, slot in the comment list)."""
    value = mapping[key]
    if isinstance(value, CommentedMap) and value:
        return _last_comment_slot(value, list(value)[-1])
    if isinstance(value, CommentedSeq) and value:
        item = value[-1]
        if isinstance(item, CommentedMap) and item:
            return _last_comment_slot(item, list(item)[-1])
        return value, len(value) - 1, 0
    return mapping, key, 2


def _set_scalar(mapping: CommentedMap, key: str, value: str) -> None:
    """Sets a string, double-quoted as the template writes it (YAML reads a bare 1.10 as a number),
    keeping the gap to its end-of-line comment: ruamel.yaml keeps the comment's column instead."""
    old = mapping.get(key)
    mapping[key] = DoubleQuotedScalarString(value)
    _shift_comment(mapping, key, _width(value, quoted=True) - _width(old))


def _rename_key(mapping: CommentedMap, old: str, new: str, value: str) -> None:
    position = list(mapping).index(old)
    width = len(old) + _width(mapping[old])
    comment = mapping.ca.items.pop(old, None)
    del mapping[old]
    mapping.insert(position, new, DoubleQuotedScalarString(value))
    if comment is not None:
        mapping.ca.items[new] = comment
        _shift_comment(mapping, new, len(new) + _width(value, quoted=True) - width)


def _width(value: Any, quoted: bool = False) -> int:
    text = str(value) if value is not None else ""
    quoted = quoted or isinstance(value, DoubleQuotedScalarString | SingleQuotedScalarString)
    return len(text) + (2 if quoted else 0)


def _shift_comment(mapping: CommentedMap, key: str, by: int) -> None:
    comment = mapping.ca.items.get(key)
    token = comment[2] if comment is not None and len(comment) > 2 else None
    if token is not None and not token.value.startswith("\n"):
        token.column = max(token.column + by, 0)


def _delete_key(mapping: CommentedMap, key: str) -> None:
    """Deletes a key; the comment lines below it (ruamel.yaml keeps them with the key's value)
    go to the key before it, so that only the key's own end-of-line comment goes with it."""
    keys = list(mapping)
    comment = mapping.ca.items.pop(key, None)
    del mapping[key]
    token = comment[2] if comment is not None and len(comment) > 2 else None
    position = keys.index(key)
    if token is None or position == 0 or "\n" not in token.value.rstrip("\n"):
        return
    below = token.value.split("\n", 1)[1]
    previous = keys[position - 1]
    kept = mapping.ca.items.setdefault(previous, [None, None, None, None])
    if kept[2] is None:
        token.value = "\n" + below
        kept[2] = token
    else:
        kept[2].value += below


def provenance(request: ReleaseRequest, image: str, head: str, release: str) -> str:
    lines = ""
    if request.reference is not None:
        reference_key = DIGEST if is_digest(request.reference) else "tag"
        lines += f"image: {json.dumps(image)}\n{reference_key}: {json.dumps(request.reference)}\n"
    if request.chart_version is not None:
        lines += f"chart_version: {json.dumps(request.chart_version)}\n"
    return (
        f"# Where this release came from: written by {COMMAND}, read by tools/gitops validate.\n"
        f"released_by: {COMMAND}\n"
        f"{lines}"
        f"on_commit: {head}\n"
        f"release: {release}\n"
        f"{releases.IDENTITY_FIELD}: {releases.FOLDER_IDENTITY}\n"
    )


def _commit_message(request: ReleaseRequest, plan: ReleasePlan) -> str:
    before, after = releases.describe(plan.before), releases.describe(plan.after)
    return "\n".join(
        [
            f"Release {request.app} {after} to {request.env}",
            "",
            f"- {request.app}: {before} -> {after}",
            "",
            f"Set with {COMMAND}; promote it on with tools/gitops promote --app {request.app} "
            f"--from {request.env}",
        ]
    )


def _apply(repo: Repo, request: ReleaseRequest, plan: ReleasePlan, branch: str | None) -> tuple[str, str]:
    """Writes the release, checks what the environment renders (and commits it on `branch`);
    restores the release files on any failure. Returns the rendered diff and the commit, if any."""
    overlay = Overlay(request.env, request.app)
    before = build_overlays(repo, [overlay])
    directory = repo.root / plan.directory
    snapshots = {directory: snapshot(directory)}
    with interruptible():
        try:
            for name, content in plan.writes.items():
                (directory / name).write_bytes(content)
            built = build_overlays(repo, [overlay])
            after = checked_objects(overlay, built, overlay_namespace(repo, overlay))
            commit = commit_on_branch(repo.root, branch, _commit_message(request, plan)) if branch else ""
        except BaseException:  # Ctrl-C and SIGTERM too (interruptible)
            restore(snapshots)
            raise
    before_text = "" if overlay in before.errors else rendered_text(before.objects[overlay])
    return rendered_diff(overlay, before_text, rendered_text(after), "released"), commit


def release(repo: Repo, request: ReleaseRequest, branch: str | None, out: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out  # read at call time: a redirected stdout must be honoured
    head = head_commit(repo)
    if branch is not None:
        check_branch(repo, branch, dry_run=False)
    try:
        refuse_uncommitted(repo.root, release_dir(request.env, request.app), "release rewrites this release")
        plan = plan_release(repo, request, head)
    except releases.ReleaseError as error:
        print(error.problem, file=out)
        return 1
    before, after = releases.describe(plan.before), releases.describe(plan.after)
    if not plan.writes:
        print(f"{request.app}: {request.env} {before} -> {after} (unchanged)", file=out)
        print(
            f"nothing to release: {request.env} already runs this release; "
            "nothing written, no branch or commit created",
            file=out,
        )
        return 0
    try:
        diff, commit = _apply(repo, request, plan, branch)
    except PromotionRefusedError as refused:
        for problem in refused.problems:
            print(problem, file=out)
        print(f"{request.app}: release of {after} to {request.env} refused", file=out)
        return 1
    except OSError as error:  # written files are restored; name the one that failed
        print(f"{relative_path(repo, error.filename)}: {error.strerror}", file=out)
        return 1
    print(f"{request.app}: {request.env} {before} -> {after} (released)", file=out)
    if diff:
        print(diff, file=out, end="" if diff.endswith("\n") else "\n")
    if commit:
        print(f"committed {commit} on branch {branch}: push it and open a pull request", file=out)
    return 0
