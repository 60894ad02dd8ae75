"""Loss anatomy: the loss and its gradient against the output's pre-activation z.

For one output unit with pre-activation z, prediction p = a(z) and target y, the gradient a
student needs to see is dL/dz = (dL/dp) a'(z). Everything here is computed the way the trainer
back-propagates it (never a separate closed form): the chain ``Loss.grad`` through
``Activation.vjp``, or for the pairs the engine computes in z (sigmoid + BCE, softmax + CE:
``losses.FUSED``; exp or softplus + Poisson, sigmoid + focal: ``losses.LOGIT_PATHS``) that
exact path, which the trainer uses at any z and which equals the chain wherever the chain is
exact (no 1e-7 clip active, p not rounded to 0). For the canonical pairs this is p - y
(2 (p - y) for MSE), which the tests check; for sigmoid + MSE it carries the factor p (1 - p), which
vanishes where the sigmoid saturates, even on a confidently wrong answer.

Multi-output losses (softmax, categorical losses) are shown over 3 classes: the curve varies
the logit of one class with the others at 0; target 1 means that class is the true one,
target 0 that another class is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer import activations, losses, pairing
from explorer.network import STACK_FLOATS, Model, Workspace
from explorer.objective import Objective

Array = np.ndarray

SATURATION_SHARE = 0.01
"""A region is 'saturated' where |a'(z)| < 1% of the activation's steepest slope in view
(capped at 1, so an unbounded slope such as exp's does not make everything look flat)."""
DEFAULT_Z = np.linspace(-8.0, 8.0, 401)
COUNT_Z = np.linspace(-4.0, 4.0, 401)
"""For counts z is a log-rate, and exp(8) would dwarf every other curve."""
CONFIDENCE = 0.8
"""A wrong answer is 'confident' when the output is 80% of the way from the decision
threshold to the label's extreme (p >= 0.9 or <= 0.1 for a probability)."""


@dataclass(frozen=True)
class AnatomyCurves:
    """Loss and dL/dz against z for one (activation, loss) pair and a few targets.

    z (m,); prediction (m,) is the varied unit's output a(z); loss and grad are (T, m), one
    row per entry of ``targets``: the per-sample loss L(a(z), y) and dL/dz for that sample
    (not divided by the number of samples). slope (m,) is a'(z) of the varied unit.
    ``saturated`` lists (z_start, z_end) intervals where |a'(z)| is nearly 0. NaN marks
    predictions outside the loss's domain (``invalid`` then True): plotted as gaps.
    """

    activation: str
    loss: str
    label: str
    z: Array
    targets: tuple[float, ...]
    target_labels: tuple[str, ...]
    prediction: Array
    loss_values: Array
    grad: Array
    slope: Array
    saturated: tuple[tuple[float, float], ...]
    invalid: bool
    n_classes: int
    loss_formula: str
    """LaTeX of the per-sample loss in p and y."""
    grad_p_formula: str
    """LaTeX of dL/dp."""
    grad_z_formula: str
    """LaTeX of dL/dz for this pair (p - y for canonical pairs)."""
    likelihood: str
    """One sentence: what the loss is the negative log-likelihood of, or why none."""


def _is_multiclass(act: activations.Activation, loss: losses.Loss) -> bool:
    return not act.elementwise or loss.reduce == "sum" or loss.sparse_targets


def loss_vs_preactivation(activation, loss, target=(1.0, 0.0), z: Array | None = None,
                          loss_params: dict | None = None, n_classes: int = 3,
                          problem: str | None = None) -> AnatomyCurves:
    """Per-sample loss, prediction and dL/dz over a range of the output pre-activation z.

    activation, loss: registry keys or objects. target: one value or several (binary: 1 and
    0; regression: any value; multi-class: 1 = the varied logit's class is the true one, 0 =
    it is not). z defaults to 401 points on [-8, 8]. dL/dz is ``activation.vjp`` of
    ``loss.grad`` (rescaled from the batch mean to one sample), or the fused logit gradient
    for the pairs the trainer fuses; see ``output_gradient``. ``problem`` says how to read
    the targets; without it, it is guessed from the loss (which a typed formula, serving
    every problem, cannot tell).
    """
    act = activations.get(activation) if isinstance(activation, str) else activation
    loss_obj = losses.get(loss) if isinstance(loss, str) else loss
    if loss_params:
        loss_obj = loss_obj.with_params(**loss_params)
    z = DEFAULT_Z if z is None else np.asarray(z, dtype=float)
    targets = tuple(float(t) for t in np.atleast_1d(target))
    multiclass = _is_multiclass(act, loss_obj) if problem is None else problem == "multiclass"
    # a learned-scale loss gets its scale unit too, held at s = 0 (σ = 1)
    k = n_classes if multiclass else loss_obj.outputs_per_target
    m = len(z)
    Z = np.zeros((m, k))
    Z[:, 0] = z
    values, grads = np.empty((len(targets), m)), np.empty((len(targets), m))
    with np.errstate(all="ignore"):
        p = act.forward(Z)
        for row, t in enumerate(targets):
            objective = _objective(act, loss_obj, t, m, k, multiclass, problem)
            values[row], dz = output_gradient(objective, Z)
            grads[row] = dz[:, 0]
        slope = _slope(act, Z)
    values[~np.isfinite(values)] = np.nan
    grads[~np.isfinite(grads)] = np.nan
    labels = tuple(_target_label(t, multiclass) for t in targets)
    return AnatomyCurves(
        activation=act.key, loss=loss_obj.key, label=f"{act.label} + {loss_obj.label}", z=z,
        targets=targets, target_labels=labels, prediction=p[:, 0], loss_values=values,
        grad=grads, slope=slope, saturated=saturated_regions(z, slope),
        invalid=bool(np.isnan(values).any() or np.isnan(grads).any()), n_classes=k,
        loss_formula=loss_obj.formula, grad_p_formula=loss_obj.grad_formula,
        grad_z_formula=pairing.gradient_at_z(act.key, loss_obj,
                                             problem or _problem_of(loss_obj)),
        likelihood=loss_obj.likelihood_sentence)


def output_gradient(objective: Objective, z: Array) -> tuple[Array, Array]:
    """(per-sample loss (m,), per-sample dL/dz (m, k)) exactly as the trainer computes them:
    the objective's batch-mean gradient rescaled by m to one sample."""
    _, dz, _ = objective.value_and_dz(z)
    return objective.per_sample(z), dz * len(z)


def _objective(act: activations.Activation, loss: losses.Loss, t: float, m: int, k: int,
               multiclass: bool, problem: str | None = None) -> Objective:
    """The objective of m samples that all have target t (multi-class: 1 = the varied unit's
    class 0 is true, 0 = class 1 is)."""
    if multiclass:
        labels = np.full(m, 0 if t >= 0.5 else 1, dtype=np.int64)
        return Objective.build("multiclass", act.key, loss, labels, n_classes=k)
    problem = problem or _problem_of(loss)
    targets = np.full(m, int(t)) if problem == "binary" else np.full((m, 1), t)
    return Objective.build(problem, act.key, loss, targets)


def _slope(act: activations.Activation, Z: Array) -> Array:
    """d a_0 / d z_0 for the varied unit, (m,)."""
    g = act.grad(Z)
    return g[:, 0, 0] if g.ndim == 3 else g[:, 0]


def _target_label(t: float, multiclass: bool) -> str:
    if multiclass:
        return "true class" if t >= 0.5 else "another class is true"
    return f"target y = {t:g}"


def saturated_regions(z: Array, slope: Array,
                      share: float = SATURATION_SHARE) -> tuple[tuple[float, float], ...]:
    """Intervals (z_start, z_end) of the grid where |slope| < share x min(max |slope|, 1)."""
    magnitude = np.abs(np.nan_to_num(slope, nan=0.0))
    top = min(float(magnitude.max()) if magnitude.size else 0.0, 1.0)
    if top <= 0:
        return ()
    flat = magnitude < share * top
    regions, start = [], None
    for index, is_flat in enumerate(flat):
        if is_flat and start is None:
            start = index
        if start is not None and (not is_flat or index == len(flat) - 1):
            end = index if is_flat else index - 1
            regions.append((float(z[start]), float(z[end])))
            start = None
    return tuple(regions)


def default_z(problem: str) -> Array:
    """The pre-activation range to draw for a problem."""
    return COUNT_Z if problem == "counts" else DEFAULT_Z


def default_targets(problem: str) -> tuple[float, ...]:
    """Targets to show: 1 and 0 for classification, 1.0 for regression, 3 for counts."""
    return {"binary": (1.0, 0.0), "multiclass": (1.0, 0.0), "regression": (1.0,),
            "counts": (3.0,)}[problem]


def compare_pairs(problem: str, activation: str, loss: str, loss_params: dict | None = None,
                  target=None, z: Array | None = None) -> tuple[AnatomyCurves, AnatomyCurves]:
    """(chosen, matched) curves for the same targets; matched = the problem's default pair.

    For z ranges where the matched pair's activation needs a wider input (exp), the same z
    grid is used so the two overlay directly.
    """
    target = default_targets(problem) if target is None else target
    z = default_z(problem) if z is None else z
    chosen = loss_vs_preactivation(activation, loss, target, z, loss_params, problem=problem)
    m_act, m_loss = pairing.DEFAULT_PAIR[problem]
    matched = loss_vs_preactivation(m_act, m_loss, target, z, problem=problem)
    return chosen, matched


# ----------------------------------------------------------------------------------------
# Per-point gradients of a trained model


@dataclass(frozen=True)
class PointGradients:
    """|dL_i / dz_i| for every training point at every snapshot, and who is wrong at the end.

    grads (S, n): the per-sample gradient's norm over output units (for one output unit its
    absolute value), NOT divided by n. epochs (S,). At the final weights: wrong (n,) bool —
    misclassified, or for regression/counts a residual above 2 x RMSE; confidently_wrong
    (n,) bool — wrong with the output ``CONFIDENCE`` of the way to the wrong extreme
    (regression/counts: residual above 3 x RMSE).
    """

    grads: Array
    epochs: Array
    wrong: Array
    confidently_wrong: Array
    final_loss: Array
    """Per-sample loss at the final weights, (n,)."""


def per_point_output_gradients(model: Model, X, y,
                               max_floats: int = STACK_FLOATS) -> PointGradients:
    """Per-point |dL_i/dz_i| at the output pre-activation for every snapshot, batched.

    Snapshots go through ``Network.pre_activations`` in chunks of at most ``max_floats``
    floats per layer (``Network.stack_size``); the gradient is the model's ``Objective``
    (the trainer's), rescaled to one sample. Memory: the (S, n) result plus one chunk.
    """
    network = model.network
    X = np.asarray(X, dtype=float)
    objective = model.objective(y)
    snaps = np.asarray(model.snapshots, dtype=float)
    n, k = len(X), network.n_outputs
    chunk = network.stack_size(n, max_floats)
    workspace = Workspace()  # the chunks' buffers, allocated once
    grads = np.empty((len(snaps), n))
    tiled: dict[int, Objective] = {}
    with np.errstate(all="ignore"):
        for start in range(0, len(snaps), chunk):
            part = snaps[start:start + chunk]
            c = len(part)
            z = network.pre_activations(part, X, workspace=workspace).reshape(c * n, k)
            if c not in tiled:  # the targets repeated for c snapshots, built once per c
                tiled = {c: objective.with_targets(np.tile(y, c) if np.ndim(y) == 1 else
                                                   np.tile(y, (c, 1)))}
            _, dz = output_gradient(tiled[c], z)
            grads[start:start + c] = np.linalg.norm(dz, axis=1).reshape(c, n)
        z = network.pre_activations(np.asarray(model.theta, dtype=float), X)
        final_loss, _ = output_gradient(objective, z)
        out = objective.outputs(z)
    wrong, confident = _wrongness(model, objective, out)
    return PointGradients(grads, np.asarray(model.snapshot_epochs), wrong, confident,
                          final_loss)


def point_gradients_work(n_params: int, n_points: int, snapshots: int) -> float:
    """Work of ``per_point_output_gradients``, in ``experiment.work_units``'s unit (one
    sample through one parameter, forward): every snapshot's forward pass over the points,
    and the final weights' once more.

    Formula: (snapshots + 1) x n_points x n_params. ``n_points``: after
    ``surfaces.surface_data``."""
    return float(snapshots + 1) * n_points * n_params


def _wrongness(model: Model, objective: Objective, out: Array) -> tuple[Array, Array]:
    targets = objective.labels
    if model.problem == "binary":
        wrong = objective.decide(out) != targets
        lo, hi = activations.get(model.network.output_activation).output_range
        if np.isfinite(lo) and np.isfinite(hi):
            reach = max(hi - model.threshold, model.threshold - lo)
        else:
            reach = 1.0  # unbounded scores (linear + hinge): the margin is 1
        confident = wrong & (np.abs(out[:, 0] - model.threshold) >= CONFIDENCE * reach)
        return wrong, confident
    if model.problem == "multiclass":
        wrong = objective.decide(out) != targets
        if model.network.output_activation == "softmax":
            confidence = np.max(out, axis=1)
            return wrong, wrong & (confidence >= CONFIDENCE)
        true_score = out[np.arange(len(out)), targets]
        return wrong, wrong & (np.max(out, axis=1) - true_score >= 1.0)
    point = objective.point(out)
    residual = np.abs(point - targets.reshape(point.shape)).max(axis=1)
    rmse = float(np.sqrt(np.mean(residual ** 2)))
    return residual > 2.0 * rmse, residual > 3.0 * rmse


def _problem_of(loss: losses.Loss) -> str:
    """The problem a loss's anatomy is drawn for (its first)."""
    return loss.problems[0] if len(loss.problems) < len(losses.PROBLEMS) else "regression"


SCALE_S = np.linspace(-4.0, 4.0, 321)
"""The scale unit s = log σ² over which ``scale_curves`` runs: σ from 0.14 to 7.4."""


def scale_curves(loss: str = "gaussian_nll", residuals=(0.5, 1.0, 2.0),
                 s: Array | None = None) -> tuple[Array, Array, Array]:
    """(s (m,), per-sample loss (R, m), dL/ds (R, m)) of a learned-scale loss against its
    scale unit s, for targets a residual y − p away from the location (one row a residual),
    computed as the trainer does (``output_gradient``). The minimum over s of each row is at
    s = log (y − p)²: the scale unit learns the squared error it sees."""
    s = SCALE_S if s is None else np.asarray(s, dtype=float)
    loss_obj = losses.get(loss)
    if loss_obj.outputs_per_target != 2:
        raise ValueError(f"{loss_obj.label} has no scale unit; choose a loss with a learned "
                         "variance (gaussian_nll)")
    values, grads = np.empty((len(residuals), len(s))), np.empty((len(residuals), len(s)))
    for row, r in enumerate(residuals):
        objective = Objective.build("regression", "linear", loss_obj,
                                    np.full((len(s), 1), float(r)))
        z = np.column_stack([np.zeros(len(s)), s])  # location 0, so y − p = r
        values[row], dz = output_gradient(objective, z)
        grads[row] = dz[:, 1]
    return s, values, grads
