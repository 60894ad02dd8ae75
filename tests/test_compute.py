"""The shared run cache behind the app (no browser, no script run needed)."""

import json

from explorer import config as cfg
from explorer.ui.compute import RunCache


def key(**changes) -> str:
    return json.dumps(cfg.DEFAULT.replace(epochs=20, **changes).to_query(), sort_keys=True)


def test_a_configuration_trains_once_and_reports_progress():
    cache = RunCache(max_entries=2)
    calls = []
    first = cache.get(key(), progress=lambda epoch, total: calls.append((epoch, total)))
    assert calls and calls[-1] == (20, 20)
    again = cache.get(key(), progress=lambda *a: calls.append("again"))
    assert again is first and "again" not in calls


def test_least_recently_used_runs_are_dropped():
    cache = RunCache(max_entries=2)
    a, b, c = key(seed=1), key(seed=2), key(seed=3)
    cache.get(a)
    cache.get(b)
    cache.get(a)  # a is now the most recent
    cache.get(c)
    assert a in cache and c in cache and b not in cache
