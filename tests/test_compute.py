"""The shared run cache behind the app (no browser, no script run needed)."""

from explorer import config as cfg
from explorer.ui import compute
from explorer.ui.compute import LRU, RunCache, RunKey, run_bytes


def key(**changes) -> RunKey:
    return RunKey(cfg.DEFAULT.replace(epochs=20, **changes))


def test_a_configuration_trains_once_and_reports_progress():
    cache = RunCache(max_entries=2)
    calls = []
    first = cache.get_or_train(key(), progress=lambda epoch, total: calls.append((epoch, total)))
    assert calls and calls[-1] == (20, 20)
    again = cache.get_or_train(key(), progress=lambda *a: calls.append("again"))
    assert again is first and "again" not in calls


def test_least_recently_used_runs_are_dropped():
    cache = RunCache(max_entries=2)
    a, b, c = key(seed=1), key(seed=2), key(seed=3)
    cache.get_or_train(a)
    cache.get_or_train(b)
    cache.get_or_train(a)  # a is now the most recent
    cache.get_or_train(c)
    assert a in cache and c in cache and b not in cache


def test_the_cache_is_bounded_in_bytes_too():
    one = RunCache().get_or_train(key(seed=4))
    size = run_bytes(one)
    assert size > one.model.snapshots.nbytes > 0
    cache = RunCache(max_entries=10, max_bytes=2.5 * size)
    keys = [key(seed=s) for s in (4, 5, 6, 7)]
    for k in keys:
        cache.get_or_train(k)
    assert cache.bytes <= 2.5 * size
    assert keys[-1] in cache and keys[0] not in cache


def test_a_single_entry_larger_than_the_bound_is_still_kept():
    cache = LRU(max_entries=3, max_bytes=10, size=lambda value: 100)
    cache.put("a", 1)
    assert cache.get("a") == 1
    cache.put("b", 2)
    assert "a" not in cache and cache.get("b") == 2


def test_keys_are_the_frozen_config_and_the_upload():
    assert key() == key() and hash(key()) == hash(key())
    assert RunKey(cfg.DEFAULT, "abc") != RunKey(cfg.DEFAULT, "abd")


def test_students_opening_the_same_new_link_at_once_train_it_once(monkeypatch):
    import threading

    from explorer import experiment

    calls = []
    original = experiment.run

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(experiment, "run", counted)
    cache = RunCache(max_entries=4)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_train(key(seed=9))))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(results) == 4
    assert all(run is results[0] for run in results)


def test_the_imports_are_out_of_the_garbage_collectors_sight():
    """Streamlit collects garbage after every run; the modules' objects are frozen so that
    walking them does not cost every click (see explorer/ui/__init__.py)."""
    import gc

    import explorer.ui  # noqa: F401

    assert gc.get_freeze_count() > 50_000


def test_small_runs_can_train_in_worker_processes_and_give_the_same_run(monkeypatch):
    import os

    import pandas as pd

    from explorer import budget, experiment

    trainers = compute.Trainers(workers=1)
    try:
        assert trainers.pool().submit(os.getpid).result() != os.getpid()
        small = cfg.DEFAULT.replace(epochs=20)
        seen = []
        run = trainers.run(small, None, progress=lambda *args: seen.append(args))
        assert seen == []  # trained in the worker, which reports no progress
        pd.testing.assert_frame_equal(run.history, experiment.run(small).history)
        # a run above POOL_SECONDS stays on the script's thread, with its progress bar
        monkeypatch.setattr(compute, "POOL_SECONDS", budget.training_seconds(small) / 2)
        trainers.run(small, None, progress=lambda *args: seen.append(args))
        assert seen and seen[-1] == (20, 20)
    finally:
        if trainers._pool is not None:
            trainers._pool.shutdown()


def test_a_broken_worker_pool_falls_back_to_the_script_thread(monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    class Broken:
        def submit(self, *args, **kwargs):
            raise BrokenProcessPool("a worker died")

    trainers = compute.Trainers(workers=2)
    monkeypatch.setattr(trainers, "pool", lambda: Broken())
    run = trainers.run(cfg.DEFAULT.replace(epochs=10), None)
    assert len(run.history) == 10


def test_the_worker_count_comes_from_the_environment(monkeypatch):
    for text, count in (("", 0), ("3", 3), ("-1", 0), ("two", 0), (" 2 ", 2)):
        monkeypatch.setenv(compute.WORKERS_VARIABLE, text)
        assert compute._workers() == count


def test_a_session_waiting_for_another_sessions_training_lets_the_class_go_on(monkeypatch):
    """A trains a new link (a long run: it gave its turn back); B opens the same link and
    waits for A's run without holding the turn, so C's unrelated click still runs."""
    import threading

    from explorer.ui import turns

    cache = RunCache()
    k = key(seed=31)
    release, a_training = threading.Event(), threading.Event()
    original = compute.TRAINERS.run

    def slow(config, table, progress=None, watch=None):
        a_training.set()
        assert release.wait(30)
        return original(config, table)

    monkeypatch.setattr(compute.TRAINERS, "run", slow)
    results = {}

    def student_a():
        with turns.turn():
            turns.give_back()  # as a long training does
            results["a"] = cache.get_or_train(k)

    def student_b():
        with turns.turn():
            results["b"] = cache.get_or_train(k)

    def student_c():
        with turns.turn():
            results["c"] = "drawn"

    a = threading.Thread(target=student_a)
    a.start()
    assert a_training.wait(30)
    b = threading.Thread(target=student_b)
    b.start()
    b.join(0.5)  # B now waits on A's training
    c = threading.Thread(target=student_c)
    c.start()
    c.join(10)
    assert results.get("c") == "drawn", "C waited behind A's training"
    release.set()
    a.join(30)
    b.join(30)
    assert results["a"] is results["b"]


def test_a_cached_run_cannot_be_changed_by_a_session():
    import numpy as np
    import pytest

    run = RunCache().get_or_train(key(seed=32))
    for array in (run.model.theta, run.model.snapshots, run.data.X_train, run.data.y_train):
        with pytest.raises(ValueError):
            array[...] = 0
    assert np.isfinite(run.model.theta).all()
