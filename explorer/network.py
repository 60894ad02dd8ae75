"""A multilayer perceptron whose parameters live in one flat vector.

Layout: layer l has weights ``W_l`` of shape (fan_in, fan_out), used as ``x @ W_l + b_l``,
followed by its bias ``b_l``; the flat vector is [W_1, b_1, W_2, b_2, ...]. ``layers(theta)``
returns views into it, so an optimizer updates every parameter with a handful of vector ops,
a snapshot is one copy, and error surfaces can push many parameter vectors through
``forward_many`` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer import activations, losses
from explorer.objective import Objective, decide

Array = np.ndarray

HE_INIT = {"relu", "leaky_relu"}
STACK_FLOATS = 2**19
"""Floats one stacked forward pass may hold per layer (4 MB of float64; see ``stack_size``):
small enough to stay in cache, which is faster here than one huge stacked pass."""
MAX_LAYERS = 4
MAX_UNITS = 64
"""The size limits of the hidden layers (the app, the URL and the CLI read them here)."""


@dataclass(frozen=True)
class Network:
    """Architecture only; parameters are passed in as a flat vector ``theta``."""

    n_inputs: int
    hidden: tuple[int, ...]
    n_outputs: int
    hidden_activation: str = "relu"
    output_activation: str = "linear"
    slices: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if len(self.hidden) > MAX_LAYERS or any(not 1 <= h <= MAX_UNITS for h in self.hidden):
            raise ValueError(f"hidden layers must be 0 to {MAX_LAYERS} layers of 1 to "
                             f"{MAX_UNITS} units; got {self.hidden}")
        slices, start = [], 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            w = slice(start, start + fan_in * fan_out)
            b = slice(w.stop, w.stop + fan_out)
            slices.append((w, b, (fan_in, fan_out)))
            start = b.stop
        object.__setattr__(self, "slices", tuple(slices))
        activations.get(self.hidden_activation)
        activations.get(self.output_activation)

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.n_inputs, *self.hidden, self.n_outputs)

    @property
    def n_params(self) -> int:
        return self.slices[-1][1].stop

    def layers(self, theta: Array) -> list[tuple[Array, Array]]:
        """(W, b) views into theta for every layer; theta may be (P,) or stacked (S, P)."""
        lead = theta.shape[:-1]
        return [(theta[..., w].reshape(*lead, *shape), theta[..., b])
                for w, b, shape in self.slices]

    def stack_size(self, n_points: int, max_floats: int = STACK_FLOATS) -> int:
        """How many parameter vectors one stacked ``pre_activations`` pass over ``n_points``
        points may take: each takes n_points x (widest layer + 1) floats of a layer's
        activations plus its P parameters, and a chunk at most ``max_floats`` of them (so
        each workspace buffer stays below that whatever the network and the points)."""
        per_set = max(n_points, 1) * (max(self.sizes) + 1) + self.n_params
        return max(1, int(max_floats // per_set))

    def weight_mask(self) -> Array:
        """1 for weights, 0 for biases, shape (P,): what L2 regularization acts on."""
        mask = np.zeros(self.n_params)
        for w, _, _ in self.slices:
            mask[w] = 1.0
        return mask

    def parameter_names(self) -> list[str]:
        """Readable names, e.g. 'W2[3→0]' (layer 2, from unit 3 to unit 0) and 'b2[0]'."""
        names = []
        for layer, (_, _, (fan_in, fan_out)) in enumerate(self.slices, start=1):
            names += [f"W{layer}[{i}→{j}]" for i in range(fan_in) for j in range(fan_out)]
            names += [f"b{layer}[{j}]" for j in range(fan_out)]
        return names

    def init(self, rng: np.random.Generator) -> Array:
        """He-normal weights before ReLU-like units, Glorot-normal otherwise; zero biases."""
        theta = np.zeros(self.n_params)
        n_layers = len(self.slices)
        for index, (w, _, (fan_in, fan_out)) in enumerate(self.slices):
            feeds = self.hidden_activation if index < n_layers - 1 else self.output_activation
            # He: 2 / fan_in; Glorot: 2 / (fan_in + fan_out), i.e. 1 / the average fan
            std = np.sqrt(2.0 / (fan_in if feeds in HE_INIT else fan_in + fan_out))
            theta[w] = rng.normal(0.0, std, fan_in * fan_out)
        return theta

    def pre_activations(self, thetas: Array, X: Array, start: int = 0,
                        workspace: Workspace | None = None) -> Array:
        """Output pre-activations z for stacked parameter vectors: (S, P) -> (S, n, k),
        (P,) -> (n, k). The one batched forward pass (training's validation, surfaces,
        anatomy and the figures all use it).

        Every layer is one stacked product (S, n, fan_in + 1) @ (S, fan_in + 1, fan_out): in
        the flat layout [W_l, b_l] *is* that matrix, bias last, so a column of ones carries
        the bias. ``start`` > 0 promises that every theta shares the layers before ``start``
        with thetas[0] (a slice through two parameters): those are computed once.
        ``workspace`` keeps the buffers between calls of the same shape (much faster than
        fresh multi-megabyte arrays per chunk); the result is then a view into it, valid
        until its next use.
        """
        single = thetas.ndim == 1
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        c = len(thetas)
        buffers = (workspace or Workspace()).buffers(self, len(X), start, c)
        inputs = self._prefix(thetas[0], X, start)[None]
        layers = self.slices[start:]
        for (w, b, (fan_in, fan_out)), buffer in zip(layers[:-1], buffers):
            weights = thetas[:, w.start:b.stop].reshape(c, fan_in + 1, fan_out)
            np.matmul(inputs, weights, out=buffer[:c, :, :fan_out])
            inputs = buffer[:c]
            # activating the whole buffer (contiguous) is faster than the strided
            # [..., :fan_out]; then put the ones column back where a(1) != 1
            _activate_in_place(self.hidden_activation, inputs)
            if self.hidden_activation not in KEEPS_ONE:
                inputs[:, :, -1] = 1.0
        w, b, (fan_in, fan_out) = layers[-1]
        weights = thetas[:, w.start:b.stop].reshape(c, fan_in + 1, fan_out)
        z = np.matmul(inputs, weights, out=buffers[-1][:c])
        return z[0] if single else z

    def _prefix(self, theta: Array, X: Array, start: int) -> Array:
        """Input of layer ``start`` for one parameter vector, with a column of ones appended
        for the bias: (n, fan_in + 1)."""
        hidden = activations.get(self.hidden_activation)
        a = np.asarray(X, dtype=float)
        for W, b in self.layers(theta)[:start]:
            a = hidden.forward(a @ W + b)
        return np.hstack([a, np.ones((len(a), 1))])

    def forward_many(self, thetas: Array, X: Array) -> Array:
        """Outputs after the output activation: (S, P) -> (S, n, k); (P,) -> (n, k)."""
        out = activations.get(self.output_activation)
        return out.forward(self.pre_activations(thetas, X))

    def forward_cached(self, theta: Array, X: Array, layers=None):
        """Forward pass keeping what backward needs.

        Returns (zs, inputs, z, p): hidden pre-activations, the input of every layer, the
        output pre-activation (n, k) and the output p = output_activation(z).
        ``layers``: ``self.layers(theta)``, for a caller that reuses the views across batches.
        """
        hidden = activations.get(self.hidden_activation)
        inputs, zs = [X], []
        layers = self.layers(theta) if layers is None else layers
        a = X
        for W, b in layers[:-1]:
            z = a @ W
            z += b
            a = hidden.forward(z)
            zs.append(z)
            inputs.append(a)
        W, b = layers[-1]
        z = a @ W
        z += b
        return zs, inputs, z, activations.get(self.output_activation).forward(z)

    def backward(self, theta: Array, cache, dz: Array, grad: Array, layers=None,
                 grad_layers=None) -> Array:
        """Write d loss / d theta into ``grad`` (P,), given dz = d loss / d output z.

        ``layers`` / ``grad_layers``: ``self.layers(theta)`` / ``self.layers(grad)`` if the
        caller keeps them.
        """
        hidden = activations.get(self.hidden_activation)
        zs, inputs = cache
        layers = self.layers(theta) if layers is None else layers
        grad_layers = self.layers(grad) if grad_layers is None else grad_layers
        ones = np.ones(len(dz))
        for index in range(len(layers) - 1, -1, -1):
            gW, gb = grad_layers[index]
            np.matmul(inputs[index].T, dz, out=gW)
            np.matmul(ones, dz, out=gb)  # the column sums; faster than np.sum(axis=0)
            if index:
                # np.dot, not @: for one output unit (an outer product) it is 4x faster
                back = np.dot(dz, layers[index][0].T)
                dz = hidden.vjp(zs[index - 1], inputs[index], back)
        return grad


KEEPS_ONE = {"relu", "leaky_relu", "linear"}
"""Hidden activations with a(1) = 1: applying them to the bias column of ones is harmless."""


class Workspace:
    """Reusable buffers for ``Network.pre_activations``: one (chunk, n, width + 1) array per
    hidden layer (its last column stays 1, the next layer's bias) and one for the output."""

    def __init__(self) -> None:
        self._buffers: dict[tuple, list[Array]] = {}

    def buffers(self, network: Network, n: int, start: int, c: int) -> list[Array]:
        key = (network.sizes, n, start)
        current = self._buffers.get(key)
        if current is None or len(current[-1]) < c:
            sizes = [fan_out for _, _, (_, fan_out) in network.slices[start:]]
            current = [np.ones((c, n, h + 1)) for h in sizes[:-1]]
            current.append(np.empty((c, n, sizes[-1])))
            self._buffers = {key: current}  # one shape at a time: bounded memory
        return current


def _activate_in_place(key: str, z: Array) -> None:
    """The hidden activation ``key`` applied to z in place (the same values as the
    registry's ``forward``; tested equal)."""
    if key == "relu":
        np.maximum(z, 0.0, out=z)
    elif key == "leaky_relu":
        np.multiply(z, activations.LEAKY_SLOPE, out=z, where=z < 0)
    elif key == "tanh":
        np.tanh(z, out=z)
    elif key == "sigmoid":  # 1 / (1 + exp(-z)); exp overflow gives inf and then exactly 0
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        np.reciprocal(z, out=z)
    elif key != "linear":
        z[...] = activations.get(key).forward(z)


@dataclass
class Model:
    """A trained network: architecture, final parameters and the snapshots along the way."""

    network: Network
    theta: Array
    problem: str
    loss: str
    loss_params: dict = field(default_factory=dict)
    snapshot_epochs: Array = field(default_factory=lambda: np.zeros(0, dtype=int))
    snapshots: Array = field(default_factory=lambda: np.zeros((0, 0)))
    """Parameter vectors (S, P) after each epoch in snapshot_epochs (0 = initial weights)."""
    n_classes: int | None = None
    threshold_override: float | None = None
    """The decision threshold fit was given (binary); None: the loss's own."""

    def objective(self, targets=None) -> Objective:
        """This model's ``Objective`` (on ``targets`` when given)."""
        return Objective.build(self.problem, self.network.output_activation, self.loss,
                               targets, self.n_classes, self.loss_params,
                               n_outputs=self.network.n_outputs,
                               threshold=self.threshold_override)

    @property
    def threshold(self) -> float:
        """The decision threshold of a single output unit (0 for a margin score, else 0.5,
        unless fit was given another)."""
        if self.threshold_override is not None:
            return self.threshold_override
        return losses.get(self.loss).decision_threshold

    def predict(self, X) -> Array:
        """Network outputs after the output activation: (n,) for one output, else (n, k).

        A loss with a learned scale (gaussian_nll) gives (n, 2c) for c target columns: the
        c means, then the c standard deviations σ (= e^(s/2) of the raw scale units), so
        ``mean, sigma = model.predict(X).T`` for one target."""
        X = np.asarray(X, dtype=float)
        if losses.get(self.loss).outputs_per_target > 1:
            objective = self.objective()
            out = objective.outputs(self.network.pre_activations(self.theta, X))
            return np.concatenate([objective.point(out), objective.sigma(out)], axis=1)
        out = self.network.forward_many(self.theta, X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_class(self, X) -> Array:
        """Class labels for classification problems, shape (n,)."""
        return decide(self.network.forward_many(self.theta, np.asarray(X, dtype=float)),
                      self.threshold)
