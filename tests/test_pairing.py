"""Pairing verdicts: complete, the known cases right, and honest about what a run does."""

import numpy as np
import pytest

import explorer
from explorer import activations, losses, pairing

TRIPLES = [(problem, activation, loss) for problem in losses.PROBLEMS
           for activation in activations.OUTPUT_ACTIVATIONS for loss in losses.LOSSES]


@pytest.mark.parametrize("problem", losses.PROBLEMS)
def test_every_triple_has_a_verdict_and_a_reason(problem):
    for _, activation, loss in [t for t in TRIPLES if t[0] == problem]:
        verdict = pairing.check(problem, activation, loss)
        assert verdict.verdict in ("matched", "mismatched", "invalid")
        assert verdict.headline.strip() and len(verdict.reason) > 40
        assert verdict.reason.rstrip().endswith((".", ")"))


# The verdict table, pinned triple by triple from the pairing rule (not from the code's own
# table). Columns: linear, sigmoid, tanh, softmax, softplus, exp, relu.
# M matched, m mismatched (trains), x invalid.
COLUMNS = ("linear", "sigmoid", "tanh", "softmax", "softplus", "exp", "relu")
EXPECTED = {
    "regression": {
        "mse": "M m m x m m m", "mae": "M m m x m m m", "huber": "M m m x m m m",
        "log_cosh": "M m m x m m m", "msle": "m m m x m m m",
        # a quantile or a (mean, variance) of any real target: a linear output only; bounded
        # outputs cannot reach every target, one-unit softmax is always 1
        "pinball": "M m m x m m m", "gaussian_nll": "M m m x m m m",
    },
    "binary": {
        # focal loss is classification-calibrated, not proper: its optimum is not P(y = 1)
        "mse": "m m m x m m m", "bce": "x M x x x x x", "focal": "x m x x x x x",
        "hinge": "M m m x m m m", "squared_hinge": "M m m x m m m",
    },
    "multiclass": {
        "mse": "m m m m m m m", "cce": "x x x M x x x", "sparse_cce": "x x x M x x x",
        "kld": "x x x M x x x", "categorical_hinge": "M m m m m m m",
    },
    "counts": {
        "mse": "m m m x m m m", "mae": "m m m x m m m", "huber": "m m m x m m m",
        # Poisson takes log p: ReLU's output 0 is outside its domain (p > 0)
        "log_cosh": "m m m x m m m", "msle": "m m m x m m m", "poisson": "x m x x M M x",
    },
}
WORDS = {"M": "matched", "m": "mismatched", "x": "invalid"}


@pytest.mark.parametrize(("problem", "activation", "loss"), TRIPLES)
def test_verdict_table_pinned(problem, activation, loss):
    row = EXPECTED[problem].get(loss)
    expected = "invalid" if row is None else WORDS[row.split()[COLUMNS.index(activation)]]
    assert pairing.check(problem, activation, loss).verdict == expected


def test_defaults_and_matched_activations_pinned():
    assert pairing.DEFAULT_PAIR == {"regression": ("linear", "mse"),
                                    "binary": ("sigmoid", "bce"),
                                    "multiclass": ("softmax", "cce"),
                                    "counts": ("exp", "poisson")}
    assert pairing.matched_activations("hinge") == ("linear",)
    assert pairing.matched_activations("categorical_hinge") == ("linear",)
    assert pairing.matched_activations("msle") == ()
    assert pairing.matched_activations("poisson") == ("exp", "softplus")
    assert pairing.matched_activations("mse", "binary") == ()
    assert pairing.matched_activations("mse") == ("linear",)


# The rule's questions 2 and 3, measured with the engine's own gradient


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_every_matched_pair_answers_the_rule_with_numbers():
    for problem in losses.PROBLEMS:
        for (activation, loss), verdict in pairing.matrix(problem).items():
            if verdict.verdict != "matched":
                continue
            probe = pairing.probe(problem, activation, loss)
            assert probe.defined, (problem, activation, loss)
            assert probe.wrong_gradient >= 0.5, (problem, activation, loss, probe)


def test_the_probe_measures_what_the_formulas_say():
    # sigmoid + MSE (Keras: no 1/2), y = 1, z = -8: |2 (p - 1) p (1 - p)|
    p = sigmoid(-8.0)
    assert pairing.probe("binary", "sigmoid", "mse").wrong_gradient == pytest.approx(
        2 * (1 - p) * p * (1 - p), rel=1e-9)
    # tanh + hinge, y = 1, z = -8: |-(1 - tanh^2)| ~ 4.5e-7: far below sigmoid + MSE
    tanh_hinge = pairing.probe("binary", "tanh", "hinge")
    assert tanh_hinge.wrong_gradient == pytest.approx(1 - np.tanh(8.0) ** 2, rel=1e-6)
    assert tanh_hinge.vanishes and tanh_hinge.wrong_gradient < 1e-6
    # exp + MSLE, y = 3, z = -8: 2 (log(1 + p) - log 4) / (1 + p) * p
    p = np.exp(-8.0)
    assert pairing.probe("counts", "exp", "msle").wrong_gradient == pytest.approx(
        2 * abs(np.log1p(p) - np.log(4.0)) / (1 + p) * p, rel=1e-6)
    # softplus + Poisson does not vanish on either side: |1 - y/p| sigma(z)
    softplus = pairing.probe("counts", "softplus", "poisson")
    p_hi = np.log1p(np.exp(8.0))
    assert softplus.wrong_gradient == pytest.approx((1 - 3 / p_hi) * sigmoid(8.0), rel=1e-6)
    assert pairing.probe("binary", "sigmoid", "bce").wrong_gradient == pytest.approx(
        1 - sigmoid(-8.0))
    assert pairing.probe("binary", "linear", "hinge").wrong_gradient == 1.0


@pytest.mark.parametrize(("problem", "activation", "loss"), [
    ("binary", "sigmoid", "mse"), ("binary", "tanh", "mse"), ("binary", "tanh", "hinge"),
    ("binary", "tanh", "squared_hinge"), ("multiclass", "softmax", "mse"),
    ("multiclass", "softmax", "categorical_hinge"), ("multiclass", "tanh", "categorical_hinge"),
    ("counts", "exp", "msle"), ("counts", "softplus", "msle"), ("counts", "exp", "mse"),
])
def test_saturating_mismatches_say_the_gradient_vanishes(problem, activation, loss):
    assert pairing.probe(problem, activation, loss).vanishes
    reason = pairing.check(problem, activation, loss).reason
    assert "nearly 0" in reason and "confidently wrong" in reason


def test_matched_gradient_formulas_are_what_the_engine_computes():
    # dL/dz per sample for one output unit, written out by hand from each pair's formula
    from explorer import anatomy

    z = np.linspace(-3.0, 3.0, 13)
    gamma = 2.0
    for y in (0.0, 1.0):
        s = 2 * y - 1
        p = sigmoid(z)
        pt = y * p + (1 - y) * (1 - p)
        focal = s * (gamma * pt * (1 - pt) ** gamma * np.log(pt) - (1 - pt) ** (gamma + 1))
        expected = {("sigmoid", "bce"): p - y, ("sigmoid", "focal"): focal,
                    ("linear", "hinge"): np.where(s * z < 1, -s, 0.0),
                    ("linear", "squared_hinge"): -2 * s * np.maximum(0, 1 - s * z)}
        for (activation, loss), want in expected.items():
            got = anatomy.loss_vs_preactivation(activation, loss, y, z=z).grad[0]
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9, err_msg=loss)
    y = 1.0
    expected = {("linear", "mse"): 2 * (z - y), ("linear", "mae"): np.sign(z - y),
                ("linear", "huber"): np.clip(z - y, -1, 1),
                ("linear", "log_cosh"): np.tanh(z - y),
                ("exp", "poisson"): np.exp(z) - y,
                ("softplus", "poisson"): (1 - y / np.log1p(np.exp(z))) * sigmoid(z)}
    for (activation, loss), want in expected.items():
        got = anatomy.loss_vs_preactivation(activation, loss, y, z=z).grad[0]
        # Poisson's log(p + 1e-7), as Keras computes it, moves the gradient by ~1e-6
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5, err_msg=loss)
    # the LaTeX the app shows for those pairs is the closed form, not the chain
    assert pairing.gradient_at_z("sigmoid", "bce") == "p - y"
    assert pairing.gradient_at_z("linear", "mse") == "2(p - y)"
    assert pairing.gradient_at_z("exp", "poisson") == "p - y"
    assert r"\gamma" in pairing.gradient_at_z("sigmoid", "focal")


def test_chain_formulas_put_the_activation_derivative_in_parentheses():
    assert pairing.gradient_at_z("tanh", "mse") == r"2(p - y)\cdot (1 - p^2)"
    assert pairing.gradient_at_z("sigmoid", "mse") == r"2(p - y)\cdot p(1 - p)"
    assert pairing.gradient_at_z("tanh", "hinge") == r"-s \cdot [s\,p < 1]\cdot (1 - p^2)"
    assert pairing.gradient_at_z("linear", "bce") == r"\frac{p - y}{p(1 - p)}"
    assert r"\sum_k" in pairing.gradient_at_z("softmax", "mse")


def test_known_verdicts_say_what_is_true():
    sigmoid_mse = pairing.check("binary", "sigmoid", "mse")
    assert "vanish" in sigmoid_mse.headline and "saturates" in sigmoid_mse.reason
    assert "Brier" in sigmoid_mse.reason
    assert "well-fitted output is calibrated" in sigmoid_mse.reason
    linear_mse = pairing.check("binary", "linear", "mse").reason
    assert "fitted values can leave [0, 1]" in linear_mse and "calibrated" not in linear_mse
    assert ", but A " not in linear_mse
    assert "not calibrated" not in sigmoid_mse.reason
    assert r"p(1 - p)" in sigmoid_mse.reason  # the factor that vanishes, as a formula
    linear_bce = pairing.check("binary", "linear", "bce")
    assert "log" in linear_bce.reason and "sigmoid" in linear_bce.reason
    cce = pairing.check("multiclass", "softmax", "cce")
    assert "p_j - y_j" in cce.reason
    mse = pairing.check("regression", "linear", "mse")
    assert "2(p - y)" in mse.reason and "exactly p − y" not in mse.reason
    assert pairing.check("regression", "sigmoid", "mse").headline == (
        "Sigmoid cannot reach every target")
    assert pairing.check("counts", "sigmoid", "poisson").headline == (
        "Sigmoid cannot predict a count above 1")
    tanh_hinge = pairing.check("binary", "tanh", "hinge")
    assert "margin can never be met" in tanh_hinge.headline
    assert "no saturation" not in tanh_hinge.reason and "linear" in tanh_hinge.reason
    assert "never reaches" not in pairing.check("binary", "linear", "hinge").headline
    softmax_hinge = pairing.check("multiclass", "softmax", "categorical_hinge")
    assert "never beat" in softmax_hinge.reason
    exp_cce = pairing.check("multiclass", "exp", "cce")
    assert "not normalised" in exp_cce.reason and "log(1 − p)" not in exp_cce.reason
    hinge = pairing.check("binary", "linear", "hinge").reason
    assert "not a likelihood" in hinge and "negative log-likelihood of:" not in hinge
    for problem in ("binary", "regression", "counts"):
        softmax = pairing.check(problem, "softmax", "mse")
        assert softmax.verdict == "invalid" and "always 1" in softmax.headline


def test_unknown_names_are_value_errors():
    with pytest.raises(ValueError, match="unknown problem"):
        pairing.check("ranking", "linear", "mse")
    with pytest.raises(ValueError, match="not an output activation"):
        pairing.check("binary", "leaky_relu", "bce")
    with pytest.raises(ValueError, match="unknown loss"):
        pairing.check("binary", "sigmoid", "nope")


def test_gradient_at_z_exists_for_every_pair():
    for activation in activations.OUTPUT_ACTIVATIONS:
        for loss in losses.LOSSES:
            assert pairing.gradient_at_z(activation, loss).strip()


# Honesty: what the verdict says is what a short run does.

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 2))
TARGETS = {
    "binary": (X[:, 0] > 0).astype(int),
    "multiclass": (X[:, 0] > 0).astype(int) + (X[:, 1] > 0),
    "regression": 2.0 * np.sin(X[:, 0]),
    "counts": rng.poisson(np.exp(X[:, 0])).astype(float),
}


def short_fit(problem, activation, loss, seed=0):
    return explorer.fit(X, TARGETS[problem], problem=problem, hidden=(4,),
                        output_activation=activation, loss=loss, epochs=100, batch_size=40,
                        lr=0.05, seed=seed)[1]


def kind_of_invalid(problem, activation, loss):
    if problem not in losses.get(loss).problems:
        return "targets"
    if activation == "softmax" and problem != "multiclass":
        return "single softmax"
    if problem == "multiclass" and activation == "sigmoid":
        return "degenerate"
    return "domain"


INVALID = [t for t in TRIPLES if pairing.check(*t).verdict == "invalid"]


@pytest.mark.parametrize("kind", ["domain", "targets", "single softmax", "degenerate"])
def test_invalid_triples_break_as_explained(kind):
    triples = [t for t in INVALID if kind_of_invalid(*t) == kind]
    assert triples
    for problem, activation, loss in triples:
        reason = pairing.check(problem, activation, loss).reason
        if kind == "targets":  # the loss reads another kind of target: fit refuses
            assert "expects" in reason
            with pytest.raises(ValueError, match="does not serve"):
                short_fit(problem, activation, loss)
        elif kind == "single softmax":  # always 1: nothing to learn, but no crash
            history = short_fit(problem, activation, loss)
            assert history.attrs["divergence"] is None
            if losses.get(loss).outputs_per_target == 1:
                assert np.all(history["grad_norm"] == 0.0)
            else:  # the mean is stuck at 1; only the scale unit learns
                assert "only the scale unit" in reason
                model, _ = explorer.fit(X, TARGETS[problem], problem=problem, hidden=(4,),
                                        output_activation=activation, loss=loss, epochs=20)
                np.testing.assert_array_equal(model.predict(X)[:, 0], 1.0)
        elif kind == "degenerate":  # every output -> 1: the loss vanishes, the classes blur
            assert "every output" in reason
            model, history = explorer.fit(X, TARGETS[problem], problem=problem,
                                          hidden=(8,), output_activation=activation,
                                          loss=loss, epochs=200, lr=0.05, seed=0)
            assert history["loss"].iloc[-1] < 1e-3
            assert model.predict(X).min() > 0.99
        else:  # outputs leave the loss's domain: the run stops with that reason
            assert "NaN" in reason
            lo, hi = losses.get(loss).prediction_range
            out_lo, out_hi = activations.get(activation).output_range
            reaches_zero = activation == "relu" and losses.get(loss).open_low  # log 0
            assert out_lo < lo or out_hi > hi or (out_lo == lo and reaches_zero)
            reasons = [(short_fit(problem, activation, loss, seed).attrs["divergence"] or {})
                       .get("reason") for seed in range(3)]
            assert "prediction outside the loss's domain" in reasons, (problem, activation, loss)


def test_matched_and_mismatched_triples_train_without_diverging():
    for problem, activation, loss in TRIPLES:
        if pairing.check(problem, activation, loss).verdict != "invalid":
            divergence = short_fit(problem, activation, loss).attrs["divergence"]
            assert divergence is None, (problem, activation, loss, divergence)


@pytest.mark.parametrize("activation", ["sigmoid", "softplus", "exp", "relu"])
def test_margin_loss_with_a_non_negative_output_says_what_the_run_shows(activation):
    verdict = pairing.check("binary", activation, "hinge")
    assert verdict.verdict == "mismatched" and "−1 side" in verdict.headline
    assert "never negative" in verdict.reason
    model, history = explorer.fit(X, TARGETS["binary"], problem="binary", hidden=(4,),
                                  output_activation=activation, loss="hinge", epochs=100,
                                  batch_size=40, lr=0.05)
    zeros = 1.0 - TARGETS["binary"].mean()
    assert history["loss"].min() >= zeros  # each class-0 point costs at least 1
    # class 0 is predicted only where the output sits exactly on the boundary, 0
    outputs = model.predict(X)
    assert np.all(outputs[model.predict_class(X) == 0] == 0.0)


def test_sigmoid_cross_entropy_on_classes_is_degenerate():
    verdict = pairing.check("multiclass", "sigmoid", "cce")
    assert verdict.verdict == "invalid" and "Degenerate" in verdict.headline
    assert "binary cross-entropy per class" in verdict.reason


def test_reasons_use_the_right_article():
    for problem in ("regression", "binary", "multiclass", "counts"):
        for p in pairing.matrix(problem).values():
            assert " A exponential" not in p.reason and " a exponential" not in p.reason



# The quantile and learned-variance losses, from their formulas


def test_pinball_and_gaussian_nll_gradients_at_z_are_the_formulas():
    from explorer import anatomy

    z = np.linspace(-3.0, 3.0, 13)
    y = 1.0
    for tau in (0.1, 0.5, 0.9):  # linear output: dL/dz = -tau above, 1 - tau below
        want = np.where(y > z, -tau, np.where(y < z, 1 - tau, 0.0))
        got = anatomy.loss_vs_preactivation("linear", "pinball", y, z=z,
                                            loss_params={"tau": tau}).grad[0]
        np.testing.assert_allclose(got, want, atol=1e-12)
    # tanh + pinball: the chain (dL/dp) (1 - p^2)
    got = anatomy.loss_vs_preactivation("tanh", "pinball", 0.5, z=z).grad[0]
    p = np.tanh(z)
    np.testing.assert_allclose(got, np.where(0.5 > p, -0.5, 0.5) * (1 - p ** 2), atol=1e-12)
    # Gaussian NLL at s = 0 (sigma = 1), the mean unit: (p - y) a'(z)
    got = anatomy.loss_vs_preactivation("linear", "gaussian_nll", y, z=z).grad[0]
    np.testing.assert_allclose(got, z - y, atol=1e-12)
    got = anatomy.loss_vs_preactivation("sigmoid", "gaussian_nll", y, z=z).grad[0]
    p = sigmoid(z)
    np.testing.assert_allclose(got, (p - y) * p * (1 - p), atol=1e-12)
    assert r"\tau" in pairing.gradient_at_z("linear", "pinball")
    assert "e^{-s}" in pairing.gradient_at_z("linear", "gaussian_nll")
    assert pairing.gradient_at_z("sigmoid", "gaussian_nll") == r"(p - y)\,e^{-s}\cdot p(1 - p)"


def test_new_regression_losses_probe_and_reasons():
    # linear + pinball(0.5): |dL/dz| = 0.5 on either side; exp + pinball: 0.5 e^-8 at z = -8
    assert pairing.probe("regression", "linear", "pinball").wrong_gradient == pytest.approx(0.5)
    exp_probe = pairing.probe("regression", "exp", "pinball")
    assert exp_probe.wrong_gradient == pytest.approx(0.5 * np.exp(-8.0), rel=1e-9)
    assert exp_probe.vanishes
    # linear + Gaussian NLL at sigma = 1, y = 1: |z - y|, smallest at z = 8: 7
    assert pairing.probe("regression", "linear", "gaussian_nll").wrong_gradient == (
        pytest.approx(7.0))
    assert pairing.probe("regression", "relu", "gaussian_nll").wrong_gradient == 0.0
    matched = pairing.check("regression", "linear", "pinball")
    assert "quantile" in matched.reason and "asymmetric Laplace" in matched.reason
    nll = pairing.check("regression", "linear", "gaussian_nll")
    assert "variance" in nll.reason
    assert pairing.check("regression", "sigmoid", "pinball").headline == (
        "Sigmoid cannot reach every target")
    assert pairing.matched_activations("pinball") == ("linear",)
    assert pairing.matched_activations("gaussian_nll") == ("linear",)
    for loss in ("pinball", "gaussian_nll"):
        for problem in ("binary", "multiclass", "counts"):
            assert pairing.check(problem, "linear", loss).verdict == "invalid"


# ----------------------------------------------------------------------------------------
# A typed formula's verdict, read off the three answers (pairing.judge)

SERVED = [(problem, activation, key) for problem in losses.PROBLEMS
          for activation in activations.OUTPUT_ACTIVATIONS
          for key in losses.for_problem(problem)]


def test_the_answers_verdict_is_the_table_verdict_in_every_cell():
    """One rule: the three measured answers give every built-in triple the table's verdict,
    and both are pinned to EXPECTED above (written from the textbooks, not from the code)."""
    disagree = {}
    for triple in SERVED:
        table = pairing.check(*triple).verdict
        answered = pairing.judge(pairing.rule_answers(*triple)).verdict
        if table != answered:
            disagree[triple] = (table, answered)
    assert disagree == {}
    assert len(SERVED) == 161


TWINS = [
    ("mse", {}, "(p - y)**2"), ("mae", {}, "abs(p - y)"),
    ("bce", {}, "-(y*log(p) + (1 - y)*log(1 - p))"), ("poisson", {}, "p - y*log(p)"),
    ("hinge", {}, "maximum(0, 1 - (2*y - 1)*p)"),
    ("squared_hinge", {}, "maximum(0, 1 - (2*y - 1)*p)**2"),
    ("log_cosh", {}, "abs(p - y) + log1p(exp(-2*abs(p - y))) - log(2)"),
    ("cce", {}, "-y*log(p)"),
    *[("pinball", {"tau": tau}, f"where(y > p, {tau}*(y - p), {1 - tau:g}*(p - y))")
      for tau in (0.1, 0.5, 0.9)],
    *[("huber", {"delta": d}, f"where(abs(p - y) <= {d}, 0.5*(p - y)**2, "
                              f"{d}*(abs(p - y) - {d / 2}))") for d in (0.5, 1.0, 2.0)],
]


@pytest.mark.parametrize(("key", "params", "text"), TWINS,
                         ids=[f"{k}{list(p.values()) or ''}" for k, p, _ in TWINS])
def test_a_typed_twin_gets_its_builtin_verdict_in_every_cell(key, params, text):
    """Every output activation, on every problem the built-in serves (a typed formula serves
    all four; where the built-in does not, its 'invalid' is about the targets it reads)."""
    y, p = np.array([[0.0], [1.0], [3.0]]), np.array([[0.3], [0.8], [2.0]])
    builtin, typed = losses.get(key, **params), losses.custom(text)
    if key != "cce":  # the twin is the built-in, number for number (Keras' 1e-7 aside)
        np.testing.assert_allclose(typed.value(y[:2], p[:2]), builtin.value(y[:2], p[:2]),
                                   rtol=1e-6)
    for problem in builtin.problems:
        for activation in activations.OUTPUT_ACTIVATIONS:
            want = EXPECTED[problem][key].split()[COLUMNS.index(activation)]
            assert pairing.check(problem, activation, key).verdict == WORDS[want]
            got = pairing.formula_pairing(problem, activation, text)
            assert got.verdict == WORDS[want], (problem, activation, got.headline)


@pytest.mark.parametrize(("problem", "activation", "text", "verdict", "headline"), [
    ("binary", "sigmoid", "-(y*log(p) + (1 - y)*log(1 - p))", "matched",
     "All three answers are what a matched pair gives"),
    ("binary", "sigmoid", "(p - y)**2", "mismatched",
     "The gradient vanishes when confidently wrong"),
    ("binary", "sigmoid", "-y*log(p)", "invalid",
     "Degenerate: no minimum that depends on the targets"),
    ("regression", "linear", "abs(y - p)**3", "mismatched",
     "Its optimum is not a centre of y (its conditional mean, median or a quantile)"),
    ("regression", "linear", "log(p - y)", "invalid",
     "Not defined on the whole range of the linear (identity) output"),
    ("binary", "softmax", "(p - y)**2", "invalid",
     "No gradient at all where the answer is wrong: nothing to learn from"),
    ("multiclass", "softmax", "-y*log(p)", "matched",
     "All three answers are what a matched pair gives"),
])
def test_a_typed_formula_is_judged_by_its_answers(problem, activation, text, verdict,
                                                   headline):
    result = pairing.verdict(problem, activation, losses.CUSTOM, {"formula": text})
    assert isinstance(result, pairing.AnsweredPairing)
    assert (result.verdict, result.headline) == (verdict, headline)
    assert result.reason == " ".join(result.answers.sentences)
    assert result.answers.loss == losses.CUSTOM


def test_formula_verdicts_are_cached_and_built_ins_keep_their_table():
    pairing.formula_pairing.cache_clear()
    first = pairing.formula_pairing("regression", "linear", "abs(p - y)")
    assert pairing.formula_pairing("regression", "linear", "abs(p - y)") is first
    assert pairing.formula_pairing.cache_info().hits == 1
    assert pairing.verdict("binary", "sigmoid", "bce") is pairing.check("binary", "sigmoid",
                                                                        "bce")
    # the default formula, when none is given
    assert pairing.verdict("regression", "linear", losses.CUSTOM).answers.optimum.estimates \
        == "the conditional mean"


# ----------------------------------------------------------------------------------------
# Textbook cases without a built-in twin: the textbook verdict, and a sentence that states a
# number computed here independently (by hand, by grid or by bisection).

Q = np.array([0.1, 0.3, 0.7, 0.9])
LOGIT = np.log(Q / (1 - Q))


def _expectile(sample, tau):
    """The tau-expectile by bisection: tau E[(y - e)+] = (1 - tau) E[(e - y)+]."""
    lo, hi = sample.min(), sample.max()
    for _ in range(60):
        e = (lo + hi) / 2
        above, below = np.maximum(sample - e, 0).mean(), np.maximum(e - sample, 0).mean()
        lo, hi = (e, hi) if tau * above > (1 - tau) * below else (lo, e)
    return e


def _minimisers(result):
    return np.array([c.minimiser[0] for c in result.answers.optimum.cases])


def test_exponential_loss_on_a_score_is_a_margin_loss_with_half_the_log_odds():
    result = pairing.formula_pairing("binary", "linear", "exp(-(2*y - 1)*p)")
    assert result.verdict == "matched"
    np.testing.assert_allclose(_minimisers(result), LOGIT / 2, atol=0.01)  # FHT 2000
    assert "half the log-odds" in result.reason and "sign of the score" in result.reason


def test_logistic_loss_on_a_score_is_cross_entropy_through_a_sigmoid():
    result = pairing.formula_pairing("binary", "linear", "log1p(exp(-(2*y - 1)*p))")
    assert result.verdict == "matched"
    np.testing.assert_allclose(sigmoid(_minimisers(result)), Q, atol=0.003)  # σ(f*) = q
    assert "σ(score) = q" in result.reason and "not the probability" not in result.reason


def test_typed_margin_losses_are_read_at_zero_not_half():
    squared = pairing.formula_pairing("binary", "linear", "maximum(0, 1 - (2*y - 1)*p)**2")
    np.testing.assert_allclose(_minimisers(squared), 2 * Q - 1, atol=0.01)
    assert squared.verdict == "matched" and "2q − 1" in squared.reason
    hinge = pairing.formula_pairing("binary", "linear", "maximum(0, 1 - (2*y - 1)*p)")
    np.testing.assert_allclose(_minimisers(hinge), np.sign(2 * Q - 1), atol=0.01)
    assert "side of 0.5" not in hinge.reason and "sign of the score" in hinge.reason
    # a sigmoid is a probability output: its hinge minimiser is on the right side of 0.5,
    # at the ends (p -> 0 or 1): the class, not the probability, and not "the wrong side"
    through_sigmoid = pairing.formula_pairing("binary", "sigmoid",
                                              "maximum(0, 1 - (2*y - 1)*p)")
    p = _minimisers(through_sigmoid)
    assert np.all((p > 0.5) == (Q > 0.5)) and np.all((p < 0.01) | (p > 0.99))
    assert "wrong side" not in through_sigmoid.reason
    assert "the class (the side of 0.5), not the probability" in through_sigmoid.reason
    assert through_sigmoid.verdict == "mismatched"


def test_absolute_error_through_a_sigmoid_estimates_the_class():
    result = pairing.formula_pairing("binary", "sigmoid", "abs(y - p)")
    p = _minimisers(result)
    # E|y - p| = q (1 - p) + (1 - q) p is linear in p: lowest at the end on q's side
    assert np.all((p < 0.01) == (Q < 0.5)) and np.all((p > 0.99) == (Q > 0.5))
    assert result.verdict == "mismatched"
    assert "the class (the side of 0.5), not the probability of class 1" in result.reason
    assert "wrong side" not in result.reason


@pytest.mark.parametrize(("problem", "activation", "text"), [
    ("binary", "sigmoid", "-y*log(p)"), ("counts", "exp", "-y*log(p)"),
    ("binary", "linear", "-(2*y - 1)*p")])
def test_one_sided_and_linear_losses_are_degenerate_and_invalid(problem, activation, text):
    """-y log p ignores the y = 0 points: with a sigmoid every output -> 1 (loss -> 0), with
    exp the counts' loss falls without bound; a linear loss on a score falls without bound.
    As the table calls sigmoid + categorical cross-entropy: invalid."""
    result = pairing.formula_pairing(problem, activation, text)
    assert result.verdict == "invalid" and "Degenerate" in result.headline
    assert "it estimates nothing" in result.reason


def test_a_biased_square_estimates_the_mean_plus_one():
    result = pairing.formula_pairing("regression", "linear", "(p - y - 1)**2")
    assert result.verdict == "mismatched"
    skewed = result.answers.optimum.cases[-1].minimiser[0]
    assert skewed == pytest.approx(pairing.SKEWED.mean() + 1, abs=0.01)
    assert "the mean plus 1" in result.reason


def test_the_cauchy_loss_redescends():
    result = pairing.formula_pairing("regression", "linear", "log(1 + (y - p)**2)")
    assert result.verdict == "mismatched" and "redescends" in result.headline
    deepest = min(result.answers.gradient.probes, key=lambda c: c.z)
    error = deepest.z - 1.0  # target 1
    assert abs(deepest.gradient) == pytest.approx(abs(2 * error / (1 + error ** 2)), rel=1e-9)
    assert abs(deepest.gradient) < 0.01
    assert "does not vanish" not in result.reason and "redescend" in result.reason


def test_an_asymmetric_square_estimates_an_expectile():
    result = pairing.formula_pairing("regression", "linear", "where(y > p, 0.9, 0.1)*(y - p)**2")
    assert result.verdict == "matched" and "0.9-expectile" in result.reason
    skewed = result.answers.optimum.cases[-1].minimiser[0]
    assert skewed == pytest.approx(_expectile(pairing.SKEWED, 0.9), abs=0.01)


@pytest.mark.parametrize("tau", [0.1, 0.25, 0.9])
def test_pinball_estimates_its_quantile_and_is_matched_on_a_linear_output(tau):
    text = f"where(y > p, {tau}*(y - p), {1 - tau:g}*(p - y))"
    result = pairing.formula_pairing("regression", "linear", text)
    assert result.verdict == "matched"
    assert f"the conditional {tau:g}-quantile" in result.reason
    assert "not the conditional mean" not in result.reason
    skewed = result.answers.optimum.cases[-1].minimiser[0]
    assert np.mean(pairing.SKEWED < skewed) == pytest.approx(tau, abs=0.011)


def test_mae_and_mse_name_the_median_and_the_mean():
    mse = pairing.rule_answers("regression", "linear", "mse").optimum
    mae = pairing.rule_answers("regression", "linear", "mae").optimum
    assert (mse.kind, mae.kind) == ("mean", "median")
    assert mse.cases[-1].minimiser[0] == pytest.approx(pairing.SKEWED.mean(), abs=0.006)
    assert mae.cases[-1].minimiser[0] == pytest.approx(np.median(pairing.SKEWED), abs=0.011)
    counts_mae = pairing.rule_answers("counts", "exp", "mae").optimum
    assert counts_mae.kind == "median count" and not counts_mae.ok


def test_the_cube_and_the_multiclass_square_are_mismatched_for_what_they_estimate():
    cube = pairing.formula_pairing("regression", "linear", "abs(y - p)**3")
    assert cube.verdict == "mismatched" and "beyond the mean" in cube.reason
    squares = pairing.formula_pairing("multiclass", "linear", "(p - y)**2")
    assert squares.verdict == "mismatched"
    for case in squares.answers.optimum.cases:  # the class shares themselves, by least squares
        np.testing.assert_allclose(case.minimiser, case.wanted, atol=0.02)
    assert "need not sum to 1" in squares.reason


# ----------------------------------------------------------------------------------------
# Statements an audit against the textbooks found false: each now pinned by the fact it states


def test_mse_on_a_linear_output_estimates_the_probability_but_leaves_the_unit_interval():
    # the MSE minimiser of q (1 - p)^2 + (1 - q) p^2 is p = q, on any output that reaches it
    answers = pairing.rule_answers("binary", "linear", "mse")
    np.testing.assert_allclose(_minimisers(pairing.judge(answers)), Q, atol=0.006)
    # and the fitted values of a trained linear + MSE model do leave [0, 1]
    model, _ = explorer.fit(X, TARGETS["binary"], problem="binary", hidden=(8,),
                            output_activation="linear", loss="mse", epochs=200, seed=0)
    outputs = model.predict(X)
    assert outputs.min() < 0 or outputs.max() > 1
    reason = pairing.check("binary", "linear", "mse").reason
    assert "still the class probability" in reason and "can leave [0, 1]" in reason


def test_gaussian_nll_divides_the_mean_gradient_by_the_variance():
    from explorer.objective import Objective

    objective = Objective.build("regression", "linear", "gaussian_nll", [[1.0]])
    at_one = objective.value_and_dz(np.array([[8.0, 0.0]]))[1][0, 0]
    at_wide = objective.value_and_dz(np.array([[8.0, 4.0]]))[1][0, 0]
    assert at_one == pytest.approx(7.0) and at_wide == pytest.approx(7.0 * np.exp(-4.0))
    reason = pairing.check("regression", "linear", "gaussian_nll").reason
    assert "σ²" in reason and "explained away" in reason


def test_poisson_needs_a_positive_prediction():
    assert not np.isfinite(losses.get("poisson").value([3.0], [0.0]))  # log 0 = -inf
    assert np.isfinite(losses.get("poisson").value([3.0], [1e-300]))
    # unclipped: p - y log p at p = 1e-20 is 138.2, not the 48.4 of log(p + 1e-7)
    assert losses.get("poisson").value([3.0], [1e-20]) == pytest.approx(-3 * np.log(1e-20))
    relu = pairing.check("counts", "relu", "poisson")
    assert relu.verdict == "invalid" and "positive prediction" in relu.reason
    assert "non-negative prediction" not in relu.reason


def test_focal_loss_is_not_proper_and_its_verdict_says_so():
    # its optimum, minimised by hand on a grid of p: not q (gamma 2: 0.306 for q = 0.1)
    p = np.linspace(1e-4, 1 - 1e-4, 200001)
    by_hand = [p[np.argmin(-q * (1 - p) ** 2 * np.log(p) - (1 - q) * p ** 2 * np.log1p(-p))]
               for q in Q]
    assert np.all(np.abs(np.array(by_hand) - Q) > 0.05)
    focal = pairing.check("binary", "sigmoid", "focal")
    assert focal.verdict == "mismatched" and "not a proper scoring rule" in focal.reason
    assert "0.31 for q = 0.1" in focal.reason
    assert pairing.matched_activations("focal") == ()
