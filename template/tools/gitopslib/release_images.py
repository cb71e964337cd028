"""Each image a release names is an image the overlay runs: a release that changes nothing is wrong.

Kustomize's `images:` replaces an image only where a container's image has exactly the entry's
name, and says nothing when none has: an entry spelled differently from what a chart writes
(`nginx` for `docker.io/library/nginx`, a registry mirror) leaves the chart's own tag running
while promote moves a tag no pod uses. Read off the built objects, an entry shows up as the image
it makes (its newName, else its name, with its newTag and digest): one that no container runs
matched nothing.
"""

from __future__ import annotations

from typing import Any

from .api_checks import listed, mapping

CONTAINER_LISTS = ("containers", "initContainers")


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """`reg:5000/app:1.2@sha256:...` -> (`reg:5000/app`, `1.2`, `sha256:...`)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def running_images(objects: list[dict[str, Any]]) -> set[str]:
    """Every `image` of a `containers` or `initContainers` list anywhere in the objects, where
    Kustomize's images transformer looks for them: in any kind (a Knative Service's, a custom
    resource's), not only in the built-in workloads."""
    images: set[str] = set()
    pending: list[Any] = list(objects)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in CONTAINER_LISTS and isinstance(value, list):
                    images.update(str(c["image"]) for c in value if isinstance(c, dict) and c.get("image"))
                pending.append(value)
        elif isinstance(node, list):
            pending.extend(node)
    return images


def made_by(entry: dict[str, Any], image: str) -> bool:
    """Whether `image` is what the `images:` entry turns a matching container's image into."""
    name, tag, digest = split_image(image)
    if name != (entry.get("newName") or entry.get("name")):
        return False
    if entry.get("digest") is not None:
        return digest == str(entry["digest"])
    return entry.get("newTag") is None or (tag == str(entry["newTag"]) and digest is None)


def unmatched_image_reasons(release: Any, objects: list[dict[str, Any]]) -> list[str]:
    """One reason per `images:` entry of the release that no container of `objects` runs."""
    images = running_images(objects)
    reasons = []
    for entry in map(mapping, listed(mapping(release).get("images"))):
        if not isinstance(entry.get("name"), str) or any(made_by(entry, image) for image in images):
            continue
        running = ", ".join(sorted(images)) or "no container"
        reasons.append(
            f"images: {entry['name']} matches no container (they run {running}): the release changes "
            "nothing; name the image exactly as the manifests or the chart write it"
        )
    return reasons
