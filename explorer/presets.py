"""Named scenarios: one click (or one ?preset=key link) sets up a lesson.

Every lesson is a set of claims that code checks. A ``Preset`` holds the lesson's text, its
configuration, the comparison configurations its claims read (the same start with another
loss, say) and the claims themselves (``explorer.claims.Claim``: readable text, a
measurement over the runs, a bound). ``verify(key, seed)`` re-runs the lesson and checks
every claim; the tests do so on the lesson's own seed and on five others, and the lesson
text promises no more than those claims.

The lessons themselves live in ``explorer.lessons`` (their words, scenarios and
measurements); this module is their stable face.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from explorer.claims import ClaimResult, Runs
from explorer.lessons.preset import Preset, readable
from explorer.lessons.words import LESSONS

__all__ = ["PRESETS", "Preset", "get", "readable", "verify", "verify_many"]

PRESETS: dict[str, Preset] = {p.key: p for p in LESSONS}


def verify(key: str, seed: int | None = None, cache: dict | None = None) -> list[ClaimResult]:
    """Re-run preset ``key`` (on ``seed`` if given: data, split and initial weights) and check
    each of its claims; one ``ClaimResult`` per claim, in order.

    Runs are trained once per call; pass the same ``cache`` dict to several calls to share
    runs of identical configurations between lessons.
    """
    preset = get(key)
    runs = Runs(preset.configs(seed), cache)
    used_seed = preset.config.seed if seed is None else seed
    return [claim.check(runs, preset.key, used_seed) for claim in preset.claims]


def _verify_seed(seed: int, keys: list[str]) -> dict[tuple[str, int], list[ClaimResult]]:
    """``verify`` of several lessons on one seed, sharing their runs."""
    cache: dict = {}
    return {(key, seed): verify(key, seed, cache) for key in keys}


def verify_many(pairs, workers: int | None = None) -> dict[tuple[str, int], list[ClaimResult]]:
    """``verify`` of each (lesson key, seed) in ``pairs``: the lessons of one seed share
    their runs, and the seeds are spread over ``workers`` processes (default: one per core;
    1 verifies here, in this process)."""
    by_seed: dict[int, list[str]] = {}
    for key, seed in pairs:
        by_seed.setdefault(seed, []).append(key)
    workers = min(workers or os.cpu_count() or 1, len(by_seed)) or 1
    results: dict[tuple[str, int], list[ClaimResult]] = {}
    if workers == 1:
        for seed, keys in by_seed.items():
            results.update(_verify_seed(seed, keys))
        return results
    # not fork: the calling process may have threads running
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for part in pool.map(_verify_seed, by_seed, by_seed.values()):
            results.update(part)
    return results


def get(key: str) -> Preset:
    try:
        return PRESETS[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preset {key!r}; choose one of: {', '.join(PRESETS)}") from None
