"""Error surfaces: the centre is the trained loss, the grid is not transposed, paths and
projections are exact where they claim to be, and batched evaluation equals the naive loop."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import explorer
from explorer import losses, metrics, surfaces
from explorer.network import Model, Network

RES = 11  # odd: the centre of a symmetric grid is a grid point


def dataset(problem, n=60, d=2, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, (n, d))
    if problem == "binary":
        return X, (X[:, 0] + 0.5 * X[:, -1] > 0).astype(int)
    if problem == "multiclass":
        return X, (np.digitize(X[:, 0], [-0.4, 0.4]) % k).astype(int)
    if problem == "counts":
        return X, rng.poisson(np.exp(0.5 * X[:, 0])).astype(float)
    return X, np.sin(X[:, 0]) + 0.1 * rng.normal(size=n)


# (problem, hidden, output activation, loss): matched, mismatched and invalid pairs.
CONFIGS = [
    ("binary", (6,), "sigmoid", "bce"),
    ("binary", (5,), "sigmoid", "mse"),
    ("binary", (4, 3), "tanh", "hinge"),
    ("multiclass", (6,), "softmax", "cce"),
    ("multiclass", (5,), "softmax", "sparse_cce"),
    ("regression", (6,), "linear", "mse"),
    ("regression", (), "linear", "huber"),
    ("counts", (4,), "exp", "poisson"),
]
IDS = [f"{p}-{a}-{loss}" for p, _, a, loss in CONFIGS]


def train(problem, hidden, activation, loss, epochs=30, seed=0, **kwargs):
    X, y = dataset(problem, seed=seed)
    model, history = explorer.fit(X, y, problem=problem, hidden=hidden,
                                  output_activation=activation, loss=loss, epochs=epochs,
                                  lr=0.05, seed=seed, snapshots=12, **kwargs)
    return model, history, X, y


@pytest.fixture(scope="module", params=CONFIGS, ids=IDS)
def trained(request):
    return train(*request.param)


# The naive baselines: one forward pass per parameter vector, the loss from the registry.

def encoded(model, y):
    """Targets as the registry's losses read them: one-hot rows for a categorical loss on
    several outputs (integer labels for sparse CE), a column for one output, float rows for
    numbers."""
    y = np.asarray(y)
    k = model.network.n_outputs
    if model.problem == "multiclass":
        sparse = losses.get(model.loss).sparse_targets and not fused(model)
        return y.astype(int) if sparse else losses.one_hot(y.astype(int), k)
    return y.astype(float).reshape(len(y), -1)


def fused(model):
    """True for the pairs the engine evaluates from the logits (sigmoid + BCE, softmax + CE)."""
    return (model.network.output_activation, model.loss) in losses.FUSED


def naive_losses(model, thetas, X, y):
    """Mean loss of each parameter vector, one ``forward_many`` + ``Loss.value`` per vector;
    for fused pairs the loss is computed from z with ``losses.fused_per_sample``."""
    net, X = model.network, np.asarray(X, dtype=float)
    loss = losses.get(model.loss, **model.loss_params)
    targets = encoded(model, y)
    out = np.empty(len(thetas))
    with np.errstate(all="ignore"):
        for s, theta in enumerate(np.atleast_2d(thetas)):
            key = (net.output_activation, model.loss)
            if key in losses.LOGIT_PATHS:  # exp / softplus + Poisson, sigmoid + focal
                z = net.pre_activations(theta, X)
                out[s] = np.mean(losses.logit_per_sample(key, targets, z, net.forward_many(
                    theta, X), loss.params))
            elif fused(model):
                z = net.pre_activations(theta, X)
                out[s] = np.mean(losses.fused_per_sample(net.output_activation, targets, z,
                                                         model.loss))
            else:
                out[s] = loss.value(targets, net.forward_many(theta, X))
    return out


def naive_metrics(model, thetas, X, y):
    """Accuracy (classification) or RMSE of each parameter vector, one forward pass each."""
    net, X = model.network, np.asarray(X, dtype=float)
    y = np.asarray(y)
    threshold = losses.get(model.loss).decision_threshold
    values = []
    for theta in np.atleast_2d(thetas):
        out = net.forward_many(theta, X)
        if model.problem in ("binary", "multiclass"):
            labels = np.argmax(out, axis=1) if out.shape[1] > 1 else out[:, 0] > threshold
            values.append(np.nan if np.isnan(out).any() else np.mean(labels == y))
        else:
            values.append(np.sqrt(np.mean((out - y.reshape(out.shape)) ** 2)))
    return np.array(values)


def trained_loss(model, X, y, theta=None):
    """The loss at theta (default: the final weights), one forward pass."""
    theta = model.theta if theta is None else theta
    return naive_losses(model, theta[None], X, y)[0]


def all_slices(model, X, y, resolution=RES):
    return [surfaces.two_parameter_slice(model, X, y, resolution=resolution),
            surfaces.random_plane(model, X, y, seed=3, resolution=resolution),
            surfaces.pca_plane(model, X, y, resolution=resolution)]


def test_centre_of_every_slice_is_the_trained_loss(trained):
    model, _, X, y = trained
    expected = trained_loss(model, X, y)
    for surface in all_slices(model, X, y):
        assert surface.Z.shape == (len(surface.b_axis), len(surface.a_axis))
        row, col = surface.center_index
        assert surface.a_axis[col] == surface.center[0]
        assert surface.b_axis[row] == surface.center[1]
        assert surface.Z[row, col] == pytest.approx(expected, rel=1e-10, abs=1e-12)
        assert surface.center_loss == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_symmetric_planes_have_the_trained_weights_in_the_middle(trained):
    model, _, X, y = trained
    surface = surfaces.random_plane(model, X, y, seed=0, resolution=RES)
    assert surface.center_index == (RES // 2, RES // 2)
    assert surface.a_axis[RES // 2] == 0.0 and surface.a_axis[0] == -1.0


def test_two_parameter_grid_contains_the_final_values_and_exact_path(trained):
    model, _, X, y = trained
    surface = surfaces.two_parameter_slice(model, X, y, resolution=RES)
    i, j = surface.parameters
    assert model.theta[i] in surface.a_axis and model.theta[j] in surface.b_axis
    np.testing.assert_array_equal(surface.path_a, model.snapshots[:, i])
    np.testing.assert_array_equal(surface.path_b, model.snapshots[:, j])
    assert surface.path_a[-1] == model.theta[i] and surface.path_b[-1] == model.theta[j]
    # the grid covers the whole path
    assert surface.a_axis[0] <= surface.path_a.min() and surface.a_axis[-1] >= surface.path_a.max()
    assert surface.b_axis[0] <= surface.path_b.min() and surface.b_axis[-1] >= surface.path_b.max()
    np.testing.assert_array_equal(surface.path_epochs, model.snapshot_epochs)
    assert surface.exact_path and "Slice at the final weights" in surface.note
    assert not surface.exact  # the network has more than these two parameters


def test_path_loss_is_the_true_loss_at_each_snapshot(trained):
    model, _, X, y = trained
    for surface in all_slices(model, X, y):
        assert surface.path_loss[0] == pytest.approx(trained_loss(model, X, y,
                                                                  model.snapshots[0]), rel=1e-10)
        assert surface.path_loss[-1] == pytest.approx(trained_loss(model, X, y), rel=1e-10)
        assert len(surface.path_loss) == len(model.snapshots) == len(surface.path_a)


def test_final_weights_project_to_the_origin_of_the_pca_plane(trained):
    model, _, X, y = trained
    surface = surfaces.pca_plane(model, X, y, resolution=RES)
    assert surface.path_a[-1] == 0.0 and surface.path_b[-1] == 0.0
    assert surface.center == (0.0, 0.0)
    assert 0.0 in surface.a_axis and 0.0 in surface.b_axis
    assert surface.a_axis[0] <= surface.path_a.min() and surface.a_axis[-1] >= surface.path_a.max()
    assert "Projection" in surface.note and "%" in surface.a_label


def test_pca_directions_are_orthonormal_and_explain_the_path(trained):
    model, _, _, _ = trained
    d1, d2, ratio = surfaces.pca_directions(model)
    assert d1 @ d1 == pytest.approx(1.0) and d2 @ d2 == pytest.approx(1.0)
    assert abs(d1 @ d2) < 1e-10
    assert ratio[0] >= ratio[1] >= 0 and ratio.sum() <= 1 + 1e-12
    M = model.snapshots - model.theta
    residual = M - np.outer(M @ d1, d1) - np.outer(M @ d2, d2)
    assert np.sum(residual ** 2) == pytest.approx((1 - ratio.sum()) * np.sum(M ** 2), abs=1e-9)


def test_grid_is_not_transposed_for_an_asymmetric_loss():
    """One linear neuron: loss(w, b) = mean((w x + b - y)^2) treats w and b differently."""
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 3.0, 40)
    y = 0.5 * x - 1.0 + 0.2 * rng.normal(size=40)
    model, _ = explorer.fit(x[:, None], y, problem="regression", hidden=(), epochs=20, lr=0.01,
                            snapshots=10)
    surface = surfaces.two_parameter_slice(model, x[:, None], y, resolution=RES)
    assert surface.parameters == (0, 1)  # w on the a axis (columns), b on the b axis (rows)
    assert "only these two parameters" in surface.note and surface.exact
    a, b = surface.a_axis, surface.b_axis
    expected = np.mean((a[None, :, None] * x + b[:, None, None] - y) ** 2, axis=-1)
    np.testing.assert_allclose(surface.Z, expected, rtol=1e-12)
    assert not np.allclose(surface.Z, surface.Z.T, rtol=1e-3)
    r, c = 2, 7
    assert surface.Z[r, c] == pytest.approx(np.mean((a[c] * x + b[r] - y) ** 2), rel=1e-12)


def test_direction_plane_grid_is_not_transposed(trained):
    model, _, X, y = trained
    rng = np.random.default_rng(5)
    d1, d2 = surfaces.random_directions(model.network, model.theta, rng)
    surface = surfaces.direction_plane(model, X, y, d1, d2, span=0.7, resolution=RES)
    for r, c in [(0, RES - 1), (RES - 1, 0), (2, 8)]:
        theta = model.theta + surface.a_axis[c] * d1 + surface.b_axis[r] * d2
        assert surface.Z[r, c] == pytest.approx(trained_loss(model, X, y, theta), rel=1e-10)


def test_slice_in_the_first_layers_matches_direct_evaluation():
    """Parameters in early layers (no shared prefix) and in a middle layer (shared prefix)."""
    model, _, X, y = train("binary", (5, 4), "sigmoid", "bce")
    names = model.network.parameter_names()
    cases = [(names.index("W1[0→1]"), names.index("b3[0]")),
             (names.index("W2[1→2]"), names.index("b2[3]"))]
    for i, j in cases:
        surface = surfaces.two_parameter_slice(model, X, y, i, j, resolution=7)
        assert (surface.a_label, surface.b_label) == (names[i], names[j])
        for r, c in [(0, 6), (5, 1), (3, 3)]:
            theta = model.theta.copy()
            theta[i], theta[j] = surface.a_axis[c], surface.b_axis[r]
            assert surface.Z[r, c] == pytest.approx(trained_loss(model, X, y, theta), rel=1e-10)


def test_default_parameters_are_an_output_weight_and_bias():
    net = Network(2, (16, 16), 1)
    names = net.parameter_names()
    i, j = surfaces.default_parameters(net)
    assert names[i] == "W3[0→0]" and names[j] == "b3[0]"
    theta = np.zeros(net.n_params)
    theta[names.index("W3[7→0]")] = -3.0
    assert names[surfaces.default_parameters(net, theta)[0]] == "W3[7→0]"
    assert surfaces.default_parameters(Network(1, (), 1)) == (0, 1)


def test_two_parameter_slice_rejects_bad_indices():
    model, _, X, y = train("regression", (3,), "linear", "mse", epochs=3)
    with pytest.raises(ValueError):
        surfaces.two_parameter_slice(model, X, y, 0, 0)
    with pytest.raises(ValueError):
        surfaces.two_parameter_slice(model, X, y, 0, model.network.n_params)


def column_norms(network, theta):
    return [np.linalg.norm(theta[w].reshape(shape), axis=0) for w, _, shape in network.slices]


@pytest.mark.parametrize("sizes", [(2, (16, 16), 1), (3, (8,), 4), (1, (6,), 1), (2, (), 3)])
def test_random_directions_are_filter_normalized_and_orthogonal(sizes):
    network = Network(*sizes)
    rng = np.random.default_rng(0)
    theta = network.init(rng) + rng.normal(0, 0.1, network.n_params)
    d1, d2 = surfaces.random_directions(network, theta, np.random.default_rng(42))
    bias = network.weight_mask() == 0
    assert not d1[bias].any() and not d2[bias].any()  # biases are not moved
    assert abs(d1 @ d2) <= 1e-12 * np.linalg.norm(d1) * np.linalg.norm(d2)
    for l, (_, _, (fan_in, _)) in enumerate(network.slices):
        target = column_norms(network, theta)[l]
        np.testing.assert_allclose(column_norms(network, d1)[l], target, rtol=1e-12)
        if fan_in >= 2:  # a single-weight filter cannot be both normalized and orthogonal
            np.testing.assert_allclose(column_norms(network, d2)[l], target, rtol=1e-12)
    again = surfaces.random_directions(network, theta, np.random.default_rng(42))
    np.testing.assert_array_equal(again[0], d1)
    np.testing.assert_array_equal(again[1], d2)
    other = surfaces.random_directions(network, theta, np.random.default_rng(43))
    assert not np.allclose(other[0], d1)


def test_random_directions_of_a_single_weight_fall_back_to_the_bias():
    network = Network(1, (), 1)
    theta = np.array([2.0, -0.5])
    d1, d2 = surfaces.random_directions(network, theta, np.random.default_rng(0))
    assert abs(d1[0]) == pytest.approx(2.0) and d1[1] == 0.0
    assert d2[0] == 0.0 and abs(d2[1]) == pytest.approx(2.0)


def test_random_plane_projection_is_least_squares(trained):
    model, _, X, y = trained
    d1, d2 = surfaces.random_directions(model.network, model.theta, np.random.default_rng(1))
    surface = surfaces.direction_plane(model, X, y, d1, d2, resolution=RES)
    M = model.snapshots - model.theta
    basis = np.column_stack([d1, d2])
    residual = M - np.column_stack([surface.path_a, surface.path_b]) @ basis.T
    np.testing.assert_allclose(residual @ basis, 0.0, atol=1e-9)  # normal equations
    assert surface.path_a[-1] == pytest.approx(0.0, abs=1e-12)
    assert "Projection" in surface.note and not surface.exact_path


# Batched vs naive: every hidden activation, fused and chained losses.
EVAL_CASES = [
    ("binary", "relu", "sigmoid", "bce"),
    ("binary", "leaky_relu", "sigmoid", "mse"),
    ("binary", "tanh", "tanh", "hinge"),
    ("binary", "sigmoid", "linear", "squared_hinge"),
    ("binary", "linear", "sigmoid", "focal"),
    ("multiclass", "relu", "softmax", "cce"),
    ("multiclass", "tanh", "softmax", "sparse_cce"),
    ("multiclass", "sigmoid", "softmax", "kld"),
    ("multiclass", "relu", "linear", "categorical_hinge"),
    ("regression", "tanh", "linear", "log_cosh"),
    ("counts", "relu", "exp", "poisson"),
    ("counts", "tanh", "softplus", "msle"),
]


@pytest.mark.parametrize("problem,hidden_act,out_act,loss", EVAL_CASES,
                         ids=[f"{c[1]}-{c[2]}-{c[3]}" for c in EVAL_CASES])
def test_batched_equals_naive_loop(problem, hidden_act, out_act, loss, monkeypatch):
    X, y = dataset(problem, n=23, d=3)
    k = 3 if problem == "multiclass" else 1
    network = Network(3, (5, 4), k, hidden_act, out_act)
    rng = np.random.default_rng(7)
    thetas = network.init(rng) + rng.normal(0.0, 0.8, (17, network.n_params))
    model = Model(network, thetas[0], problem, loss, n_classes=k if k > 1 else None)
    ev = surfaces.Evaluator(model, X, y)
    naive = naive_losses(model, thetas, X, y)
    assert np.isfinite(naive).all()
    # the baseline's one-vector forward pass is the layer-by-layer one (registry activations)
    for theta in thetas:
        np.testing.assert_allclose(network.forward_many(theta, X),
                                   network.forward_cached(theta, X)[3], rtol=1e-12)
    np.testing.assert_allclose(ev.losses(thetas), naive, rtol=1e-10, atol=1e-12)
    loss_values, metric_values = ev.evaluate(thetas)
    np.testing.assert_allclose(loss_values, naive, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(metric_values, naive_metrics(model, thetas, X, y), rtol=1e-12)
    # small chunks with a ragged end give the same values
    monkeypatch.setattr(surfaces, "CHUNK_FLOATS", 23 * 6 * 4)
    small = surfaces.Evaluator(model, X, y)
    parts = list(small.chunks(len(thetas)))
    assert len(parts) > 1 and parts[-1].stop - parts[-1].start < parts[0].stop - parts[0].start
    np.testing.assert_array_equal(np.concatenate([np.arange(17)[part] for part in parts]),
                                  np.arange(17))
    np.testing.assert_allclose(small.losses(thetas), naive, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(small.evaluate(thetas)[1], metric_values, rtol=1e-12)


def test_fused_pairs_are_not_clipped_far_from_the_optimum():
    """The loss keeps growing where the clipped formula would flatten at -log(1e-7)."""
    network = Network(1, (), 1, output_activation="sigmoid")
    X, y = np.array([[1.0]]), np.array([1])
    thetas = np.array([[-30.0, 0.0], [-60.0, 0.0]])
    ev = surfaces.Evaluator(Model(network, thetas[0], "binary", "bce"), X, y)
    values = ev.losses(thetas)
    np.testing.assert_allclose(values, [30.0, 60.0], rtol=1e-9)
    assert losses.get("bce").value([1.0], [1e-20]) < 17  # the clipped formula


def test_metric_is_accuracy_or_rmse():
    model, _, X, y = train("regression", (4,), "linear", "mse")
    ev = surfaces.Evaluator(model, X, y)
    assert (ev.metric_name, ev.metric_label) == ("rmse", "RMSE")
    mse = ev.losses(model.snapshots)
    np.testing.assert_allclose(ev.evaluate(model.snapshots)[1], np.sqrt(mse), rtol=1e-10)
    model, _, X, y = train("binary", (4,), "sigmoid", "bce", epochs=5)
    ev = surfaces.Evaluator(model, X, y)
    assert (ev.metric_name, ev.metric_label) == ("accuracy", "Accuracy")
    np.testing.assert_allclose(ev.evaluate(model.snapshots)[1],
                               naive_metrics(model, model.snapshots, X, y), rtol=1e-12)


def test_evaluator_rejects_targets_of_another_length():
    model, _, X, y = train("regression", (3,), "linear", "mse", epochs=3)
    with pytest.raises(ValueError, match="X has 60 rows but y has 59"):
        surfaces.Evaluator(model, X, y[:-1])


def test_interpolation_line_ends_at_initial_and_final_loss(trained):
    model, _, X, y = trained
    line = surfaces.interpolation_line(model, X, y, n_points=41, extend=0.25)
    assert line.t[line.initial_index] == 0.0 and line.t[line.final_index] == 1.0
    assert line.t[0] < 0 and line.t[-1] > 1 and np.all(np.diff(line.t) > 0)
    assert line.loss[line.initial_index] == pytest.approx(
        trained_loss(model, X, y, model.snapshots[0]), rel=1e-10)
    assert line.loss[line.final_index] == pytest.approx(trained_loss(model, X, y), rel=1e-10)
    ends = np.array([model.snapshots[0], model.theta])
    np.testing.assert_allclose(line.metric[[line.initial_index, line.final_index]],
                               naive_metrics(model, ends, X, y), rtol=1e-12)
    assert line.metric_name == metrics.names(model.problem)[0]


def test_invalid_pair_gives_masked_nans_without_exceptions():
    """Linear output + BCE: predictions outside [0, 1] have no loss."""
    model, history, X, y = train("binary", (4,), "linear", "bce", epochs=20)
    with np.errstate(all="raise"):  # no floating-point warnings leak out either
        slices = all_slices(model, X, y)
        line = surfaces.interpolation_line(model, X, y)
    assert any(s.invalid for s in slices)
    for surface in slices:
        scaled = surfaces.scale_values(surface.Z)
        assert scaled.invalid == surface.invalid
        np.testing.assert_array_equal(np.isnan(scaled.values), ~np.isfinite(surface.Z))
    assert line.loss.shape == line.metric.shape == line.t.shape and len(line.t) > 1
    assert np.isnan(line.loss).any()


def test_diverged_run_with_a_single_snapshot_still_gives_surfaces():
    X, y = dataset("regression")
    model, history = explorer.fit(X, y * 1e3, problem="regression", hidden=(4,), epochs=5,
                                  lr=1e6, optimizer="sgd", snapshots=5)
    assert history.attrs["divergence"] is not None
    for surface in all_slices(model, X, y * 1e3):
        assert surface.Z.shape == (RES, RES)
        assert np.isfinite(surface.center_loss)


def test_scale_values_picks_log_clip_or_linear():
    grid = np.linspace(0.1, 1.0, 100).reshape(10, 10)
    assert surfaces.scale_values(grid).scale == "linear"
    wide = 10.0 ** np.linspace(-3, 3, 100).reshape(10, 10)
    scaled = surfaces.scale_values(wide)
    assert scaled.scale == "log10" and scaled.label.startswith("log10")
    np.testing.assert_allclose(scaled.values, np.log10(wide))
    spike = grid + 1.0  # 1.1 .. 2: one spike to 50 spans under two decades
    spike[0, 0] = 50.0
    clipped = surfaces.scale_values(spike)
    assert clipped.scale == "clipped" and clipped.values.max() < 50.0
    assert clipped.transform([100.0])[0] == clipped.values.max()
    holes = grid.copy()
    holes[1, 1], holes[2, 2] = np.nan, np.inf
    masked = surfaces.scale_values(holes)
    assert masked.invalid and masked.invalid_fraction == pytest.approx(0.02)
    assert np.isnan(masked.values[1, 1]) and np.isnan(masked.values[2, 2])
    assert surfaces.scale_values(np.full((3, 3), np.nan)).invalid
    with pytest.raises(ValueError):
        surfaces.scale_values(grid, "cubic")
    assert surfaces.scale_values(wide, "linear").scale == "linear"


@settings(max_examples=200, deadline=None)
@given(lo=st.floats(-100, 100), width=st.floats(1e-3, 100), share=st.floats(0, 1),
       resolution=st.integers(3, 81))
def test_anchored_axis_covers_the_range_and_hits_the_anchor(lo, width, share, resolution):
    hi = lo + width
    anchor = lo + share * width
    axis, at = surfaces._anchored_axis(lo, hi, anchor, resolution)
    assert len(axis) == resolution and axis[at] == anchor
    step = np.diff(axis)
    assert np.allclose(step, step[0], rtol=1e-6) and step[0] > 0
    slack = 1e-9 * max(1.0, abs(lo), abs(hi))
    assert axis[0] <= lo + slack and axis[-1] >= hi - slack


def test_exact_one_neuron_preset_shows_plateau_vs_bowl():
    """The classic picture: sigmoid + MSE flattens far away, sigmoid + BCE keeps rising."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 200)
    y = (x > 0).astype(int)
    grids = {}
    for loss in ("mse", "bce"):
        model, _ = explorer.fit(x[:, None], y, problem="binary", hidden=(),
                                output_activation="sigmoid", loss=loss, epochs=5,
                                snapshots=5)
        model = Model(model.network, np.array([4.0, 0.0]), "binary", loss,
                      snapshot_epochs=np.array([0, 1]),
                      snapshots=np.array([[-2.0, 1.0], [4.0, 0.0]]))
        grids[loss] = surfaces.two_parameter_slice(model, x[:, None], y, span=12.0,
                                                   resolution=RES)
    mse, bce = grids["mse"], grids["bce"]
    row = RES // 2
    # walking from w = 4 to w = -8: BCE grows by far more than MSE, which saturates at ~1
    assert bce.Z[row, 0] - bce.Z[row, RES // 2] > 5
    assert mse.Z[row, 0] <= 1.0


# The slices the app shows, and the points they are evaluated on.

def test_default_slice_of_each_kind():
    model, _, X, y = train("binary", (6,), "sigmoid", "bce")
    expected = trained_loss(model, X, y)
    parameters = surfaces.default_slice(model, X, y, "parameters")
    assert parameters.kind == "parameters" and not parameters.exact
    assert parameters.parameters == surfaces.default_parameters(model.network, model.theta)
    np.testing.assert_array_equal(parameters.Z, surfaces.two_parameter_slice(model, X, y).Z)
    chosen = surfaces.default_slice(model, X, y, "parameters", (0, 3))
    assert chosen.parameters == (0, 3) and not chosen.exact
    random = surfaces.default_slice(model, X, y, "random", (4, 0.5))
    assert random.kind == "random" and (random.a_axis[0], random.a_axis[-1]) == (-0.5, 0.5)
    np.testing.assert_array_equal(random.Z,
                                  surfaces.random_plane(model, X, y, seed=4, span=0.5).Z)
    default_random = surfaces.default_slice(model, X, y, "random")
    np.testing.assert_array_equal(default_random.Z, surfaces.random_plane(model, X, y).Z)
    pca = surfaces.default_slice(model, X, y, "pca")
    assert pca.kind == "pca" and not pca.exact
    np.testing.assert_array_equal(pca.Z, surfaces.pca_plane(model, X, y).Z)
    for surface in (parameters, chosen, random, default_random, pca):
        assert surface.center_loss == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_default_slice_of_a_two_parameter_network_is_exact_and_wide():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, 100)
    X, y = x[:, None], (x > 0).astype(int)
    model, _ = explorer.fit(X, y, problem="binary", hidden=(), epochs=30, lr=0.5, snapshots=10)
    assert model.network.n_params == 2
    # a path that leaves [-10, 10] in the first parameter is covered as well
    wide = Model(model.network, np.array([14.0, -2.0]), "binary", "bce",
                 snapshot_epochs=np.array([0, 1]), snapshots=np.array([[-13.0, 4.0],
                                                                      [14.0, -2.0]]))
    for m in (model, wide):
        surface = surfaces.default_slice(m, X, y, "parameters")
        assert surface.exact and surface.parameters == (0, 1)
        assert surface.note == surfaces.NOTES["exact"]
        for axis, path in ((surface.a_axis, surface.path_a), (surface.b_axis, surface.path_b)):
            assert axis[0] <= -10.0 and axis[-1] >= 10.0
            assert axis[0] <= path.min() and axis[-1] >= path.max()
        # the grid is the whole network: each point is the loss at exactly those two values
        for r, c in [(0, 0), (7, 50), (30, 30)]:
            theta = np.array([surface.a_axis[c], surface.b_axis[r]])
            assert surface.Z[r, c] == pytest.approx(trained_loss(m, X, y, theta), rel=1e-10)
    assert not surfaces.default_slice(model, X, y, "random").exact  # a plane is not the story


def test_default_slice_rejects_an_unknown_kind():
    model, _, X, y = train("regression", (3,), "linear", "mse", epochs=3)
    with pytest.raises(ValueError, match="unknown slice 'diagonal'"):
        surfaces.default_slice(model, X, y, "diagonal")


def test_surfaces_use_a_fixed_subsample_of_2000_points():
    n = 2500
    rng = np.random.default_rng(0)
    X = np.c_[np.arange(n, dtype=float), rng.normal(size=n)]
    y = np.arange(n, dtype=float)
    X_sub, y_sub = surfaces.surface_data(X, y)
    assert X_sub.shape == (2000, 2) and y_sub.shape == (2000,)
    rows = y_sub.astype(int)
    assert len(np.unique(rows)) == 2000  # distinct points of the data, rows kept paired
    np.testing.assert_array_equal(X_sub, X[rows])
    np.random.seed(123)  # fixed: not the global random state, the same on every call
    for _ in range(2):
        again_X, again_y = surfaces.surface_data(X, y)
        np.testing.assert_array_equal(again_X, X_sub)
        np.testing.assert_array_equal(again_y, y_sub)
    small_X, small_y = surfaces.surface_data(X[:2000], y[:2000])  # up to 2000: all of them
    np.testing.assert_array_equal(small_X, X[:2000])
    np.testing.assert_array_equal(small_y, y[:2000])


def test_default_slice_evaluates_on_the_subsample():
    X, y = dataset("regression", n=2300)
    model, _ = explorer.fit(X, y, problem="regression", hidden=(3,), epochs=2, snapshots=3)
    on_subsample = trained_loss(model, *surfaces.surface_data(X, y))
    assert on_subsample != pytest.approx(trained_loss(model, X, y), rel=1e-6)
    for kind in ("parameters", "random", "pca"):
        surface = surfaces.default_slice(model, X, y, kind)
        assert surface.center_loss == pytest.approx(on_subsample, rel=1e-10)


# ----------------------------------------------------------------------------------------
# Memory: linear in the number of parameters, bounded by chunks


WIDE = Network(2, (32, 32, 32, 32), 10, "relu", "softmax")
"""3,594 parameters: a P x P float64 array would be 103 MB."""


def wide_model(path: str, snapshots: int = 15, seed: int = 0) -> Model:
    """A multi-class model of ``WIDE`` whose snapshots end at theta: a random walk ('walk',
    many directions), a straight line ('line', one direction) or standing still ('still')."""
    rng = np.random.default_rng(seed)
    theta = WIDE.init(rng)
    if path == "walk":
        steps = rng.normal(0.0, 0.05, (snapshots - 1, WIDE.n_params))
        left = np.cumsum(steps[::-1], axis=0)[::-1]  # what is still to walk to theta
        snaps = theta - np.vstack([left, np.zeros((1, WIDE.n_params))])
    elif path == "line":
        direction = rng.normal(size=WIDE.n_params)
        snaps = theta + np.linspace(1.0, 0.0, snapshots)[:, None] * direction
    else:
        snaps = np.repeat(theta[None], snapshots, axis=0)
    return Model(WIDE, theta, "multiclass", "cce", snapshot_epochs=np.arange(snapshots),
                 snapshots=snaps, n_classes=10)


def peak_bytes(fn) -> int:
    """The most bytes (NumPy's allocations included) ``fn()`` held at once."""
    import tracemalloc
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("path", ["walk", "line", "still"])
def test_pca_directions_of_a_wide_model_never_allocate_a_p_by_p_array(path):
    model = wide_model(path)
    P, S = WIDE.n_params, len(model.snapshots)
    peak = peak_bytes(lambda: surfaces.pca_directions(model))
    assert peak < 16 * (S + 2) * P * 8  # a few (S, P) arrays; P x P would be 64x this
    d1, d2, ratio = surfaces.pca_directions(model)
    assert d1 @ d1 == pytest.approx(1.0) and d2 @ d2 == pytest.approx(1.0)
    assert abs(d1 @ d2) < 1e-10
    expected = {"walk": (0.0, 0.0), "line": (1.0, 0.0), "still": (0.0, 0.0)}[path]
    if path == "walk":
        assert ratio[0] >= ratio[1] > 0
    else:
        assert tuple(ratio) == pytest.approx(expected)
    M = model.snapshots - model.theta
    assert M[0] @ d1 <= 0 and M[0] @ d2 <= 0  # the initial weights on the negative side


@pytest.mark.parametrize("path", ["walk", "line", "still"])
def test_pca_plane_of_a_wide_model_stays_small_and_keeps_its_invariants(path):
    model = wide_model(path)
    X, y = dataset("multiclass", n=3, k=10)
    P = WIDE.n_params
    surface = None

    def compute():
        nonlocal surface
        surface = surfaces.pca_plane(model, X, y, resolution=41)

    peak = peak_bytes(compute)
    # 1,681 grid points x P would be 48 MB; the chunks keep a few MB whatever the grid
    assert peak < 12 * surfaces.CHUNK_FLOATS * 8 + 16 * (len(model.snapshots) + 2) * P * 8
    assert surface.path_a[-1] == 0.0 and surface.path_b[-1] == 0.0
    r, c = surface.center_index
    assert surface.a_axis[c] == 0.0 and surface.b_axis[r] == 0.0
    assert surface.Z[r, c] == pytest.approx(trained_loss(model, X, y), rel=1e-10)
    d1, d2, _ = surfaces.pca_directions(model)
    for r, c in [(0, 40), (40, 0), (3, 29)]:  # Z[row, col] at (a[col], b[row])
        theta = model.theta + surface.a_axis[c] * d1 + surface.b_axis[r] * d2
        assert surface.Z[r, c] == pytest.approx(trained_loss(model, X, y, theta), rel=1e-10)


def test_every_surface_and_the_line_of_a_wide_model_are_chunked():
    model = wide_model("walk")
    X, y = dataset("multiclass", n=3, k=10)
    bound = 12 * surfaces.CHUNK_FLOATS * 8 + 16 * (len(model.snapshots) + 2) * WIDE.n_params * 8
    for compute in (lambda: surfaces.random_plane(model, X, y, resolution=41),
                    lambda: surfaces.two_parameter_slice(model, X, y, resolution=41),
                    lambda: surfaces.interpolation_line(model, X, y, n_points=2001)):
        assert peak_bytes(compute) < bound
    ev = surfaces.Evaluator(model, X, y)
    assert ev.chunk * WIDE.n_params <= surfaces.CHUNK_FLOATS


# ----------------------------------------------------------------------------------------
# Points and work of a surface


def test_smaller_subsamples_are_part_of_larger_ones():
    X = np.arange(3000, dtype=float)[:, None]
    y = np.arange(3000, dtype=float)
    small, _ = surfaces.surface_data(X, y, 300)
    large, _ = surfaces.surface_data(X, y)
    assert len(small) == 300 and len(large) == surfaces.SURFACE_POINTS
    np.testing.assert_array_equal(small, large[:300])


def test_surface_points_keep_a_wide_networks_grid_within_the_surface_work():
    grid = 41 * 41
    assert surfaces.surface_points(5000, 300, grid) == surfaces.SURFACE_POINTS
    assert surfaces.surface_points(150, 13322, grid) == 150  # fewer points than the limit
    wide = surfaces.surface_points(5000, 13322, grid)
    assert surfaces.MIN_SURFACE_POINTS <= wide < surfaces.SURFACE_POINTS
    assert grid * wide * 13322 <= surfaces.SURFACE_WORK
    assert surfaces.default_slice_work(13322, 5000, "random") <= 1.1 * surfaces.SURFACE_WORK
    assert surfaces.surface_points(5000, 10**7, grid) == surfaces.MIN_SURFACE_POINTS


def test_a_wide_networks_surface_says_it_uses_a_subsample(monkeypatch):
    X, y = dataset("regression", n=500)
    model, _ = explorer.fit(X, y, problem="regression", hidden=(3,), epochs=2, snapshots=3)
    P = model.network.n_params
    monkeypatch.setattr(surfaces, "SURFACE_WORK", 41 * 41 * 300 * P)  # room for 300 points
    on_subsample = trained_loss(model, *surfaces.surface_data(X, y, 300))
    for kind in ("parameters", "random", "pca"):
        surface = surfaces.default_slice(model, X, y, kind)
        assert "subsample of 300 of the 500 training points" in surface.note
        assert surface.center_loss == pytest.approx(on_subsample, rel=1e-10)
        r, c = surface.center_index
        assert surface.Z[r, c] == pytest.approx(on_subsample, rel=1e-10)
    everything = surfaces.default_slice(model, X[:250], y[:250], "random")
    assert "subsample" not in everything.note


def test_the_default_subsample_of_a_large_dataset_is_labelled():
    X, y = dataset("regression", n=2300)
    model, _ = explorer.fit(X, y, problem="regression", hidden=(3,), epochs=2, snapshots=3)
    surface = surfaces.default_slice(model, X, y, "pca")
    assert "subsample of 2,000 of the 2,300 training points" in surface.note


def test_slice_work_grows_as_the_grid_the_points_and_the_parameters():
    for kind in ("parameters", "random", "pca"):
        base = surfaces.slice_work(1000, 200, resolution=40, kind=kind, snapshots=0)
        assert base == 40 * 40 * 200 * 1000 + 200 * 1000
        assert surfaces.slice_work(1000, 400, 40, kind, 0) == 2 * base  # twice the points
        assert surfaces.slice_work(2000, 200, 40, kind, 0) == 2 * base  # twice the weights
        grid = surfaces.slice_work(1000, 200, 80, kind, 0) - 200 * 1000
        assert grid == 4 * (base - 200 * 1000)  # twice the points per axis: 4x the grid
        with_path = surfaces.slice_work(1000, 200, 40, kind, snapshots=100)
        assert with_path > base
    assert surfaces.slice_work(1000, 200, 40, "pca", 100) > surfaces.slice_work(
        1000, 200, 40, "random", 100)  # the trajectory's SVD
    with pytest.raises(ValueError, match="unknown slice"):
        surfaces.slice_work(1000, 200, 40, "diagonal")
    line = surfaces.line_work(1000, 200)
    assert surfaces.line_work(1000, 400) == surfaces.line_work(2000, 200) == 2 * line
    assert surfaces.line_work(1000, 200, line_points=203) == 2 * line


def test_projecting_many_snapshots_holds_a_block_of_them_at_a_time():
    model = wide_model("walk", snapshots=200)
    d1, d2 = surfaces.random_directions(WIDE, model.theta, np.random.default_rng(0))
    peak = peak_bytes(lambda: surfaces._project(model.snapshots, model.theta, d1, d2))
    assert peak < 4 * surfaces.PROJECT_ROWS * WIDE.n_params * 8  # (200, P) would be 5.8 MB
    a, b, captured = surfaces._project(model.snapshots, model.theta, d1, d2)
    coords, *_ = np.linalg.lstsq(np.column_stack([d1, d2]), (model.snapshots - model.theta).T,
                                 rcond=None)
    np.testing.assert_allclose(np.vstack([a, b]), coords, rtol=1e-9, atol=1e-12)
    assert (a[-1], b[-1]) == (0.0, 0.0) and 0.0 < captured < 1.0
