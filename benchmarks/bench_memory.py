"""Memory of one click: the peak RSS each view's computation adds, at the largest settings.

"No single click raises the server's memory by more than 400 MB above idle, at the largest
settings the URL accepts, on any view". Every case runs in a fresh subprocess:
it loads a trained run (pickled by the parent), reads its resident set (VmRSS), resets the
high-water mark (``/proc/self/clear_refs``), runs the computation exactly as ``ui/compute``
does, and reads VmHWM: the increase is peak minus the resident set before the click.

Scenarios (``SCENARIOS``): the widest network the URL accepts (4 x 64 hidden units) on the
most classes (10, spiral), with the most points (5000, no validation split, full batch) and
the most epochs the work budget allows, and the classic hostile link (n = 50) at the most epochs the
budget allows. Cases: training itself, the Train view's frames and figure, every surface
(two weights, random directions, PCA plane; 3-D uses the same grid), the interpolation line,
the per-point gradients of Loss anatomy, and the reliability over training (Calibration).

Prints each case's MB and seconds, its work from the cost functions the page budget uses
(``work_of``) and the seconds per 1e9 of those units, the worst case and PASS / FAIL against
``LIMIT_MB``.
Run by hand: ``python benchmarks/bench_memory.py [--only frames,pca]``. Not part of the tests.

Measured 2026-12-06 on the 2-core machine: before the chunking, worst +1,376 MB (PCA plane:
a P x P identity), calibration +1,031 MB, frames +372 MB: FAIL; after, worst +85 MB
(training), every surface <= +46 MB: PASS.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_MB = 400.0

WIDEST = dict(problem="multiclass", dataset="spiral", n_classes=10, hidden=(64, 64, 64, 64),
              output_activation="softmax", loss="cce", optimizer="adam", lr=0.01)
SCENARIOS = {
    "5000 points": dict(WIDEST, n_samples=5000, val_share=0.0, batch_size=0),
    "hostile link (50 points)": dict(WIDEST, n_samples=50, batch_size=32),
}
"""Each scenario's settings; its epochs are the most the work budget allows (<= 3000)."""


def config_of(scenario: str):
    from explorer import config as cfg
    from explorer import experiment
    config = cfg.Config(**SCENARIOS[scenario])
    hi = int(cfg.FIELD["epochs"].hi)
    epochs = max(e for e in range(10, hi + 1, 10)
                 if experiment.work_units(config.replace(epochs=e)) <= experiment.WORK_BUDGET)
    return config.replace(epochs=epochs)


# ----------------------------------------------------------------------------------------
# The computations, as ui/compute.py runs them


def _training(run):
    from explorer import experiment
    return experiment.run(run.config)


def _frames(run):
    from explorer.figures import training as training_figures
    return training_figures.compute_frames(run.model, run.data.X_train, run.data.y_train)


def _train_figure(run):
    from explorer import losses
    from explorer.figures import training as training_figures
    frames = _frames(run)
    return training_figures.training_spec(frames, run.history, run.data, run.config.problem,
                                          loss_label=losses.get(run.config.loss).label,
                                          threshold=run.model.threshold)


def _surface(kind):
    def compute(run):
        from explorer import surfaces
        from explorer.figures import surface as surface_figures
        surface = surfaces.default_slice(run.model, run.data.X_train, run.data.y_train, kind)
        return surface_figures.surface_spec(surface, run.history, mode="3d")
    return compute


def _line(run):
    from explorer import surfaces
    X, y = surfaces.surface_data(run.data.X_train, run.data.y_train)
    return surfaces.interpolation_line(run.model, X, y)


def _anatomy(run):
    from explorer import anatomy, surfaces
    X, y = surfaces.surface_data(run.data.X_train, run.data.y_train)
    return anatomy.per_point_output_gradients(run.model, X, y)


def _calibration(run):
    from explorer import calibration
    d = run.data
    train = calibration.reliability_over_training(run.model, d.X_train, d.y_train)
    if len(d.X_val):
        return calibration.reliability_over_training(run.model, d.X_val, d.y_val), train
    return train


CASES = {
    "training": _training,
    "frames": _frames,
    "train figure": _train_figure,
    "surface: two weights": _surface("parameters"),
    "surface: random directions": _surface("random"),
    "surface: PCA plane": _surface("pca"),
    "interpolation line": _line,
    "anatomy: per-point gradients": _anatomy,
    "calibration": _calibration,
}


def work_of(case: str, run) -> float:
    """The case's work from the cost functions the page budget uses (training: work_units,
    forward and backward; the others: forward sample-parameter products)."""
    from explorer import anatomy, calibration, experiment, surfaces
    from explorer.figures import training as training_figures
    model, d = run.model, run.data
    P, S, n = model.network.n_params, len(model.snapshots), len(d.X_train)
    n_surface = min(n, surfaces.SURFACE_POINTS)
    if case == "training":
        return experiment.work_units(run.config)
    if case in ("frames", "train figure"):
        grid = training_figures.frame_grid_points(run.config.problem, d.X_train.shape[1])
        return training_figures.frames_work(P, grid, S)
    if case.startswith("surface"):
        kind = {"two weights": "parameters", "random directions": "random",
                "PCA plane": "pca"}[case.split(": ")[1]]
        return surfaces.default_slice_work(P, n, kind, S)
    if case == "interpolation line":
        return surfaces.line_work(P, n_surface)
    if case.startswith("anatomy"):
        return anatomy.point_gradients_work(P, n_surface, S)
    return calibration.reliability_work(P, n, S) + calibration.reliability_work(
        P, len(d.X_val), S)


# ----------------------------------------------------------------------------------------
# Measuring, in a fresh process per case


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(case: str, run_path: str) -> dict:
    """Run one case in this process: (MB above the resident set before it, seconds)."""
    with open(run_path, "rb") as f:
        run = pickle.load(f)
    compute = CASES[case]
    # warm the imports the computation needs (they are loaded once per server, not per click)
    import explorer.anatomy  # noqa: F401
    import explorer.calibration  # noqa: F401
    import explorer.figures.surface  # noqa: F401
    import explorer.figures.training  # noqa: F401
    before = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    start = time.perf_counter()
    result = compute(run)
    seconds = time.perf_counter() - start
    peak = _status_kb("VmHWM")
    del result
    return {"mb": (peak - before) / 1024, "seconds": seconds, "work": work_of(case, run)}


def train_scenario(scenario: str, path: str) -> None:
    from explorer import experiment
    with open(path, "wb") as f:
        pickle.dump(experiment.run(config_of(scenario)), f)


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated substrings of case names")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train:
        train_scenario(args.train, args.run)
        return 0
    if args.case:
        print(json.dumps(measure(args.case, args.run)))
        return 0
    wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    cases = [c for c in CASES if not wanted or any(w in c.lower() for w in wanted)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in SCENARIOS:
            config = config_of(scenario)
            print(f"\n{scenario}: {config.problem} {config.dataset}, {config.n_classes} "
                  f"classes, hidden {config.hidden}, n = {config.n_samples}, "
                  f"epochs {config.epochs}, batch {config.batch_size or 'full'}", flush=True)
            path = str(Path(tmp) / "run.pickle")
            child(["--train", scenario, "--run", path])
            for case in cases:
                r = child(["--case", case, "--run", path])
                results.append((scenario, case, r["mb"], r["seconds"]))
                flag = "" if r["mb"] <= LIMIT_MB else "   <-- over"
                rate = r["seconds"] / r["work"] * 1e9 if r["work"] else float("nan")
                print(f"  {case:30s} {r['mb']:8.1f} MB {r['seconds']:7.2f} s "
                      f"{r['work']:9.2e} units {rate:6.2f} s per 1e9 units{flag}", flush=True)
    worst = max(results, key=lambda r: r[2])
    verdict = "PASS" if worst[2] <= LIMIT_MB else "FAIL"
    print(f"\nworst: {worst[1]} ({worst[0]}): {worst[2]:.1f} MB above the resident set "
          f"before the click, in {worst[3]:.2f} s; limit {LIMIT_MB:.0f} MB: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
