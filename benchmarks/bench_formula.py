"""Typed formulas worked out in the sandbox's worker, against in-process, in one run.

Prints, per normal formula (each text new to every cache, so nothing is remembered): the
in-process time (``formula.parse``: SymPy here, the baseline), the sandbox's first call (a
worker process started and its imports paid), a warm call (worker ready, text new: work out
there, send the plain programs, ``rebuild`` here), a remembered call, the rebuild alone, and
judging (``pairing.formula_pairing`` here vs ``sandbox.formula_verdict``); each as a ratio to
the baseline. Then two known hostile links, in-process now that the parser refuses or
tames them. Times are the median of the formulas (best of the repeats for each).

Budget: a warm sandbox call costs at most 3x in-process plus 50 ms (the pipe round trip and
the rebuild); a remembered call under 1 ms. Prints PASS / MISS.

Run: python benchmarks/bench_formula.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import formula, pairing, sandbox  # noqa: E402

FORMULAS = ["log(1 + (y - p)**2) + {k}*p", "abs(y - p)**3 + {k}",
            "where(y > p, 0.9*(y - p), 0.1*(p - y)) + {k}*p**2",
            "-(y*log(p) + (1 - y)*log(1 - p)) + {k}*p", "sqrt(abs(p - y) + {k}) + 0.5*p**2"]
HOSTILE = {"sqrt(sqrt(sqrt(2*p))*1.5)": "decimals in nested roots (ran past 90 s)",
           "p*" + "(" * 7 + "1/2" + ")**10" * 7: "nested exact powers (ran past 300 s)"}
REPEATS = 3
WARM_RATIO, WARM_EXTRA_S, REMEMBERED_S = 3.0, 0.05, 0.001


def clock(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best(make_text, fn) -> float:
    """Best of REPEATS calls of ``fn`` on texts no cache has seen."""
    return min(clock(lambda: fn(make_text())) for _ in range(REPEATS))


def repeated(fn, argument) -> float:
    """Best of REPEATS calls of ``fn`` on the same argument."""
    return min(clock(lambda: fn(argument)) for _ in range(REPEATS))


def main() -> int:
    counter = iter(range(1, 10**9))

    def fresh(template: str):
        return lambda: template.format(k=next(counter) + 1)  # new text, same work

    cold = clock(lambda: sandbox.formula_loss(FORMULAS[0].format(k=0)))
    rows = {"in-process parse (baseline)": [], "sandbox, warm": [], "sandbox, remembered": [],
            "rebuild from programs": [], "judge in-process": [], "judge via sandbox": []}
    for template in FORMULAS:
        make = fresh(template)
        rows["in-process parse (baseline)"].append(best(make, formula._parse))
        rows["sandbox, warm"].append(best(make, sandbox.formula_loss))
        text = make()
        sandbox.formula_loss(text)
        rows["sandbox, remembered"].append(repeated(sandbox.formula_loss, text))
        rows["rebuild from programs"].append(repeated(formula.rebuild, formula.work_out(text)))
        rows["judge in-process"].append(best(
            make, lambda t: pairing.formula_pairing("binary", "sigmoid", t)))
        rows["judge via sandbox"].append(best(
            make, lambda t: sandbox.formula_verdict("binary", "sigmoid", t)))
    base = statistics.median(rows["in-process parse (baseline)"])
    print(f"{'typed formula, median of ' + str(len(FORMULAS)):40s} {'ms':>10s} "
          f"{'x baseline':>11s}")
    print(f"{'sandbox, first call (worker starts)':40s} {cold * 1e3:10.3f} {cold / base:11.3f}")
    medians = {name: statistics.median(times) for name, times in rows.items()}
    for name, value in medians.items():
        print(f"{name:40s} {value * 1e3:10.3f} {value / base:11.3f}")
    print()
    for text, what in HOSTILE.items():
        formula._parse.cache_clear()
        try:
            start = time.perf_counter()
            formula.parse(text)
            outcome = "parsed"
        except formula.FormulaError as error:
            outcome = f"refused: {error}"
        spent = time.perf_counter() - start
        print(f"{what}: {spent * 1e3:.3f} ms in-process ({spent / base:.2f} x baseline), {outcome}")
    warm_ok = medians["sandbox, warm"] <= WARM_RATIO * base + WARM_EXTRA_S
    remembered_ok = medians["sandbox, remembered"] < REMEMBERED_S
    print(f"\nwarm call within {WARM_RATIO:g}x in-process + {WARM_EXTRA_S * 1000:g} ms: "
          f"{'PASS' if warm_ok else 'MISS'}; remembered under {REMEMBERED_S * 1000:g} ms: "
          f"{'PASS' if remembered_ok else 'MISS'}")
    sandbox.formulas.close()
    return 0 if warm_ok and remembered_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
