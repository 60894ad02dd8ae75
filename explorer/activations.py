"""Activation functions: each value paired with its derivative.

Convention (written once, used everywhere): ``grad(z)`` is the derivative of the
activation with respect to its pre-activation ``z``, element-wise, same shape as
``z``. Softmax is not element-wise: its ``grad(z)`` returns the full Jacobian of
shape ``(n, k, k)`` and the backward pass uses ``vjp(z, out, g)``, the
vector-Jacobian product ``g @ J`` row by row, which every activation provides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An activation with its derivative and the metadata the app shows."""

    key: str
    label: str
    formula: str
    output_range: tuple[float, float]
    """Bounds the outputs can approach: (lo, hi), may be +-inf."""
    range_text: str
    """The set of outputs it can produce, e.g. "(0, 1)" or "[0, ∞)"."""
    derivative_formula: str
    """LaTeX for a'(z), in terms of p = a(z) where that is simpler."""
    _forward: Callable[[Array], Array] = field(repr=False)
    _derivative: Callable[[Array, Array], Array] = field(repr=False)
    """Element-wise derivative given (z, out); out = forward(z) saves work."""
    elementwise: bool = True
    note: str = ""

    def forward(self, z: Array) -> Array:
        """Outputs for pre-activations z, shape (n, k)."""
        return self._forward(np.asarray(z, dtype=float))

    def grad(self, z: Array) -> Array:
        """d out / d z: element-wise (same shape as z); softmax: Jacobian (n, k, k)."""
        z = np.asarray(z, dtype=float)
        out = self._forward(z)
        if self.elementwise:
            return self._derivative(z, out)
        return _softmax_jacobian(out)

    def vjp(self, z: Array, out: Array, g: Array) -> Array:
        """Chain rule through the activation: d loss / d z given g = d loss / d out."""
        if self.elementwise:
            return g * self._derivative(z, out)
        return out * (g - np.sum(g * out, axis=-1, keepdims=True))


def _sigmoid(z: Array) -> Array:
    # exp(-|z|) never overflows; the two branches give the same value.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def _softplus(z: Array) -> Array:
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _softmax(z: Array) -> Array:
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_jacobian(p: Array) -> Array:
    """J[i, a, b] = d p_a / d z_b = p_a (delta_ab - p_b), shape (n, k, k)."""
    return p[..., :, None] * (np.eye(p.shape[-1]) - p[..., None, :])


EXP_CLIP = 50.0
"""exp(z) is evaluated at min(z, 50): about 5e21, large enough to be a visible
blow-up in a loss curve, small enough never to overflow the float64 backward pass."""

LEAKY_SLOPE = 0.01

ACTIVATIONS: dict[str, Activation] = {
    a.key: a
    for a in [
        Activation(
            "linear", "Linear (identity)", r"a(z) = z", (-np.inf, np.inf), "(−∞, ∞)", "1",
            lambda z: z, lambda z, out: np.ones_like(z),
        ),
        Activation(
            "sigmoid", "Sigmoid", r"a(z) = \frac{1}{1 + e^{-z}}", (0.0, 1.0), "(0, 1)",
            r"p(1 - p)",
            _sigmoid, lambda z, out: out * (1.0 - out),
            note="Saturates: the derivative p(1-p) is near 0 when |z| is large.",
        ),
        Activation(
            "tanh", "Tanh", r"a(z) = \tanh z", (-1.0, 1.0), "(−1, 1)", r"(1 - p^2)",
            np.tanh, lambda z, out: 1.0 - out * out,
            note="Saturates at -1 and 1 like a rescaled sigmoid.",
        ),
        Activation(
            "softmax", "Softmax", r"a(z)_j = \frac{e^{z_j}}{\sum_i e^{z_i}}", (0.0, 1.0),
            "(0, 1), summing to 1", r"p_j(\delta_{jk} - p_k)",
            _softmax, lambda z, out: np.full_like(z, np.nan), elementwise=False,
            note="Outputs are positive and sum to 1 across the units.",
        ),
        Activation(
            "softplus", "Softplus", r"a(z) = \log(1 + e^{z})", (0.0, np.inf), "(0, ∞)",
            r"\sigma(z)",
            _softplus, lambda z, out: _sigmoid(z),
        ),
        Activation(
            "exp", "Exponential", r"a(z) = e^{z}", (0.0, np.inf), "(0, ∞)", "p",
            lambda z: np.exp(np.minimum(z, EXP_CLIP)),
            lambda z, out: np.where(z < EXP_CLIP, out, 0.0),
            note=f"Evaluated as exp(min(z, {EXP_CLIP:g})) so a blow-up stays finite.",
        ),
        Activation(
            "relu", "ReLU", r"a(z) = \max(0, z)", (0.0, np.inf), "[0, ∞)", r"[z > 0]",
            lambda z: np.maximum(z, 0.0), lambda z, out: (z > 0).astype(float),
            note="Zero gradient for z < 0: a unit stuck there stops learning.",
        ),
        Activation(
            "leaky_relu", "Leaky ReLU", rf"a(z) = \max({LEAKY_SLOPE:g} z, z)", (-np.inf, np.inf),
            "(−∞, ∞)", rf"[z > 0] + {LEAKY_SLOPE:g}\,[z \le 0]",
            lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
            lambda z, out: np.where(z > 0, 1.0, LEAKY_SLOPE),
        ),
    ]
}

OUTPUT_ACTIVATIONS = ("linear", "sigmoid", "tanh", "softmax", "softplus", "exp", "relu")
HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")


def get(key: str) -> Activation:
    """The activation called ``key``; ValueError naming the valid keys otherwise."""
    try:
        return ACTIVATIONS[key]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {key!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None
