"""Training speed of explorer.fit against a minimal NumPy loop and scikit-learn, in one run.

Configuration: moons n=1000, a 2-16-16-1 ReLU network, sigmoid + BCE,
Adam with lr = 0.01, one BLAS thread; full batch and batch 32. Prints epochs/s for each
contestant (best of several repeats after a warm-up) and the ratios against the targets:
explorer / sklearn >= 2.5 at full batch and >= 3 at batch 32, explorer / minimal >= 0.8.
explorer.fit runs as the app runs it: per-epoch metrics, gradient norms and 100 snapshots.
sklearn gets alpha=0 (no L2), as explorer and the minimal loop have none.

Run by hand: ``python benchmarks/bench_training.py [--repeats 5]``. Not part of the tests.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import explorer  # noqa: E402

N, HIDDEN, LR = 1000, (16, 16), 0.01
EPOCHS = {1000: 600, 32: 60}
"""Epochs per timed run for each batch size: long enough to time, short enough to repeat."""
TARGETS = {("sklearn", 1000): 2.5, ("sklearn", 32): 3.0, ("minimal", 1000): 0.8,
           ("minimal", 32): 0.8}
ROUGHLY = {1000: 3500, 32: 500}
"""The rough absolute expectation for explorer, in epochs/s (machine-dependent)."""


def moons(n: int = N, seed: int = 0):
    """The benchmark data: explorer.datasets' moons if present, else the same shape by hand."""
    try:
        from explorer import datasets
        return datasets.make("moons", "binary", n, seed=seed)
    except (ImportError, AttributeError):
        rng = np.random.default_rng(seed)
        t = rng.uniform(0, np.pi, n)
        upper = rng.random(n) < 0.5
        X = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)],
                     np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
        return X + rng.normal(0, 0.2, X.shape), (~upper).astype(np.int64)


def minimal_loop(X, y, epochs: int, batch_size: int, seed: int = 0) -> float:
    """The least a hand-written NumPy trainer does: forward, BCE, backward, Adam. Final loss."""
    rng = np.random.default_rng(seed)
    sizes = (X.shape[1], *HIDDEN, 1)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out)), np.zeros(fan_out)]
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    y = y.astype(float)[:, None]
    n = len(X)
    loss = np.nan
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size < n else None
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size] if order is not None else slice(None)
            xb, yb = X[idx], y[idx]
            W1, c1, W2, c2, W3, c3 = params
            z1 = xb @ W1 + c1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ W2 + c2
            a2 = np.maximum(z2, 0)
            z3 = a2 @ W3 + c3
            p = 1 / (1 + np.exp(-z3))
            pc = np.clip(p, 1e-7, 1 - 1e-7)
            loss = -np.mean(yb * np.log(pc) + (1 - yb) * np.log(1 - pc))
            d3 = (p - yb) / len(xb)
            d2 = (d3 @ W3.T) * (z2 > 0)
            d1 = (d2 @ W2.T) * (z1 > 0)
            grads = [xb.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0), a2.T @ d3, d3.sum(0)]
            t += 1
            for q, g, mq, vq in zip(params, grads, m, v):
                mq *= b1
                mq += (1 - b1) * g
                vq *= b2
                vq += (1 - b2) * g * g
                q -= LR * (mq / (1 - b1**t)) / (np.sqrt(vq / (1 - b2**t)) + eps)
    return float(loss)


def explorer_fit(X, y, epochs: int, batch_size: int) -> float:
    _, history = explorer.fit(X, y, problem="binary", hidden=HIDDEN, hidden_activation="relu",
                              output_activation="sigmoid", loss="bce", optimizer="adam",
                              lr=LR, epochs=epochs, batch_size=batch_size, seed=0)
    return float(history["loss"].iloc[-1])


def sklearn_fit(X, y, epochs: int, batch_size: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, activation="relu", solver="adam",
                        learning_rate_init=LR, batch_size=batch_size, max_iter=epochs, tol=0,
                        n_iter_no_change=epochs, shuffle=True, alpha=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return float(clf.loss_)


CONTESTANTS = {"explorer": explorer_fit, "minimal": minimal_loop, "sklearn": sklearn_fit}


def race(X, y, epochs: int, batch_size: int, repeats: int) -> dict:
    """Best-of-``repeats`` epochs/s and final loss per contestant, after one warm-up each.

    The repeats are interleaved (explorer, minimal, sklearn, explorer, ...), so a burst of
    load on the machine hits every contestant alike rather than one of them.
    """
    for fn in CONTESTANTS.values():
        fn(X, y, max(2, epochs // 10), batch_size)
    best = {name: (0.0, np.nan) for name in CONTESTANTS}
    for _ in range(repeats):
        for name, fn in CONTESTANTS.items():
            start = time.perf_counter()
            loss = fn(X, y, epochs, batch_size)
            rate = epochs / (time.perf_counter() - start)
            best[name] = (max(best[name][0], rate), loss)
    return best


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed; OMP/OPENBLAS_NUM_THREADS=1 set)"
    info = threadpool_info()
    return ", ".join(f"{i['internal_api']}={i['num_threads']}" for i in info) or "none"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    X, y = moons()
    print(f"moons n={len(X)}, 2-16-16-1 relu, sigmoid+BCE, Adam lr={LR}; "
          f"BLAS threads: {blas_threads()}")
    missed = 0
    for batch_size, epochs in EPOCHS.items():
        label = "full batch" if batch_size >= len(X) else f"batch {batch_size}"
        print(f"\n{label} ({epochs} epochs per run, best of {args.repeats})")
        results = race(X, y, epochs, batch_size, args.repeats)
        rates = {name: rate for name, (rate, _) in results.items()}
        for name, (rate, loss) in results.items():
            print(f"  {name:9s} {rate:9.0f} epochs/s   (final loss {loss:.4f})")
        print(f"  (expected roughly >= {ROUGHLY[batch_size]} epochs/s for explorer)")
        for baseline in ("sklearn", "minimal"):
            ratio = rates["explorer"] / rates[baseline]
            target = TARGETS[(baseline, batch_size)]
            verdict = "PASS" if ratio >= target else "MISS"
            missed += verdict == "MISS"
            print(f"  explorer/{baseline:8s} {ratio:5.2f}x  (target >= {target:g}x)  {verdict}")
    print("\nall targets met" if not missed else f"\n{missed} target(s) missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
