"""fit(): it learns, it is reproducible, it reports divergence, and it says what is wrong."""

import numpy as np
import pandas as pd
import pytest

import explorer
from explorer import activations, losses, metrics, training
from explorer.network import Network
from explorer.objective import Objective


def moons(n=200, noise=0.15, seed=0):
    """Two interleaving half circles, X (n, 2), labels {0, 1} alternating."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, np.pi, n)
    upper = np.arange(n) % 2 == 0
    X = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)],
                 np.c_[1.0 - np.cos(t), 0.5 - np.sin(t)])
    return X + rng.normal(0.0, noise, X.shape), (~upper).astype(np.int64)


def spiral(n=300, k=3, seed=0):
    """k interleaved spiral arms, X (n, 2), labels 0..k-1."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    r = rng.uniform(0.2, 1.0, n)
    angle = y * 2 * np.pi / k + 3.0 * r + rng.normal(0.0, 0.1, n)
    return 2.0 * np.c_[r * np.cos(angle), r * np.sin(angle)], y


def sine(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3.0, 3.0, (n, 1))
    return X, np.sin(X[:, 0]) + rng.normal(0.0, 0.1, n)


def counts(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, (n, 1))
    return X, rng.poisson(np.exp(0.3 + 0.9 * X[:, 0])).astype(float)


# Learning.

def test_sigmoid_bce_learns_moons():
    X, y = moons()
    X_val, y_val = moons(seed=1)
    model, history = explorer.fit(X, y, problem="binary", hidden=(16,), epochs=150,
                                  batch_size=200, lr=0.05, validation_data=(X_val, y_val))
    assert history["accuracy"].iloc[-1] >= 0.9
    assert history["val_accuracy"].iloc[-1] >= 0.9
    assert history["loss"].iloc[-1] < 0.5 * history["loss"].iloc[0]
    assert np.mean(model.predict_class(X_val) == y_val) == history["val_accuracy"].iloc[-1]


def test_tanh_hinge_learns_moons_with_labels_read_as_plus_minus_one():
    X, y = moons()
    model, history = explorer.fit(X, y, problem="binary", hidden=(16, 16), epochs=200,
                                  batch_size=200, lr=0.05, output_activation="tanh",
                                  loss="hinge")
    assert model.threshold == 0.0  # a margin output is a score around 0, not a probability
    assert history["accuracy"].iloc[-1] >= 0.9


@pytest.mark.parametrize("loss", ["cce", "sparse_cce"])
def test_softmax_cross_entropy_learns_a_spiral(loss):
    X, y = spiral()
    model, history = explorer.fit(X, y, problem="multiclass", hidden=(32, 32), epochs=300,
                                  batch_size=300, lr=0.02, loss=loss)
    assert history["accuracy"].iloc[-1] >= 0.85
    assert model.predict(X).shape == (300, 3)
    np.testing.assert_allclose(model.predict(X).sum(axis=1), 1.0)


def test_linear_mse_fits_a_sine():
    X, y = sine()
    model, history = explorer.fit(X, y, problem="regression", hidden=(32,),
                                  hidden_activation="tanh", epochs=300, batch_size=200, lr=0.02)
    assert history["rmse"].iloc[-1] < 0.2  # the noise is 0.1; the sine itself has RMS 0.7
    assert np.sqrt(np.mean((model.predict(X) - y) ** 2)) < 0.2


def test_exp_poisson_beats_a_constant_on_counts():
    X, y = counts()
    model, history = explorer.fit(X, y, problem="counts", hidden=(8,), hidden_activation="tanh",
                                  epochs=200, batch_size=300, lr=0.02)
    poisson = losses.get("poisson")
    constant = poisson.value(y, np.full(len(y), y.mean()))  # the best constant: the mean
    fitted = poisson.value(y, model.predict(X))
    assert fitted < constant - 0.2
    assert history["rmse"].iloc[-1] < 0.8 * y.std()
    assert np.all(model.predict(X) > 0)


def test_sigmoid_mse_learns_slower_than_bce_from_a_saturated_start():
    # one neuron, weight -10: every point is saturated on the wrong side (|z| >= 5)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, 100) * np.where(np.arange(100) % 2, 1.0, -1.0)
    X, y = x[:, None], (x > 0).astype(int)
    runs = {loss: explorer.fit(X, y, problem="binary", hidden=(), loss=loss, optimizer="sgd",
                               lr=0.5, epochs=100, batch_size=100,
                               initial_params=np.array([-10.0, 0.0]))[1]
            for loss in ("bce", "mse")}
    assert runs["bce"]["accuracy"].iloc[0] == runs["mse"]["accuracy"].iloc[0] == 0.0
    # BCE's gradient at z is p - y, about 1 on every point: right within 30 epochs
    assert runs["bce"]["accuracy"].iloc[29] == 1.0
    # MSE's is 2 (p - y) p (1 - p) < 0.014: still wrong after 100 epochs, the loss hardly moved
    assert runs["mse"]["accuracy"].max() == 0.0
    assert runs["mse"]["loss"].iloc[-1] > 0.99 * runs["mse"]["loss"].iloc[0]
    assert runs["mse"]["grad_norm"].iloc[0] < 0.01 * runs["bce"]["grad_norm"].iloc[0]


# Reproducibility.

def small_run(seed, **options):
    X, y = moons(60)
    X_val, y_val = moons(20, seed=5)
    return explorer.fit(X, y, problem="binary", hidden=(8,), epochs=15, batch_size=16,
                        seed=seed, validation_data=(X_val, y_val), **options)


def test_same_seed_same_history():
    model_a, history_a = small_run(3)
    model_b, history_b = small_run(3)
    pd.testing.assert_frame_equal(history_a, history_b)
    np.testing.assert_array_equal(model_a.theta, model_b.theta)
    np.testing.assert_array_equal(model_a.snapshots, model_b.snapshots)


def test_different_seeds_differ():
    (model_a, history_a), (model_b, history_b) = small_run(3), small_run(4)
    assert not history_a["loss"].equals(history_b["loss"])
    assert not np.array_equal(model_a.theta, model_b.theta)


# Mini-batches: an epoch is one pass over a fresh shuffle of the data.

def epoch_rows(n, batch_size, rng):
    """The row indices of one epoch's batches, in order."""
    return [np.arange(n)[rows] for rows in training.iter_batches(n, batch_size, rng)]


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (10, 9), (7, 1), (7, 2),
                                                (33, 32), (64, 32), (100, 32), (2, 1)])
def test_an_epoch_visits_every_sample_exactly_once(n, batch_size):
    rng = np.random.default_rng(0)
    count = -(-n // batch_size)  # ceil: the last batch holds the remainder
    for _ in range(3):  # every epoch, not only the first
        batches = epoch_rows(n, batch_size, rng)
        assert [len(rows) for rows in batches] == (
            [batch_size] * (count - 1) + [n - batch_size * (count - 1)])
        np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(n))


def test_batches_are_reshuffled_every_epoch_and_reproducible_from_the_seed():
    n, batch_size = 20, 6

    def orders(seed, epochs=3):
        rng = np.random.default_rng(seed)
        return [np.concatenate(epoch_rows(n, batch_size, rng)) for _ in range(epochs)]

    first, second, third = orders(0)
    assert not np.array_equal(first, second) and not np.array_equal(second, third)
    for a, b in zip(orders(0), (first, second, third)):
        np.testing.assert_array_equal(a, b)  # same seed, same batches
    assert not np.array_equal(orders(1)[0], first)


def test_fit_reshuffles_every_epoch_and_the_seed_fixes_the_order(monkeypatch):
    """Record the batches fit trains on: all rows every epoch, a new order each epoch, the
    same orders for the same seed."""
    X, y = moons(30)
    theta0 = Network(2, (4,), 1, "relu", "sigmoid").init(np.random.default_rng(7))
    real = training.iter_batches

    def run(seed):
        epochs = []

        def recording(n, batch_size, rng):
            rows = list(real(n, batch_size, rng))
            epochs.append([np.arange(n)[r] for r in rows])
            yield from rows

        monkeypatch.setattr(training, "iter_batches", recording)
        _, history = explorer.fit(X, y, problem="binary", hidden=(4,), epochs=4,
                                  batch_size=8, seed=seed, initial_params=theta0)
        monkeypatch.setattr(training, "iter_batches", real)
        return [np.concatenate(batches) for batches in epochs], history

    orders, history = run(3)
    assert len(orders) == 4
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(30))
    assert all(not np.array_equal(a, b) for a, b in zip(orders, orders[1:]))
    again, history_again = run(3)
    for a, b in zip(again, orders):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(history, history_again)


def test_with_the_same_initial_weights_the_seed_only_changes_the_batches():
    X, y = moons(40)
    theta0 = Network(2, (4,), 1, "relu", "sigmoid").init(np.random.default_rng(7))
    options = dict(problem="binary", hidden=(4,), epochs=5, initial_params=theta0)
    # mini-batches: another seed, another shuffle, another history
    _, a = explorer.fit(X, y, batch_size=8, seed=0, **options)
    _, b = explorer.fit(X, y, batch_size=8, seed=1, **options)
    assert not np.array_equal(a["loss"], b["loss"])
    # full batch: nothing is shuffled, so the seed makes no difference at all
    _, c = explorer.fit(X, y, batch_size=40, seed=0, **options)
    _, d = explorer.fit(X, y, batch_size=100, seed=1, **options)
    pd.testing.assert_frame_equal(c, d)


@pytest.mark.parametrize(("n", "batch_size"), [(10, 10), (10, 11), (1, 1), (7, 1000)])
def test_full_batch_is_all_rows_in_order_and_draws_nothing_from_the_rng(n, batch_size):
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    batches = epoch_rows(n, batch_size, rng)
    assert len(batches) == 1
    np.testing.assert_array_equal(batches[0], np.arange(n))
    assert rng.bit_generator.state == before
    # a mini-batch epoch, by contrast, does draw its shuffle from the rng
    epoch_rows(n + 1, n, rng)
    assert rng.bit_generator.state != before


# The decision threshold: an output exactly on it is class 0, just above it class 1.

THRESHOLD_CASES = [("sigmoid", "bce", 0.5, 1e-12), ("linear", "hinge", 0.0, 5e-324),
                   ("tanh", "squared_hinge", 0.0, 5e-324)]


@pytest.mark.parametrize(("activation", "loss", "threshold", "bias_above"), THRESHOLD_CASES,
                         ids=[f"{a}-{b}" for a, b, _, _ in THRESHOLD_CASES])
def test_an_output_on_the_threshold_is_class_0_and_just_above_is_class_1(
        activation, loss, threshold, bias_above):
    objective = Objective.build("binary", activation, loss)
    assert objective.threshold == threshold == losses.get(loss).decision_threshold
    outputs = np.array([[threshold], [np.nextafter(threshold, 1.0)],
                        [np.nextafter(threshold, -1.0)]])
    np.testing.assert_array_equal(objective.decide(outputs), [0, 1, 0])
    # one neuron with w = 0 outputs a(b) for every point: a(0) is exactly the threshold
    act = activations.get(activation)
    assert act.forward(np.array([[0.0]]))[0, 0] == threshold
    assert threshold < act.forward(np.array([[bias_above]]))[0, 0] < threshold + 1e-9
    X, y = np.array([[-1.0], [0.5], [2.0], [3.0]]), np.array([0, 0, 0, 1])
    X_zero, y_balanced = np.zeros((4, 1)), np.array([0, 1, 0, 1])
    for bias, label in [(0.0, 0), (bias_above, 1)]:
        expected = np.mean(y == label)  # 0.75 or 0.25: every point predicted as `label`
        start = np.array([0.0, bias])
        options = dict(problem="binary", hidden=(), output_activation=activation, loss=loss,
                       optimizer="sgd", lr=0.01, epochs=1, initial_params=start)
        # the train accuracy of a full-batch epoch is measured before its step, at a(b)
        _, history = explorer.fit(X, y, batch_size=4, **options)
        assert history["accuracy"].iloc[0] == expected
        # validation is measured after the step; on zero features with balanced labels the
        # weight stays 0 and the bias stays on its side of the threshold
        model, history = explorer.fit(X_zero, y_balanced, batch_size=4,
                                      validation_data=(X, y), **options)
        out = model.predict(X)
        assert np.all(out == threshold) if label == 0 else np.all(out > threshold)
        assert history["val_accuracy"].iloc[0] == expected
        np.testing.assert_array_equal(model.predict_class(X), np.full(4, label))
        assert metrics.compute(model.objective(), out, y)["accuracy"] == expected


# What the history reports.

def test_history_columns_and_validation_columns_only_with_validation_data():
    _, with_val = small_run(0)
    assert list(with_val.columns) == ["epoch", "loss", "grad_norm", "accuracy", "val_loss",
                                      "val_accuracy"]
    X, y = sine(50)
    _, without = explorer.fit(X, y, epochs=3)
    assert list(without.columns) == ["epoch", "loss", "grad_norm", "rmse", "mae"]
    np.testing.assert_array_equal(without["epoch"], [1, 2, 3])
    assert without.attrs["divergence"] is None and without.attrs["problem"] == "regression"


def test_full_batch_history_is_the_loss_before_each_step():
    X, y = moons(40)
    network = Network(2, (4,), 1, "relu", "sigmoid")
    theta0 = network.init(np.random.default_rng(9))
    model, history = explorer.fit(X, y, problem="binary", hidden=(4,), epochs=2, batch_size=40,
                                  initial_params=theta0, l2=0.1)
    # the same quantities recomputed by hand at theta0: BCE from the logits, softplus(z) - y z,
    # and its gradient (p - y) / n pushed back through the network, plus l2 W
    zs, inputs, z, p = network.forward_cached(theta0, X)
    t = y.astype(float)[:, None]
    value = np.mean(np.logaddexp(0.0, z) - t * z)
    grad = network.backward(theta0, (zs, inputs), (p - t) / len(X), np.zeros_like(theta0))
    grad += 0.1 * network.weight_mask() * theta0
    assert history["loss"].iloc[0] == pytest.approx(value, rel=1e-12)
    assert history["loss"].iloc[0] == pytest.approx(
        losses.get("bce").value(y, network.forward_many(theta0, X)))
    assert history["grad_norm"].iloc[0] == pytest.approx(np.linalg.norm(grad), rel=1e-12)
    assert history["accuracy"].iloc[0] == np.mean((p[:, 0] > 0.5) == y)


def test_validation_columns_are_the_model_after_each_epoch():
    model, history = small_run(0)
    X_val, y_val = moons(20, seed=5)
    assert history["val_loss"].iloc[-1] == pytest.approx(
        losses.get("bce").value(y_val, model.predict(X_val)))
    assert history["val_accuracy"].iloc[-1] == metrics.compute(
        model.objective(), model.predict(X_val), y_val)["accuracy"]


@pytest.mark.parametrize(("problem", "loss"), [("binary", "bce"), ("multiclass", "sparse_cce")])
def test_val_loss_and_train_loss_are_the_same_quantity_even_when_saturated(problem, loss):
    # validating on the training set at full batch: val after epoch e = train loss of epoch e+1
    rng = np.random.default_rng(0)
    X = rng.uniform(-2.0, 2.0, (50, 1))
    y = (X[:, 0] > 0).astype(int)
    # one neuron (or two) confidently wrong on every point, |z| up to 60: far past clipping
    initial = np.array([-30.0, 0.0]) if problem == "binary" else np.array([30.0, -30, 0, 0])
    _, history = explorer.fit(X, y, problem=problem, hidden=(), loss=loss, optimizer="sgd",
                              lr=0.1, epochs=5, batch_size=50, initial_params=initial,
                              validation_data=(X, y))
    np.testing.assert_allclose(history["val_loss"].iloc[:-1], history["loss"].iloc[1:],
                               rtol=1e-12)
    assert history["loss"].iloc[0] > -np.log(losses.EPSILON)  # beyond what clipping allows


def test_regression_with_two_outputs():
    X, y = sine(60)
    Y = np.c_[y, -2 * y]
    model, history = explorer.fit(X, Y, problem="regression", hidden=(8,), epochs=5)
    assert model.predict(X).shape == (60, 2)
    assert model.network.n_outputs == 2
    assert np.isfinite(history.to_numpy()).all()


def test_l2_shrinks_the_weights():
    X, y = moons(60)
    norms = {}
    for l2 in (0.0, 1.0):
        model, _ = explorer.fit(X, y, problem="binary", hidden=(8,), epochs=100,
                                batch_size=60, lr=0.05, l2=l2)
        weights = model.theta * model.network.weight_mask()
        norms[l2] = np.linalg.norm(weights)
    assert norms[1.0] < 0.5 * norms[0.0]


def test_progress_is_reported():
    calls = []
    X, y = sine(30)
    explorer.fit(X, y, epochs=250, progress=lambda epoch, total: calls.append((epoch, total)))
    assert calls[-1] == (250, 250)
    assert 50 <= len(calls) <= 130


# Snapshots.

def test_snapshots_run_from_the_initial_weights_to_the_final_ones():
    X, y = moons(60)
    network = Network(2, (8,), 1, "relu", "sigmoid")
    theta0 = network.init(np.random.default_rng(1)) + 0.01
    options = dict(problem="binary", hidden=(8,), batch_size=16, seed=2, initial_params=theta0)
    model, history = explorer.fit(X, y, epochs=30, snapshots=7, **options)
    epochs = model.snapshot_epochs
    assert epochs[0] == 0 and epochs[-1] == 30 and len(epochs) == 7
    assert np.all(np.diff(epochs) > 0)
    # the story: the loss falls fastest early, so the frames are denser there
    assert epochs[3] < 15
    assert model.snapshots.shape == (7, network.n_params)
    np.testing.assert_array_equal(model.snapshots[0], theta0)
    np.testing.assert_array_equal(model.snapshots[-1], model.theta)
    # a snapshot is exactly the weights a shorter run ends with
    shorter, _ = explorer.fit(X, y, epochs=int(epochs[2]), **options)
    np.testing.assert_array_equal(model.snapshots[2], shorter.theta)
    every, _ = explorer.fit(X, y, epochs=30, **options)  # default 100: every epoch here
    np.testing.assert_array_equal(every.snapshot_epochs, np.arange(31))


# Divergence: reported in the history, never raised.

def test_linear_output_with_bce_reports_the_domain():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2.0, 2.0, (60, 1))
    y = (X[:, 0] > 0).astype(int)
    model, history = explorer.fit(X, y, problem="binary", hidden=(), output_activation="linear",
                                  loss="bce", optimizer="sgd", lr=0.2, epochs=100,
                                  batch_size=60, initial_params=np.array([0.0, 0.5]))
    divergence = history.attrs["divergence"]
    assert divergence is not None and divergence["epoch"] >= 2
    assert divergence["reason"] == "prediction outside the loss's domain"
    assert "[0, 1]" in divergence["message"] and "sigmoid" in divergence["message"]
    assert f"Epoch {divergence['epoch']}" in divergence["message"]
    # the rows before it are kept, all finite
    assert len(history) == divergence["epoch"] - 1
    assert np.isfinite(history.to_numpy()).all()
    assert np.all(np.isfinite(model.theta))
    np.testing.assert_array_equal(model.snapshots[-1], model.theta)
    assert model.snapshot_epochs[-1] <= len(history)


def test_absurd_learning_rate_reports_overflow():
    X, y = sine(60)
    model, history = explorer.fit(X, y, problem="regression", hidden=(8,), optimizer="sgd",
                                  lr=1e3, epochs=200, batch_size=60)
    divergence = history.attrs["divergence"]
    assert divergence["reason"] == "weights overflowed"
    assert "overflow" in divergence["message"] and "learning rate" in divergence["message"]
    assert len(history) == divergence["epoch"] - 1
    assert np.all(np.isfinite(model.theta))


def test_softmax_over_one_output_trains_nothing_but_does_not_fail():
    X, y = moons(40)
    model, history = explorer.fit(X, y, problem="binary", hidden=(4,),
                                  output_activation="softmax", loss="bce", epochs=5)
    np.testing.assert_array_equal(model.predict(X), 1.0)
    np.testing.assert_array_equal(history["grad_norm"], 0.0)
    np.testing.assert_array_equal(model.theta, model.snapshots[0])


# Arguments a student can get wrong.

@pytest.mark.parametrize(("options", "message"), [
    (dict(problem="ranking"), "unknown problem 'ranking'"),
    (dict(optimizer="lbfgs"), "unknown optimizer 'lbfgs'"),
    (dict(hidden_activation="swish"), "unknown hidden activation 'swish'"),
    (dict(hidden_activation="softmax"), "unknown hidden activation 'softmax'"),
    (dict(output_activation="swish"), "unknown output activation 'swish'"),
    (dict(loss="nope"), "unknown loss 'nope'"),
    (dict(loss="mse", loss_params={"delta": 1.0}), "no parameter"),
    (dict(epochs=0), "epochs must be a whole number"),
    (dict(epochs=2.5), "epochs must be a whole number"),
    (dict(batch_size=0), "batch_size must be a positive whole number"),
    (dict(l2=-1.0), "l2 must be a non-negative number"),
    (dict(lr=0.0), "learning rate must be a positive number"),
    (dict(hidden=(100,)), "1 to 64 units"),
    (dict(initial_params=np.zeros(3)), "initial_params must have"),
])
def test_bad_arguments_are_value_errors(options, message):
    X, y = moons(20)
    options = {"problem": "binary", **options}
    with pytest.raises(ValueError, match=message):
        explorer.fit(X, y, epochs=options.pop("epochs", 2), **options)


@pytest.mark.parametrize(("problem", "y", "message"), [
    ("binary", [0, 1, 2, 1], "binary targets must be 0 or 1"),
    ("binary", [0.0, 0.5, 1.0, 1.0], "binary targets must be 0 or 1"),
    ("multiclass", [0, 1, -1, 2], "integer labels"),
    ("multiclass", [0, 1.5, 1, 2], "integer labels"),
    ("multiclass", [0, 0, 0, 0], "at least 2 classes"),
    ("counts", [1.0, -2.0, 0.0, 3.0], "non-negative"),
    ("regression", [1.0, np.nan, 0.0, 3.0], "NaN or infinity"),
    ("regression", ["a", "b", "c", "d"], "must be numbers"),
    ("binary", [0, 1, 1], "X has 4 rows but y has 3"),
])
def test_bad_targets_are_value_errors(problem, y, message):
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match=message):
        explorer.fit(X, np.array(y), problem=problem, epochs=1)


def test_bad_features_and_validation_data_are_value_errors():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="non-empty 2-D"):
        explorer.fit(np.arange(4.0), y, problem="binary", epochs=1)
    with pytest.raises(ValueError, match="NaN or infinity"):
        explorer.fit(np.array([[0.0], [np.inf], [1.0], [2.0]]), y, problem="binary", epochs=1)
    with pytest.raises(ValueError, match="validation_data"):
        explorer.fit(np.zeros((4, 2)), y, problem="binary", epochs=1,
                     validation_data=(np.zeros((2, 3)), [0, 1]))


def test_hidden_may_be_a_single_int_and_nonsense_is_a_value_error():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    model, _ = explorer.fit(X, y, problem="binary", hidden=8, epochs=2)
    assert model.network.hidden == (8,)
    with pytest.raises(ValueError, match="layer sizes"):
        explorer.fit(X, y, problem="binary", hidden="wide", epochs=2)


def test_story_epochs_give_each_frame_a_comparable_amount_of_change():
    # a loss that falls by 100x in 10 epochs, then creeps for 290: half the frames follow
    # the change, half the clock
    loss = np.concatenate([np.geomspace(1.0, 0.01, 10), np.linspace(0.0099, 0.009, 290)])
    chosen = training.story_epochs(np.arange(301), loss, 41)
    assert chosen[0] == 0 and chosen[-1] == 300
    early = np.count_nonzero(chosen <= 10)
    assert 10 <= early <= 12  # every early epoch: as dense as frames can be
    assert np.count_nonzero(chosen > 150) >= 8  # the plateau still gets frames
    # evenly spaced when nothing changes
    flat = training.story_epochs(np.arange(101), np.full(100, 0.5), 11)
    np.testing.assert_array_equal(flat, np.arange(0, 101, 10))
    # a negative (Poisson) loss is measured on its own scale, not a log
    negative = training.story_epochs(np.arange(101), np.linspace(-1.0, -5.0, 100), 11)
    assert negative[0] == 0 and negative[-1] == 100 and len(negative) == 11


def test_candidates_stay_within_the_memory_budget():
    every = training.candidate_epochs(300, 100, 1000)
    np.testing.assert_array_equal(every, np.arange(301))
    many = training.candidate_epochs(3000, 100, 20_000)
    assert len(many) <= max(4 * 100, training.SNAPSHOT_FLOATS // 20_000) + 1
    assert many[0] == 0 and many[-1] == 3000 and many[1] == 1


def test_an_overflow_under_adam_does_not_suggest_adam():
    import numpy as np

    from explorer import training
    from explorer.objective import Objective

    objective = Objective.build("regression", "linear", "mse", np.zeros(3))
    p = np.array([[1.0], [2.0], [3.0]])
    z = np.array([[1.0], [np.inf], [3.0]])
    plain = training._diagnose(4, float("inf"), 1.0, p, z, objective, 0.5)
    adam = training._diagnose(4, float("inf"), 1.0, p, z, objective, 0.5, adam=True)
    assert plain.reason == adam.reason == "weights overflowed"
    assert plain.message.endswith("Lower the learning rate, or use Adam.")
    assert adam.message.endswith("Lower the learning rate.") and "Adam" not in adam.message
