"""Optimizers that update a flat parameter vector in place; state is aligned to it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

Array = np.ndarray


class Optimizer(Protocol):
    def step(self, theta: Array, grad: Array) -> None:
        """Update theta in place from its gradient."""


@dataclass
class SGD:
    """Formula: v <- momentum * v - lr * g;  theta <- theta + v  (plain SGD when momentum = 0)."""

    lr: float
    momentum: float = 0.0
    velocity: Array | None = field(default=None, repr=False)

    def step(self, theta: Array, grad: Array) -> None:
        if self.momentum == 0.0:
            theta -= self.lr * grad
            return
        if self.velocity is None:
            self.velocity = np.zeros_like(theta)
        self.velocity *= self.momentum
        self.velocity -= self.lr * grad
        theta += self.velocity


@dataclass
class Adam:
    """Formula: m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
    theta <- theta - lr * m_hat / (sqrt(v_hat) + eps), with bias-corrected m_hat, v_hat."""

    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: Array | None = field(default=None, repr=False)
    v: Array | None = field(default=None, repr=False)

    def step(self, theta: Array, grad: Array) -> None:
        if self.m is None or self.v is None:
            self.m, self.v = np.zeros_like(theta), np.zeros_like(theta)
        m, v = self.m, self.v
        self.t += 1
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad * grad
        # bias corrections folded into the step size (same update, fewer array ops)
        step = self.lr * math.sqrt(1.0 - self.beta2**self.t) / (1.0 - self.beta1**self.t)
        eps_hat = self.eps * math.sqrt(1.0 - self.beta2**self.t)
        theta -= step * m / (np.sqrt(v) + eps_hat)


@dataclass
class RMSprop:
    """Formula: s <- rho s + (1-rho) g^2;  theta <- theta - lr * g / (sqrt(s) + eps)."""

    lr: float
    rho: float = 0.9
    eps: float = 1e-7
    s: Array | None = field(default=None, repr=False)

    def step(self, theta: Array, grad: Array) -> None:
        if self.s is None:
            self.s = np.zeros_like(theta)
        self.s *= self.rho
        self.s += (1.0 - self.rho) * grad * grad
        theta -= self.lr * grad / (np.sqrt(self.s) + self.eps)


OPTIMIZERS = {
    "sgd": "Stochastic gradient descent",
    "momentum": "SGD with momentum",
    "adam": "Adam",
    "rmsprop": "RMSprop",
}


def make(key: str, lr: float, momentum: float | None = None) -> Optimizer:
    """An optimizer by key; 'momentum' is SGD with momentum 0.9 unless given."""
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {key!r}; choose one of: {', '.join(OPTIMIZERS)}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive number; got {lr}")
    if key == "sgd":
        return SGD(lr, momentum or 0.0)
    if key == "momentum":
        return SGD(lr, 0.9 if momentum is None else momentum)
    if key == "adam":
        return Adam(lr)
    return RMSprop(lr)
