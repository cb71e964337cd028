"""An independent oracle: what a Kubernetes API server and Argo CD would refuse in rendered manifests.

The objects are those `kubectl kustomize` prints, read back with PyYAML's `safe_load_all` (YAML 1.1,
so an unquoted `no` arrives as False and `123` as an int). Every rule here was written from the
upstream sources, not from this project's validators, so the two can be checked against each other:

- k8s.io/apimachinery pkg/util/validation, pkg/api/validate/content, pkg/api/resource/quantity.go;
- k8s.io/kubernetes v1.37 pkg/apis/{core,apps,batch,autoscaling,policy,networking}/validation;
- github.com/distribution/reference (normalize.go, regexp.go, reference.go), as the kubelet parses images;
- argoproj/argo-cd pkg/apis/application/v1alpha1/types.go (SyncWindow.Validate) and the
  robfig/cron v3 parser it pins (v3.0.2-0.20210106135023-bc59245fe10e, parser.go and spec.go);
- Go's time.ParseDuration (src/time/format.go) and the Gateway API HTTPRoute CRD schema.

Where a rule is stricter than the newest API server, the comment says which supported cluster or
which later step (kubelet, Argo CD) would refuse it, because the repo must work on all of them.
Go compares byte lengths and anchors its regular expressions at the very end of the text, so this
package measures UTF-8 lengths and uses `re.fullmatch` (Python's `$` would accept a trailing newline).

object_problems (objects.py) checks one object and overlay_problems (overlay.py) the objects of one
overlay; each other module holds one family of rules, the per-kind ones under kinds/.
"""

from __future__ import annotations

from .cron import cron_problem
from .durations import duration_problem
from .images import image_reference_problem
from .objects import object_problems
from .overlay import overlay_problems
from .quantities import quantity

__all__ = [
    "cron_problem",
    "duration_problem",
    "image_reference_problem",
    "object_problems",
    "overlay_problems",
    "quantity",
]
