"""The objective: a network's loss on its targets, worked out in one place.

An ``Objective`` is built once from (problem, output activation, loss, targets). It owns every
decision about "this network's loss on these targets":
- how the targets are encoded for the loss (labels, one-hot rows or float rows);
- whether the loss is computed from the logits z with the fused formula (sigmoid + BCE,
  softmax + categorical CE: value from log-sigmoid / log-softmax, dL/dz = (p - y) / n), with
  another exact formula in z (exp or softplus + Poisson, sigmoid + focal: ``LOGIT_PATHS``,
  no clipping at any z), or by chaining ``Loss.grad`` through ``Activation.vjp`` (every other
  pair);
- where the decision threshold sits (0 for a margin score, 0.5 for a probability, or the
  ``threshold`` it was built with; argmax for several outputs);
- which output units the output activation drives: all of them, except for a loss with a
  learned scale (``losses.LocationScaleLoss``, e.g. the Gaussian NLL), which reads two units
  per target column, [locations (k), raw scales (k)]: the activation makes the locations,
  the raw scales reach the loss untouched (it applies its own link, σ² = e^s), and
  ``point``/``sigma`` read the two halves back.
Training, error surfaces, loss anatomy and the metrics ask it; no other module decides any of
these.

Shapes: z and p are (m, k) for m samples and k output units (k = 2 x the target columns for
a learned scale); ``labels`` are class labels (m,) for classification and float rows (m, c)
otherwise; ``y`` is the encoded form.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from explorer import activations, losses

Array = np.ndarray
FusedFn = Callable[[Array, Array, Array], tuple[float, Array]]


def prepare_targets(problem: str, y, n_classes: int | None = None) -> tuple[Array, int,
                                                                             int | None]:
    """Validate raw targets; return (labels or float rows (n, k), n_outputs, n_classes)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and problem != "regression":
        y = y[:, 0]
    if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
        raise ValueError(f"targets must be numbers; got dtype {y.dtype}")
    if problem == "binary":
        if y.ndim != 1 or not np.isin(y, (0, 1)).all():
            raise ValueError("binary targets must be 0 or 1, one per row (shape (n,))")
        return y.astype(np.int64), 1, 2
    if problem == "multiclass":
        if y.ndim != 1 or np.any(y != np.round(y)) or np.any(y < 0):
            raise ValueError("multi-class targets must be integer labels 0, 1, ..., k-1 "
                             "(shape (n,))")
        k = int(n_classes or y.max() + 1)
        if k < 2 or y.max() >= k:
            raise ValueError(f"multi-class needs at least 2 classes with labels below {k}")
        return y.astype(np.int64), k, k
    if problem in ("regression", "counts"):
        y = y.astype(float)
        if not np.isfinite(y).all():
            raise ValueError("targets contain NaN or infinity; drop or fill those rows first")
        if problem == "counts" and np.any(y < 0):
            raise ValueError("count targets must be non-negative")
        rows = y.reshape(len(y), -1)
        return rows, rows.shape[1], None
    raise ValueError(f"unknown problem {problem!r}; choose one of: {', '.join(losses.PROBLEMS)}")


def decide(outputs: Array, threshold: float) -> Array:
    """Class labels from outputs (..., k): argmax for k > 1, else output > threshold."""
    if outputs.shape[-1] > 1:
        return np.argmax(outputs, axis=-1)
    return (outputs[..., 0] > threshold).astype(np.int64)


@dataclass(frozen=True)
class Objective:
    """One output activation + one loss on one problem's targets (see the module docstring).

    ``labels``/``y`` hold the targets it was built with (empty when built without);
    ``with_targets`` gives the same objective on other targets (a validation set).
    """

    problem: str
    activation: activations.Activation
    loss: losses.Loss
    n_outputs: int
    n_classes: int | None = None
    labels: Array = field(default_factory=lambda: np.zeros(0), repr=False)
    y: Array = field(default_factory=lambda: np.zeros(0), repr=False)
    _tiles: dict = field(default_factory=dict, repr=False, compare=False)
    threshold_override: float | None = None
    """A decision threshold chosen by the user for one output unit; None: the loss's own."""

    @classmethod
    def build(cls, problem: str, activation: str, loss: str | losses.Loss, targets=None,
              n_classes: int | None = None, loss_params: dict | None = None,
              n_outputs: int | None = None, threshold: float | None = None) -> Objective:
        """The objective for raw ``targets`` (validated), or for ``n_outputs`` units alone.

        ``threshold`` moves a single output unit's decision threshold (binary problems only);
        None keeps the loss's own (0 for a margin score, else 0.5)."""
        loss_obj = losses.get(loss) if isinstance(loss, str) else loss
        if loss_params:
            loss_obj = loss_obj.with_params(**loss_params)
        if threshold is not None:
            threshold = check_threshold(problem, threshold)
        units = (n_classes if problem == "multiclass" and n_classes else 1)
        objective = cls(problem, activations.get(activation), loss_obj,
                        n_outputs or units * loss_obj.outputs_per_target, n_classes,
                        threshold_override=threshold)
        return objective if targets is None else objective.with_targets(targets)

    def with_targets(self, targets) -> Objective:
        """The same objective on other raw targets."""
        labels, k, n_classes = prepare_targets(self.problem, targets, self.n_classes)
        return dataclasses.replace(self, labels=labels, y=self.encode(labels, k),
                                   n_outputs=k * self.loss.outputs_per_target,
                                   n_classes=n_classes, _tiles={})

    @property
    def fused(self) -> FusedFn | None:
        """The closed-form logit path for a canonical pair, or None (chain rule)."""
        key = (self.activation.key, self.loss.key)
        fused = losses.FUSED.get(key)
        if fused is not None and self._fused_alpha is not None:
            return functools.partial(losses.fused_weighted_sigmoid_bce, alpha=self._fused_alpha)
        if fused is None and key in losses.LOGIT_PATHS:
            return functools.partial(losses.logit_value_and_dz, key,
                                     params=self.loss.params)
        return fused

    @property
    def _fused_alpha(self) -> float | None:
        """The class weight α of a fused sigmoid + BCE, else None."""
        if self.activation.key == "sigmoid" and self.loss.key == "bce":
            return self.loss.params.get("alpha")
        return None

    @property
    def threshold(self) -> float:
        """Where one output unit separates the classes: the override, else the loss's own."""
        if self.threshold_override is not None:
            return self.threshold_override
        return self.loss.decision_threshold

    @property
    def learns_scale(self) -> bool:
        """True when the loss reads a location and a scale unit per target column."""
        return self.loss.outputs_per_target > 1

    def encode(self, labels: Array, k: int | None = None) -> Array:
        """Prepared targets as ``value_and_dz`` reads them: float rows (m, k), or integer
        labels (m,) for sparse categorical CE on the chain path."""
        k = k or self.n_outputs
        if self.problem == "binary":
            return labels.astype(float)[:, None]
        if self.problem == "multiclass":
            if self.loss.sparse_targets and self.fused is None:
                return labels
            return losses.one_hot(labels, k)
        return labels

    def outputs(self, z: Array) -> Array:
        """p = a(z): what the loss reads. With a learned scale, (..., 2c) = [a(z) of the c
        location units, the c raw scale units as they are]."""
        if not self.learns_scale:
            return self.activation.forward(z)
        c = z.shape[-1] // self.loss.outputs_per_target
        return np.concatenate([self.activation.forward(z[..., :c]), z[..., c:]], axis=-1)

    def point(self, outputs: Array) -> Array:
        """The point prediction the metrics compare with the targets: the outputs, or the
        location units of a learned-scale loss, (..., c)."""
        if not self.learns_scale:
            return outputs
        return outputs[..., :outputs.shape[-1] // self.loss.outputs_per_target]

    def sigma(self, outputs: Array) -> Array:
        """The predicted standard deviation (..., c) of a learned-scale loss."""
        if not isinstance(self.loss, losses.LocationScaleLoss):
            raise ValueError(f"{self.loss.label} predicts no noise level; choose a loss with "
                             "a learned variance (gaussian_nll)")
        return self.loss.split(outputs)[1]

    def value_and_dz(self, z: Array, y: Array | None = None,
                     p: Array | None = None) -> tuple[float, Array, Array]:
        """(mean loss, dL/dz (m, k), p) for pre-activations z (m, k); y defaults to own, p
        (= a(z)) is computed unless the caller has it."""
        y = self.y if y is None else y
        if self.learns_scale:
            return self._location_scale_value_and_dz(z, y)
        p = self.activation.forward(z) if p is None else p
        fused = self.fused
        if fused is not None:
            value, dz = fused(y, z, p)
            return value, dz, p
        value, dp = self.loss.value_and_grad(y, p)
        return value, self.activation.vjp(z, p, dp), p

    def _location_scale_value_and_dz(self, z: Array, y: Array) -> tuple[float, Array, Array]:
        """The chain through the location units only; the scale units' dL/dz is dL/ds. (A
        caller's p is not used: the network applied its activation to every unit.)"""
        p = self.outputs(z)
        value, dp = self.loss.value_and_grad(y, p)
        c = z.shape[1] // self.loss.outputs_per_target
        dz = dp.copy()
        dz[:, :c] = self.activation.vjp(z[:, :c], p[:, :c], dp[:, :c])
        return value, dz, p

    def per_sample(self, z: Array, y: Array | None = None) -> Array:
        """Loss of each sample (m,), computed exactly as ``value_and_dz`` computes the mean."""
        y = self.y if y is None else y
        key = (self.activation.key, self.loss.key)
        if key in losses.LOGIT_PATHS:
            return losses.logit_per_sample(key, y, z, self.activation.forward(z),
                                           self.loss.params)
        if self.fused is not None:
            if self._fused_alpha is not None:
                return losses.fused_weighted_per_sample(y, z, self._fused_alpha)
            return losses.fused_per_sample(self.activation.key, y, z, self.loss.key)
        return self.loss.per_sample_from(y, self.outputs(z))

    def value(self, z: Array, y: Array | None = None) -> float:
        """Mean loss over the samples."""
        with np.errstate(all="ignore"):
            return float(np.mean(self.per_sample(z, y)))

    def values_many(self, z: Array) -> Array:
        """Mean loss of each of c parameter sets, z (c, n, k) on the objective's own n
        targets -> (c,). NaN where a prediction leaves the loss's domain."""
        c, n, k = z.shape
        with np.errstate(all="ignore"):
            per_sample = self.per_sample(z.reshape(c * n, k), self._tiled(c))
        return per_sample.reshape(c, n).mean(axis=1)

    def _tiled(self, c: int) -> Array:
        """Own targets repeated c times, (c * n, ...); grown as needed, then sliced."""
        tiled = self._tiles.get("y")
        if tiled is None or len(tiled) < c * len(self.y):
            reps = (c,) if self.y.ndim == 1 else (c, 1)
            tiled = np.tile(self.y, reps)
            self._tiles["y"] = tiled
        return tiled[:c * len(self.y)]

    def decide(self, outputs: Array) -> Array:
        """Class labels from outputs (..., k)."""
        return decide(outputs, self.threshold)


def check_threshold(problem: str, threshold: float) -> float:
    """The threshold as a float, or ValueError when it cannot apply."""
    if problem != "binary":
        rule = ("picks the largest output" if problem == "multiclass" else
                "has no classes to decide")
        raise ValueError(f"a decision threshold applies to binary problems (one output "
                         f"unit); {problem} {rule}")
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"the decision threshold must be a finite number; got {threshold!r}")
    return value
