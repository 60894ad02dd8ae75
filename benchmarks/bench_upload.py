"""A wide uploaded CSV: the cost of a rerun, with and without the upload caches.

A 1000-column file (about 4 MB, a few cells per column written as "?", so pandas reads the
columns as text and examining them is the slow path) is uploaded through AppTest into the
whole app; then the page is rerun with the same file and columns:

- baseline: the upload caches (``explorer/ui/upload.py``: FILES, CHOICES) emptied before
  each rerun, so every rerun examines every column and prepares the table again, as every
  rerun did before those caches (the bytes' own parse stays cached by ``st.cache_data``, as
  it was);
- cached: the same rerun with the caches kept.

Both are measured here, in this process, one after the other, and the ratio cached/baseline
is printed. The table work alone (``numeric_columns`` + ``prepare`` on the parsed frame) is
printed too. Run by hand: ``python benchmarks/bench_upload.py``; about 20 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from explorer import tabular  # noqa: E402

APP = str(ROOT / "app.py")


def wide_csv(columns: int, rows: int, seed: int = 0) -> bytes:
    """``columns - 1`` number columns (one cell in 50 is "?") and a 0/1 label."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, columns - 1))
    label = (X[:, 0] + X[:, 1] > 0).astype(int)
    header = ",".join(f"x{j}" for j in range(columns - 1)) + ",label"
    lines = [header] + [",".join("?" if (i + j) % 50 == 0 else f"{v:.3f}"
                                 for j, v in enumerate(row)) + f",{c}"
                        for i, (row, c) in enumerate(zip(X, label))]
    return ("\n".join(lines) + "\n").encode()


def rerun_seconds(at: AppTest, before=lambda: None) -> float:
    before()
    start = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - start
    assert not at.exception, [e.message for e in at.exception]
    assert not at.sidebar.error, [e.value for e in at.sidebar.error]
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--reruns", type=int, default=5)
    args = parser.parse_args(argv)

    from explorer.ui import upload  # the app's module, as AppTest's script imports it

    data = wide_csv(args.columns, args.rows)
    print(f"bench_upload: {args.columns} columns x {args.rows} rows, {len(data) / 1e6:.1f} MB; "
          f"CPUs {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")

    frame = tabular.read_csv(data)
    start = time.perf_counter()
    numeric = tabular.numeric_columns(frame)
    tabular.prepare(frame, numeric[:2], "label", "binary", loss="bce")
    table_work = time.perf_counter() - start
    print(f"  table work alone (numeric_columns + prepare): {table_work:.3f} s")

    at = AppTest.from_file(APP, default_timeout=300)
    for key, value in {"dataset": "upload", "problem": "binary", "epochs": "10"}.items():
        at.query_params[key] = value
    at.run()
    at.file_uploader(key="csv_file").set_value(("wide.csv", data, "text/csv"))
    first = rerun_seconds(at)
    print(f"  first run with the file (read, examine, prepare, train): {first:.3f} s")

    def forget() -> None:
        upload.FILES.clear()
        upload.CHOICES.clear()

    baseline, cached = [], []
    for _ in range(args.reruns):  # interleaved, so a busy moment hurts both alike
        baseline.append(rerun_seconds(at, forget))
        cached.append(rerun_seconds(at))
    base, now = statistics.median(baseline), statistics.median(cached)
    print(f"  rerun, same file and columns, median of {args.reruns}:")
    print(f"    baseline (examined and prepared again): {base:.3f} s")
    print(f"    cached (no table work):                 {now:.3f} s")
    print(f"  ratio cached / baseline: {now / base:.3f} ({base / now:.0f}x less per rerun)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
