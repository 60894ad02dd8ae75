"""Training is a function: ``fit(X, y, ...) -> (Model, History)``.

``fit`` reads top to bottom as five steps: validate the arguments, build (network, objective,
optimizer), then for each epoch draw the batches (``iter_batches``), run the epoch
(``run_epoch``) and record it (``Recorder``).

What the history reports (one row per epoch, a pandas DataFrame):
- ``loss`` and the train metrics are means over the epoch's mini-batches, each computed during
  that batch's forward pass, *before* its update, as Keras reports them (no extra pass over
  the data); at full batch this is the loss at the start of the epoch's single step.
- ``val_loss`` and ``val_*`` metrics are full re-evaluations after the epoch, the loss computed
  exactly as the training loss is (the same ``Objective``).
- ``grad_norm`` is the root-mean-square over the epoch's batches of the gradient norm: it shows
  plateaus and vanishing gradients directly.
- ``loss`` is the data loss alone; L2 (``l2 * ||W||^2 / 2`` over weights, not biases) enters the
  gradient only, so losses stay comparable across settings.
``history.attrs["divergence"]`` is None, or a dict (epoch, reason, message) when the run stopped
on a NaN or infinity; the rows before it are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from explorer import activations, losses, metrics, optimizers, pairing
from explorer.config import FIELD, Fix
from explorer.network import Model, Network
from explorer.objective import Objective

Array = np.ndarray
MAX_EPOCHS = 100_000


@dataclass(frozen=True)
class Divergence:
    """Where and why a run stopped producing finite numbers, and what would fix it."""

    epoch: int
    reason: str
    message: str
    fixes: tuple[Fix, ...] = ()
    """Every change ``message`` advises, in its order."""


def lower_lr(lr: float) -> tuple[Fix, ...]:
    """The button for "lower the learning rate": a tenth of ``lr`` (none below the lowest)."""
    lower = float(f"{lr / 10:.3g}")
    if lower < (FIELD["lr"].lo or 0.0):
        return ()
    return (Fix(f"Learning rate {lower:g}", {"lr": lower}),)


def _use_output(activations_: tuple[str, ...]) -> tuple[Fix, ...]:
    return tuple(Fix(f"Use a {activations.get(a).label.lower()} output",
                     {"output_activation": a}) for a in activations_)


# ----------------------------------------------------------------------------------------
# The pieces


def iter_batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[Array | slice]:
    """Row selections for one epoch: a fresh shuffle cut into batches of ``batch_size`` (the
    last one smaller); at full batch one slice of everything, without drawing from rng."""
    if batch_size >= n:
        yield slice(None)
        return
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def batch_step(network: Network, objective: Objective, theta: Array, grad: Array,
               l2: float = 0.0) -> Callable[[Array, Array], tuple[float, Array, Array]]:
    """The work fit does on one mini-batch, as a function ``step(X, y) -> (value, p, z)``.

    ``value`` is the batch's data loss; ``d(loss + l2 ||W||^2 / 2) / d theta`` is written into
    ``grad`` (P,). ``y`` is encoded by the objective. theta's and grad's layer views are built
    once here, so theta must be updated in place between steps.
    """
    layers, grad_layers = network.layers(theta), network.layers(grad)
    l2_mask = l2 * network.weight_mask() if l2 > 0 else None

    def step(X: Array, y: Array) -> tuple[float, Array, Array]:
        zs, inputs, z, p = network.forward_cached(theta, X, layers)
        value, dz, p = objective.value_and_dz(z, y, p)
        network.backward(theta, (zs, inputs), dz, grad, layers, grad_layers)
        if l2_mask is not None:
            np.add(grad, l2_mask * theta, out=grad)
        return value, p, z

    return step


@dataclass
class EpochResult:
    """Sums over one epoch's batches, or the divergence that ended it."""

    metric_sums: Array
    loss_sum: float = 0.0
    grad_sq_sum: float = 0.0
    divergence: Divergence | None = None


def run_epoch(epoch: int, X: Array, objective: Objective, step, theta: Array, grad: Array,
              opt: optimizers.Optimizer, batches: Iterator[Array | slice],
              lr: float) -> EpochResult:
    """One pass over the batches: step, check for NaN/inf, update, accumulate sums."""
    result = EpochResult(metric_sums=np.zeros(len(metrics.names(objective.problem))))
    for rows in batches:
        value, p, z = step(X[rows], objective.y[rows])
        g2 = float(grad @ grad)
        if not (math.isfinite(value) and math.isfinite(g2)):
            result.divergence = _diagnose(epoch, value, g2, p, z, objective, lr,
                                          isinstance(opt, optimizers.Adam))
            return result
        size = len(p)
        result.loss_sum += value * size
        result.grad_sq_sum += g2 * size
        result.metric_sums += metrics.sums(objective, p, objective.labels[rows])
        opt.step(theta, grad)
    return result


def evaluate(network: Network, objective: Objective, theta: Array,
             X: Array) -> tuple[float, Array]:
    """(data loss, p) of the objective's own targets at theta, as training computes it."""
    z = network.pre_activations(theta, X)
    with np.errstate(all="ignore"):
        return objective.value(z), objective.outputs(z)


class Recorder:
    """The history's columns, filled one epoch at a time."""

    def __init__(self, problem: str, epochs: int, validation: bool):
        self.problem = problem
        self.names = metrics.names(problem)
        keys = ["loss", "grad_norm", *self.names]
        if validation:
            keys += ["val_loss", *("val_" + name for name in self.names)]
        self.columns = {key: np.full(epochs, np.nan) for key in keys}
        self.completed = 0

    def train(self, epoch: int, result: EpochResult, n: int) -> None:
        row = epoch - 1
        self.columns["loss"][row] = result.loss_sum / n
        self.columns["grad_norm"][row] = math.sqrt(result.grad_sq_sum / n)
        for name, value in zip(self.names, metrics.finish(self.problem, result.metric_sums, n)):
            self.columns[name][row] = value
        self.completed = epoch

    def validation(self, epoch: int, value: float, objective: Objective, p: Array) -> None:
        self.columns["val_loss"][epoch - 1] = value
        sums = metrics.sums(objective, p, objective.labels)
        for name, v in zip(self.names, metrics.finish(self.problem, sums, len(p))):
            self.columns["val_" + name][epoch - 1] = v

    def history(self, divergence: Divergence | None) -> pd.DataFrame:
        done = self.completed
        history = pd.DataFrame({"epoch": np.arange(1, done + 1)})
        for name, values in self.columns.items():
            history[name] = values[:done]
        history.attrs["divergence"] = asdict(divergence) if divergence else None
        history.attrs["problem"] = self.problem
        return history


SNAPSHOT_FLOATS = 4_000_000
"""Parameters kept as snapshot candidates during a run (32 MB of float64), at most."""


def snapshot_epochs(epochs: int, count: int) -> Array:
    """About ``count`` evenly spaced epochs from 0 (initial weights) to ``epochs``."""
    count = max(2, min(count, epochs + 1))
    return np.unique(np.round(np.linspace(0, epochs, count)).astype(int))


def candidate_epochs(epochs: int, count: int, n_params: int) -> Array:
    """Epochs whose weights fit keeps while it trains, to choose the snapshots from later:
    every epoch when that fits in ``SNAPSHOT_FLOATS``, else an even grid merged with a
    geometric one (dense early, where training usually moves fastest)."""
    room = max(4 * count, SNAPSHOT_FLOATS // max(n_params, 1))
    if epochs + 1 <= room:
        return np.arange(epochs + 1)
    even = np.linspace(0, epochs, room // 2)
    early = np.geomspace(1, epochs, room // 2)
    return np.unique(np.round(np.concatenate([[0], even, early])).astype(int))


def story_epochs(candidates: Array, loss: Array, count: int) -> Array:
    """``count`` of the candidate epochs, spaced so each frame shows a comparable amount of
    change: equal steps of half elapsed epochs, half progress (the cumulative change of the
    training loss, on a log scale when it stays positive). Early epochs where the loss falls
    fast get dense frames; a long plateau still gets some. Always keeps 0 and the last.

    ``loss``: the history's train loss per epoch (epoch e at index e - 1).
    """
    candidates = np.asarray(candidates)
    last = int(candidates[-1])
    if len(candidates) <= count or last == 0:
        return candidates
    values = np.asarray(loss[:last], dtype=float)
    finite = np.isfinite(values)
    if finite.sum() < 2:
        return candidates[np.unique(np.round(np.linspace(0, len(candidates) - 1, count))
                                    .astype(int))]
    values = np.where(finite, values, np.nan)
    if np.nanmin(values) > 0:
        values = np.log(values)
    values = np.concatenate([[values[finite][0]], values])  # epoch 0: the first epoch's loss
    steps = np.abs(np.diff(values))
    progress = np.concatenate([[0.0], np.cumsum(np.nan_to_num(steps))])
    elapsed = np.arange(last + 1) / last
    share = 0.5 * elapsed + 0.5 * (progress / progress[-1] if progress[-1] > 0 else elapsed)
    at_candidates = share[candidates]
    chosen, asked = candidates[:0], count
    while len(chosen) < count and asked <= 8 * count:
        # several wanted shares can land on one epoch where frames cannot be denser than
        # one per epoch: ask for more until there are ``count`` distinct ones
        picks = _nearest(at_candidates, np.linspace(0.0, 1.0, asked))
        chosen = np.unique(np.concatenate([[0], candidates[picks], [last]]))
        asked += count - len(chosen)
    return chosen if len(chosen) <= count else _thin(chosen, at_candidates, candidates, count)


def _thin(chosen: Array, share: Array, candidates: Array, count: int) -> Array:
    """Drop picks until ``count`` remain, keeping those farthest apart in share."""
    at = share[np.searchsorted(candidates, chosen)]
    return chosen[np.unique(_nearest(at, np.linspace(0.0, 1.0, count)))]


def _nearest(sorted_values: Array, wanted: Array) -> Array:
    """Index of the value nearest to each wanted one, in an ascending array."""
    right = np.searchsorted(sorted_values, wanted).clip(1, len(sorted_values) - 1)
    left = right - 1
    closer_left = np.abs(wanted - sorted_values[left]) <= np.abs(sorted_values[right] - wanted)
    return np.where(closer_left, left, right)


# ----------------------------------------------------------------------------------------
# fit


def fit(
    X, y, problem: str = "regression", hidden=(16,), hidden_activation: str = "relu",
    output_activation: str | None = None, loss: str | losses.Loss | None = None,
    optimizer: str = "adam",
    lr: float = 0.01, momentum: float | None = None, epochs: int = 200, batch_size: int = 32,
    l2: float = 0.0, seed: int = 0, validation_data=None, snapshots: int = 100,
    loss_params: dict | None = None, n_classes: int | None = None,
    initial_params: Array | None = None, init_scale: float = 1.0,
    progress: Callable[[int, int], None] | None = None, threshold: float | None = None,
    watch: Callable[[int, Network, Array], None] | None = None,
) -> tuple[Model, pd.DataFrame]:
    """Train an MLP by mini-batch gradient descent; return (Model, History DataFrame).

    X: (n, d) features. y: regression/counts floats (n,) or (n, k); binary {0, 1} (n,);
    multiclass integer labels (n,). output_activation and loss default to the problem's
    matched pair; ``loss`` is a registry key or a ``Loss`` that ``losses.get`` can rebuild
    from its key and params (a registry entry, or ``losses.custom(formula)``), since the
    ``Model`` keeps only those. The backward pass chains ``loss.grad`` through the output
    activation, so a mismatched pair trains with its true gradient (the ``Objective`` uses
    the closed form p - y for sigmoid + BCE and softmax + CE, tested equal to the chain).
    ``init_scale`` multiplies the He/Glorot initial weights (large values start saturated).
    ``progress(epoch, epochs)`` is called about 100 times when given, and
    ``watch(epoch, network, theta)`` (theta: the live weights; copy to keep) at the same times.
    ``threshold`` (binary only) moves the decision threshold the accuracy columns and
    ``model.predict_class`` use; None keeps the loss's own (0.5, or 0 for a margin score).
    A loss with a learned scale (gaussian_nll) gets two output units per target column.
    """
    # (longer than 60 lines only by this docstring, the public API's contract; the body is
    # the five steps below, each a call)
    # 1. validate
    _check_problem(problem)
    default_activation, default_loss = pairing.DEFAULT_PAIR[problem]
    X = _features(X)
    objective = _objective(problem, output_activation or default_activation,
                           loss or default_loss, y, n_classes, loss_params, len(X), threshold)
    _check_numbers(epochs, batch_size, l2, init_scale, hidden_activation)
    val_X, val_objective = _validation(validation_data, objective, X.shape[1])
    # 2. build
    network = Network(X.shape[1], _hidden(hidden), objective.n_outputs, hidden_activation,
                      objective.activation.key)
    rng = np.random.default_rng(seed)
    theta = _initial(network, rng, init_scale, initial_params)
    opt = optimizers.make(optimizer, lr, momentum)
    grad = np.zeros_like(theta)
    step = batch_step(network, objective, theta, grad, l2)
    recorder = Recorder(problem, epochs, val_objective is not None)
    keep = candidate_epochs(epochs, snapshots, network.n_params)
    keep_set, snaps = set(keep.tolist()), [theta.copy()]
    n, batch_size = len(X), min(batch_size, len(X))
    report_every = max(1, epochs // 100)
    divergence = None
    with np.errstate(all="ignore"):
        for epoch in range(1, epochs + 1):
            # 3. batches, 4. the epoch
            result = run_epoch(epoch, X, objective, step, theta, grad, opt,
                               iter_batches(n, batch_size, rng), lr)
            divergence = result.divergence
            if divergence is not None:
                break
            # 5. record
            recorder.train(epoch, result, n)
            if val_objective is not None and val_X is not None:
                value, p_val = evaluate(network, val_objective, theta, val_X)
                recorder.validation(epoch, value, val_objective, p_val)
            if epoch in keep_set:
                snaps.append(theta.copy())
            if epoch % report_every == 0 or epoch == epochs:
                _report(progress, watch, epoch, epochs, network, theta)
    history = recorder.history(divergence)
    kept = keep[keep <= recorder.completed]
    chosen = story_epochs(kept, history["loss"].to_numpy(), max(2, snapshots))
    rows = np.searchsorted(kept, chosen)
    final = theta.copy() if divergence is None else snaps[-1].copy()
    model = Model(network, final, problem, objective.loss.key, dict(objective.loss.params),
                  chosen, np.array(snaps)[rows], objective.n_classes,
                  threshold_override=objective.threshold_override)
    return model, history


def _report(progress, watch, epoch: int, epochs: int, network: Network, theta: Array) -> None:
    if progress is not None:
        progress(epoch, epochs)
    if watch is not None:
        watch(epoch, network, theta)


# ----------------------------------------------------------------------------------------
# Validation of fit's arguments: every message says what to change


def _check_problem(problem: str) -> None:
    if problem not in losses.PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of: "
                         f"{', '.join(losses.PROBLEMS)}")


def _features(X) -> Array:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty 2-D array (n samples, d features); got "
                         f"shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity; drop or fill those rows first")
    return X


def _objective(problem: str, activation: str, loss: str | losses.Loss, y,
               n_classes: int | None, loss_params: dict | None, n: int,
               threshold: float | None = None) -> Objective:
    loss_obj = losses.get(loss, **(loss_params or {}))
    if problem not in loss_obj.problems:
        raise ValueError(f"the loss {loss_obj.key!r} does not serve the {problem!r} problem; "
                         f"losses that do: {', '.join(losses.for_problem(problem))}")
    if activation not in activations.OUTPUT_ACTIVATIONS:
        raise ValueError(f"unknown output activation {activation!r}; choose one of: "
                         f"{', '.join(activations.OUTPUT_ACTIVATIONS)}")
    objective = Objective.build(problem, activation, loss_obj, y, n_classes,
                                threshold=threshold)
    if len(objective.labels) != n:
        raise ValueError(f"X has {n} rows but y has {len(objective.labels)}")
    return objective


def _check_numbers(epochs, batch_size, l2, init_scale, hidden_activation) -> None:
    if not (isinstance(epochs, (int, np.integer)) and 1 <= epochs <= MAX_EPOCHS):
        raise ValueError(f"epochs must be a whole number from 1 to {MAX_EPOCHS}; got {epochs}")
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive whole number; got {batch_size}")
    if not (l2 >= 0 and math.isfinite(l2)):
        raise ValueError(f"l2 must be a non-negative number; got {l2}")
    if not (math.isfinite(init_scale) and init_scale > 0):
        raise ValueError(f"init_scale must be a positive number; got {init_scale}")
    if hidden_activation not in activations.HIDDEN_ACTIVATIONS:
        raise ValueError(f"unknown hidden activation {hidden_activation!r}; choose one of: "
                         f"{', '.join(activations.HIDDEN_ACTIVATIONS)}")


def _hidden(hidden) -> tuple[int, ...]:
    if isinstance(hidden, (int, np.integer)):
        return (int(hidden),) if hidden else ()
    try:
        return tuple(int(h) for h in hidden)
    except (TypeError, ValueError):
        raise ValueError(f"hidden must be a list of layer sizes such as (16, 16); got "
                         f"{hidden!r}") from None


def _validation(validation_data, objective: Objective,
                d: int) -> tuple[Array | None, Objective | None]:
    if validation_data is None or not len(validation_data[0]):
        return None, None
    X_val = np.asarray(validation_data[0], dtype=float)
    val_objective = objective.with_targets(validation_data[1])
    if X_val.ndim != 2 or X_val.shape[1] != d or len(val_objective.labels) != len(X_val):
        raise ValueError("validation_data must be (X_val, y_val) shaped like (X, y)")
    return X_val, val_objective


def _initial(network: Network, rng: np.random.Generator, init_scale: float,
             initial_params) -> Array:
    theta = network.init(rng) * init_scale
    if initial_params is None:
        return theta
    initial = np.asarray(initial_params, dtype=float)
    if initial.shape != theta.shape:
        raise ValueError(f"initial_params must have {theta.size} values; got {initial.shape}")
    return initial.copy()


# ----------------------------------------------------------------------------------------
# Divergence


def _diagnose(epoch: int, value: float, grad_sq: float, p: Array, z: Array,
              objective: Objective, lr: float, adam: bool = False) -> Divergence:
    """Explain a NaN or infinity in words a student can act on."""
    loss, act = objective.loss, objective.activation
    lo = loss.prediction_range[0]
    outside = loss.outside(p) & ~np.isnan(p)
    partners = pairing.matched_activations(loss.key, objective.problem)
    if np.any(outside):
        worst = float(p[outside][np.argmax(np.abs(p[outside]))])
        # no learning rate helps here: the output's range, not the step, is wrong
        fix = (f"Pick an output activation whose range fits: {', '.join(partners)}."
               if partners else "Pick an output activation whose range fits.")
        return Divergence(
            epoch, "prediction outside the loss's domain",
            f"Epoch {epoch}: the {act.label.lower()} output produced {worst:.3g}, but "
            f"{loss.label} is only defined for predictions in {loss.range_text} "
            f"({'it takes the log of the prediction' if lo == 0 else 'it needs a valid value'})."
            f" {fix}", _use_output(partners))
    if loss.key == losses.CUSTOM and np.all(np.isfinite(p)) and math.isfinite(value):
        return Divergence(
            epoch, "formula's derivative undefined",
            f"Epoch {epoch}: your formula's value is finite ({value:.4g}), but its derivative "
            f"is undefined or infinite for some predictions between {float(np.min(p)):.3g} "
            f"and {float(np.max(p)):.3g} (sqrt(abs(p - y)), for one, has no slope where "
            "p = y), so no step can be taken. Smooth the formula there, e.g. "
            "sqrt((p - y)**2 + 0.01).")
    if loss.key == losses.CUSTOM and np.all(np.isfinite(p)):
        return Divergence(
            epoch, "formula undefined",
            f"Epoch {epoch}: your formula gave {value} for predictions between "
            f"{float(np.min(p)):.3g} and {float(np.max(p)):.3g}: it is undefined or infinite "
            "for some of them (a log of a number ≤ 0, a square root of a negative number or a "
            "division by zero). The pairing check's question 2 shows where.")
    # inside the domain, an infinity (rather than a NaN) means some number grew too large
    if math.isinf(value) or math.isinf(grad_sq) or not np.all(np.isfinite(z)):
        return Divergence(
            epoch, "weights overflowed",
            f"Epoch {epoch}: the weights grew until the numbers overflowed (the learning rate "
            f"{lr:g} is too large for this setup). Lower the learning rate"
            + ("." if adam else ", or use Adam."),
            lower_lr(lr) + (() if adam else (Fix("Use Adam", {"optimizer": "adam"}),)))
    unmatched = partners and act.key not in partners
    advice = (f" or pick the matched output activation ({', '.join(partners)})."
              if unmatched else ".")
    return Divergence(
        epoch, "non-finite loss or gradient",
        f"Epoch {epoch}: the loss or its gradient became NaN or infinite (loss = {value}). "
        f"Lower the learning rate{advice}",
        lower_lr(lr) + (_use_output(partners) if unmatched else ()))

