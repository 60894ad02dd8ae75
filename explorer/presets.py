"""Named scenarios: one click (or one ?preset=key link) sets up a lesson.

Every lesson is a set of claims that code checks. A ``Preset`` holds the lesson's text, its
configuration, the comparison configurations its claims read (the same start with another
loss, say) and the claims themselves (``explorer.claims.Claim``: readable text, a
measurement over the runs, a bound). ``verify(key, seed)`` re-runs the lesson and checks
every claim; the tests do so on the lesson's own seed and on five others, and the lesson
text promises no more than those claims. ``check`` also says which answer to the lesson's
question (``explorer.lessons.questions``) the same runs decide.

The lessons themselves live in ``explorer.lessons`` (their words, scenarios and
measurements); this module is their stable face.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from explorer.claims import ClaimResult, Runs
from explorer.lessons import questions
from explorer.lessons.preset import Preset, readable
from explorer.lessons.questions import Outcome
from explorer.lessons.words import LESSONS

__all__ = ["PRESETS", "Checked", "Preset", "check", "check_many", "get", "readable", "verify",
           "verify_many"]

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


@dataclass(frozen=True)
class Checked:
    """One lesson on one seed: its claims checked, and what its question's runs decided."""

    claims: list[ClaimResult]
    outcome: Outcome | None
    undecided: str = ""
    """Why the runs did not settle the question (``outcome`` is then None), else empty."""


def check(key: str, seed: int | None = None, cache: dict | None = None) -> Checked:
    """``verify`` and the question's ``outcome`` on the same runs."""
    preset = get(key)
    claims = verify(key, seed, cache)
    try:
        return Checked(claims, questions.outcome(preset, Runs(preset.configs(seed), cache)))
    except questions.Undecided as exc:
        return Checked(claims, None, str(exc))


def _check_seed(seed: int, keys: list[str]) -> dict[tuple[str, int], Checked]:
    """``check`` of several lessons on one seed, sharing their runs."""
    cache: dict = {}
    return {(key, seed): check(key, seed, cache) for key in keys}


def check_many(pairs, workers: int | None = None) -> dict[tuple[str, int], Checked]:
    """``check`` of each (lesson key, seed) in ``pairs``: the lessons of one seed share
    their runs, and the seeds are spread over ``workers`` processes (default: one per core;
    1 checks here, in this process)."""
    by_seed: dict[int, list[str]] = {}
    for key, seed in pairs:
        by_seed.setdefault(seed, []).append(key)
    workers = min(workers or os.cpu_count() or 1, len(by_seed)) or 1
    results: dict[tuple[str, int], Checked] = {}
    if workers == 1:
        for seed, keys in by_seed.items():
            results.update(_check_seed(seed, keys))
        return results
    # not fork: the calling process may have threads running
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for part in pool.map(_check_seed, by_seed, by_seed.values()):
            results.update(part)
    return results


def verify_many(pairs, workers: int | None = None) -> dict[tuple[str, int], list[ClaimResult]]:
    """``verify`` of each (lesson key, seed) in ``pairs``, as ``check_many`` spreads them."""
    return {pair: checked.claims for pair, checked in check_many(pairs, workers).items()}


def get(key: str) -> Preset:
    try:
        return PRESETS[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preset {key!r}; choose one of: {', '.join(PRESETS)}") from None
