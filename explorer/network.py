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

from explorer import activations

Array = np.ndarray

HE_INIT = {"relu", "leaky_relu"}


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
        if not 0 <= len(self.hidden) <= 4 or any(not 1 <= h <= 64 for h in self.hidden):
            raise ValueError(
                f"hidden layers must be 0 to 4 layers of 1 to 64 units; got {self.hidden}"
            )
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

    def forward(self, theta: Array, X: Array) -> Array:
        """Outputs after the output activation, shape (n, n_outputs)."""
        return self.forward_many(theta, X)

    def pre_activation(self, theta: Array, X: Array) -> Array:
        """Output layer's pre-activation z, shape (n, n_outputs) or (S, n, n_outputs)."""
        hidden = activations.get(self.hidden_activation)
        a = X
        layers = self.layers(theta)
        for W, b in layers[:-1]:
            a = hidden.forward(a @ W + b[..., None, :])
        W, b = layers[-1]
        return a @ W + b[..., None, :]

    def forward_many(self, thetas: Array, X: Array) -> Array:
        """Outputs for stacked parameter vectors (S, P) -> (S, n, k); (P,) -> (n, k)."""
        out = activations.get(self.output_activation)
        return out.forward(self.pre_activation(thetas, X))

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


@dataclass
class Model:
    """A trained network: architecture, final parameters and the snapshots along the way."""

    network: Network
    theta: Array
    problem: str
    loss: str
    loss_params: dict = field(default_factory=dict)
    threshold: float = 0.5
    snapshot_epochs: Array = field(default_factory=lambda: np.zeros(0, dtype=int))
    snapshots: Array = field(default_factory=lambda: np.zeros((0, 0)))
    """Parameter vectors (S, P) after each epoch in snapshot_epochs (0 = initial weights)."""
    n_classes: int | None = None

    def predict(self, X) -> Array:
        """Network outputs after the output activation: (n,) for one output, else (n, k)."""
        out = self.network.forward(self.theta, np.asarray(X, dtype=float))
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_class(self, X) -> Array:
        """Class labels for classification problems, shape (n,)."""
        out = self.network.forward(self.theta, np.asarray(X, dtype=float))
        return decide(out, self.threshold)


def decide(out: Array, threshold: float) -> Array:
    """Class labels from outputs (..., k): argmax for k > 1, else output > threshold."""
    if out.shape[-1] > 1:
        return np.argmax(out, axis=-1)
    return (out[..., 0] > threshold).astype(np.int64)
