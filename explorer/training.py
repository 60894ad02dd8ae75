"""Training is a function: ``fit(X, y, ...) -> (Model, History)``.

What the history reports (one row per epoch, a pandas DataFrame):
- ``loss`` and the train metrics are means over the epoch's mini-batches, computed during the
  forward passes as Keras reports them (no extra pass over the data); at full batch this is the
  loss at the start of the epoch's single step.
- ``val_loss`` and ``val_*`` metrics are full re-evaluations after the epoch, the loss computed
  exactly as the training loss is (from the logits for the fused pairs, so the two agree even
  where clipping would cap one of them).
- ``grad_norm`` is the root-mean-square over the epoch's batches of the gradient norm: it shows
  plateaus and vanishing gradients directly.
- ``loss`` is the data loss alone; L2 (``l2 * ||W||^2 / 2`` over weights, not biases) enters the
  gradient only, so losses stay comparable across settings.
``history.attrs["divergence"]`` is None, or a dict (epoch, reason, message) when the run stopped
on a NaN or infinity; the rows before it are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from explorer import activations, losses, metrics, optimizers
from explorer.network import Model, Network

Array = np.ndarray
MARGIN_LOSSES = {"hinge", "squared_hinge"}


@dataclass(frozen=True)
class Divergence:
    """Where and why a run stopped producing finite numbers."""

    epoch: int
    reason: str
    message: str


def _fail(message: str):
    raise ValueError(message)


def prepare_targets(problem: str, y, n_classes: int | None = None):
    """Validate targets; return (labels or float rows (n, k), n_outputs, n_classes)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and problem != "regression":
        y = y[:, 0]
    if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
        _fail(f"targets must be numbers; got dtype {y.dtype}")
    if problem == "binary":
        if y.ndim != 1 or not np.isin(y, (0, 1)).all():
            _fail("binary targets must be 0 or 1, one per row (shape (n,))")
        return y.astype(np.int64), 1, 2
    if problem == "multiclass":
        if y.ndim != 1 or np.any(y != np.round(y)) or np.any(y < 0):
            _fail("multi-class targets must be integer labels 0, 1, ..., k-1 (shape (n,))")
        k = int(n_classes or y.max() + 1)
        if k < 2 or y.max() >= k:
            _fail(f"multi-class needs at least 2 classes with labels below {k}")
        return y.astype(np.int64), k, k
    if problem in ("regression", "counts"):
        y = y.astype(float)
        if not np.isfinite(y).all():
            _fail("targets contain NaN or infinity; drop or fill those rows first")
        if problem == "counts" and np.any(y < 0):
            _fail("count targets must be non-negative")
        rows = y.reshape(len(y), -1)
        return rows, rows.shape[1], None
    _fail(f"unknown problem {problem!r}; choose one of: {', '.join(losses.PROBLEMS)}")


def loss_targets(loss: losses.Loss, problem: str, targets: Array, k: int) -> Array:
    """Targets encoded the way the loss reads them (labels, one-hot rows or floats)."""
    if problem in ("binary", "multiclass"):
        if loss.sparse_targets:
            return targets
        if problem == "multiclass":
            return losses.one_hot(targets, k)
        return targets.astype(float)[:, None]
    return targets


def output_value_and_dz(activation: activations.Activation, loss: losses.Loss, y: Array,
                        z: Array, p: Array, fused_fn=None) -> tuple[float, Array]:
    """Batch loss and d loss / d z at the output, as fit computes them.

    With ``fused_fn`` (from ``losses.FUSED``, canonical pairs) the loss comes from the logits
    and dz = (p - y) / n; otherwise ``loss.grad`` is chained through ``activation.vjp``.
    """
    if fused_fn is not None:
        return fused_fn(y, z, p)
    value, dp = loss.value_and_grad(y, p)
    return value, activation.vjp(z, p, dp)


def batch_step(network: Network, loss: losses.Loss, theta: Array, grad: Array,
               l2: float = 0.0, fused: bool = True):
    """The work fit does on one mini-batch, as a function ``step(X, y) -> (value, p, z)``.

    ``value`` is the batch's data loss; ``d(loss + l2 ||W||^2 / 2) / d theta`` is written into
    ``grad`` (P,). ``y`` is encoded by ``step_targets``. theta's and grad's layer views are
    built once here, so theta must be updated in place between steps. ``fused=False`` forces
    the explicit chain ``loss.grad`` -> ``activation.vjp`` even for a canonical pair.
    """
    out_act = activations.get(network.output_activation)
    fused_fn = losses.FUSED.get((network.output_activation, loss.key)) if fused else None
    layers, grad_layers = network.layers(theta), network.layers(grad)
    l2_mask = l2 * network.weight_mask() if l2 > 0 else None

    def step(X: Array, y: Array) -> tuple[float, Array, Array]:
        zs, inputs, z, p = network.forward_cached(theta, X, layers)
        value, dz = output_value_and_dz(out_act, loss, y, z, p, fused_fn)
        network.backward(theta, (zs, inputs), dz, grad, layers, grad_layers)
        if l2_mask is not None:
            np.add(grad, l2_mask * theta, out=grad)
        return value, p, z

    return step


def step_targets(network: Network, loss: losses.Loss, y_loss: Array,
                 fused: bool = True) -> Array:
    """Targets as ``batch_step`` reads them: ``y_loss``, or one-hot rows for a fused sparse CE."""
    if fused and loss.sparse_targets and (network.output_activation, loss.key) in losses.FUSED:
        return losses.one_hot(y_loss, network.n_outputs)
    return y_loss


def loss_and_grad(network: Network, theta: Array, X: Array, y_loss: Array,
                  loss: losses.Loss, l2: float = 0.0, fused: bool = True):
    """One batch exactly as fit computes it: (data loss, gradient (P,), p, z).

    ``y_loss``: targets encoded for the loss (``loss_targets``). theta is not modified.
    """
    theta = np.array(theta, dtype=float)
    grad = np.zeros_like(theta)
    step = batch_step(network, loss, theta, grad, l2, fused)
    value, p, z = step(np.asarray(X, dtype=float), step_targets(network, loss, y_loss, fused))
    return value, grad, p, z


def evaluate(network: Network, loss: losses.Loss, theta: Array, X: Array, y_step: Array,
             fused: bool = True) -> tuple[float, Array]:
    """(data loss, p) at theta, computed as ``batch_step`` computes it (fused if it is)."""
    z = network.pre_activation(theta, X)
    p = activations.get(network.output_activation).forward(z)
    fused_fn = losses.FUSED.get((network.output_activation, loss.key)) if fused else None
    with np.errstate(all="ignore"):
        value = fused_fn(y_step, z, p)[0] if fused_fn else loss.value_and_grad(y_step, p)[0]
    return value, p


def snapshot_epochs(epochs: int, count: int) -> Array:
    """About ``count`` evenly spaced epochs from 0 (initial weights) to ``epochs``."""
    count = max(2, min(count, epochs + 1))
    return np.unique(np.round(np.linspace(0, epochs, count)).astype(int))


def fit(
    X, y, problem: str = "regression", hidden=(16,), hidden_activation: str = "relu",
    output_activation: str | None = None, loss: str | None = None, optimizer: str = "adam",
    lr: float = 0.01, momentum: float | None = None, epochs: int = 200, batch_size: int = 32,
    l2: float = 0.0, seed: int = 0, validation_data=None, snapshots: int = 100,
    loss_params: dict | None = None, n_classes: int | None = None,
    initial_params: Array | None = None, init_scale: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Model, pd.DataFrame]:
    """Train an MLP by mini-batch gradient descent; return (Model, History DataFrame).

    X: (n, d) features. y: regression/counts floats (n,) or (n, k); binary {0, 1} (n,);
    multiclass integer labels (n,). output_activation and loss default to the problem's
    matched pair. The backward pass chains ``loss.grad`` through the output activation, so a
    mismatched pair trains with its true gradient; the three canonical pairs whose chain has a
    closed form (sigmoid+BCE, softmax+CE) use it, tested equal to the chain.
    ``init_scale`` multiplies the He/Glorot initial weights (large values start saturated).
    ``progress(epoch, epochs)`` is called about 100 times when given.
    """
    from explorer import pairing

    if problem not in losses.PROBLEMS:
        _fail(f"unknown problem {problem!r}; choose one of: {', '.join(losses.PROBLEMS)}")
    default_activation, default_loss = pairing.DEFAULT_PAIR[problem]
    output_activation = output_activation or default_activation
    loss_obj = losses.get(loss or default_loss, **(loss_params or {}))
    if problem not in loss_obj.problems:
        _fail(f"the loss {loss_obj.key!r} does not serve the {problem!r} problem; losses that "
              f"do: {', '.join(losses.for_problem(problem))}")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(X) == 0:
        _fail(f"X must be a non-empty 2-D array (n samples, d features); got shape {X.shape}")
    if not np.isfinite(X).all():
        _fail("X contains NaN or infinity; drop or fill those rows first")
    targets, k, n_classes = prepare_targets(problem, y, n_classes)
    if len(targets) != len(X):
        _fail(f"X has {len(X)} rows but y has {len(targets)}")
    if not (isinstance(epochs, (int, np.integer)) and 1 <= epochs <= 100_000):
        _fail(f"epochs must be a whole number from 1 to 100000; got {epochs}")
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        _fail(f"batch_size must be a positive whole number; got {batch_size}")
    if not (l2 >= 0 and math.isfinite(l2)):
        _fail(f"l2 must be a non-negative number; got {l2}")
    if hidden_activation not in activations.HIDDEN_ACTIVATIONS:
        _fail(f"unknown hidden activation {hidden_activation!r}; choose one of: "
              f"{', '.join(activations.HIDDEN_ACTIVATIONS)}")
    if output_activation not in activations.OUTPUT_ACTIVATIONS:
        _fail(f"unknown output activation {output_activation!r}; choose one of: "
              f"{', '.join(activations.OUTPUT_ACTIVATIONS)}")

    if isinstance(hidden, (int, np.integer)):
        hidden = (hidden,) if hidden else ()
    try:
        hidden = tuple(int(h) for h in hidden)
    except (TypeError, ValueError):
        _fail(f"hidden must be a list of layer sizes such as (16, 16); got {hidden!r}")
    network = Network(X.shape[1], hidden, k, hidden_activation,
                      output_activation)
    rng = np.random.default_rng(seed)
    if not (math.isfinite(init_scale) and init_scale > 0):
        _fail(f"init_scale must be a positive number; got {init_scale}")
    theta = network.init(rng) * init_scale
    if initial_params is not None:
        initial_params = np.asarray(initial_params, dtype=float)
        if initial_params.shape != theta.shape:
            _fail(f"initial_params must have {theta.size} values; got {initial_params.shape}")
        theta = initial_params.copy()
    opt = optimizers.make(optimizer, lr, momentum)
    threshold = 0.0 if loss_obj.key in MARGIN_LOSSES else 0.5

    y_loss = loss_targets(loss_obj, problem, targets, k)
    y_step = step_targets(network, loss_obj, y_loss)
    y_metric = targets

    val = None
    if validation_data is not None and len(validation_data[0]):
        X_val = np.asarray(validation_data[0], dtype=float)
        t_val, _, _ = prepare_targets(problem, validation_data[1], n_classes)
        if X_val.ndim != 2 or X_val.shape[1] != X.shape[1] or len(t_val) != len(X_val):
            _fail("validation_data must be (X_val, y_val) shaped like (X, y)")
        val = (X_val, step_targets(network, loss_obj, loss_targets(loss_obj, problem, t_val, k)),
               t_val)

    metric_names = metrics.names(problem)
    n = len(X)
    batch_size = min(batch_size, n)
    full_batch = batch_size == n
    keep = snapshot_epochs(epochs, snapshots)
    keep_set = set(keep.tolist())
    snaps = [theta.copy()]
    grad = np.zeros_like(theta)
    step = batch_step(network, loss_obj, theta, grad, l2)

    columns = {"loss": np.full(epochs, np.nan), "grad_norm": np.full(epochs, np.nan)}
    for name in metric_names:
        columns[name] = np.full(epochs, np.nan)
    if val is not None:
        columns["val_loss"] = np.full(epochs, np.nan)
        for name in metric_names:
            columns["val_" + name] = np.full(epochs, np.nan)

    report_every = max(1, epochs // 100)
    divergence = None
    completed = 0
    with np.errstate(all="ignore"):
        for epoch in range(1, epochs + 1):
            if full_batch:
                batches = ((X, y_step, y_metric),)
            else:
                # shuffle once per epoch; the batches are then slices (views), not copies
                order = rng.permutation(n)
                shuffled = X[order], y_step[order], y_metric[order]
                batches = [tuple(a[i:i + batch_size] for a in shuffled)
                           for i in range(0, n, batch_size)]
            loss_sum = 0.0
            grad_sq = 0.0
            metric_sum = np.zeros(len(metric_names))
            for xb, yb, mb in batches:
                value, p, z = step(xb, yb)
                g2 = float(grad @ grad)
                if not (math.isfinite(value) and math.isfinite(g2)):
                    divergence = _diagnose(epoch, value, g2, p, z, loss_obj,
                                           output_activation, lr)
                    break
                rows = len(p)
                loss_sum += value * rows
                grad_sq += g2 * rows
                metric_sum += metrics.sums(problem, p, mb, threshold)
                opt.step(theta, grad)
            if divergence is not None:
                break
            columns["loss"][epoch - 1] = loss_sum / n
            columns["grad_norm"][epoch - 1] = math.sqrt(grad_sq / n)
            for name, value in zip(metric_names, metrics.finish(problem, metric_sum, n)):
                columns[name][epoch - 1] = value
            if val is not None:
                columns["val_loss"][epoch - 1], p_val = evaluate(network, loss_obj, theta,
                                                                 val[0], val[1])
                val_metrics = metrics.finish(
                    problem, metrics.sums(problem, p_val, val[2], threshold), len(p_val))
                for name, value in zip(metric_names, val_metrics):
                    columns["val_" + name][epoch - 1] = value
            completed = epoch
            if epoch in keep_set:
                snaps.append(theta.copy())
            if progress is not None and (epoch % report_every == 0 or epoch == epochs):
                progress(epoch, epochs)

    kept = keep[keep <= completed]
    history = pd.DataFrame({"epoch": np.arange(1, completed + 1)})
    for name, values in columns.items():
        history[name] = values[:completed]
    history.attrs["divergence"] = asdict(divergence) if divergence else None
    history.attrs["problem"] = problem
    model = Model(network, theta.copy() if divergence is None else snaps[-1].copy(), problem,
                  loss_obj.key, dict(loss_obj.params), threshold, kept, np.array(snaps),
                  n_classes)
    return model, history


def _diagnose(epoch: int, value: float, grad_sq: float, p: Array, z: Array,
              loss: losses.Loss, activation: str, lr: float) -> Divergence:
    """Explain a NaN or infinity in words a student can act on."""
    lo, hi = loss.prediction_range
    outside = (p < lo) | (p > hi)
    act = activations.get(activation)
    if np.any(outside):
        worst = float(p[outside][np.argmax(np.abs(p[outside]))])
        span = _interval(lo, hi)
        return Divergence(
            epoch, "prediction outside the loss's domain",
            f"Epoch {epoch}: the {act.label.lower()} output produced {worst:.3g}, but "
            f"{loss.label} is only defined for predictions in {span} "
            f"({'it takes the log of the prediction' if lo == 0 else 'it needs a valid value'})."
            f" Pick an output activation whose range fits: "
            f"{', '.join(loss.matched_activations)}.")
    # inside the domain, an infinity (rather than a NaN) means some number grew too large
    if math.isinf(value) or math.isinf(grad_sq) or not np.all(np.isfinite(z)):
        return Divergence(
            epoch, "weights overflowed",
            f"Epoch {epoch}: the weights grew until the numbers overflowed (the learning rate "
            f"{lr:g} is too large for this setup). Lower the learning rate, or use Adam.")
    return Divergence(
        epoch, "non-finite loss or gradient",
        f"Epoch {epoch}: the loss or its gradient became NaN or infinite (loss = {value}). "
        f"Lower the learning rate" + (
            "." if activation in loss.matched_activations else
            f" or pick the matched output activation ({', '.join(loss.matched_activations)})."))


def _interval(lo: float, hi: float) -> str:
    def show(v):
        return "∞" if v == np.inf else "−∞" if v == -np.inf else f"{v:g}"
    return f"[{show(lo)}, {show(hi)}]"
