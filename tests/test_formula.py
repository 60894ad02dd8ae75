"""Typed losses: safe parsing, exact derivatives, training like the built-ins, the pairing
rule answered with numbers, and every example's lesson checked."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import explorer
from explorer import activations, datasets, formula, losses, pairing
from explorer.formula import FormulaError

H = 1e-6


# ----------------------------------------------------------------------------------------
# Safety: a whitelist, one-line messages, nothing ever evaluated

HOSTILE = [
    ("__import__('os')", "unknown function '__import__'"),
    ("__import__('os').system('ls')", "attribute access"),
    ("().__class__", "attribute access"),
    ("().__class__.__bases__[0].__subclasses__()", "attribute access"),
    ("p.real", "attribute access"),
    ("(lambda: p)()", "only the functions"),
    ("lambda p: p", "lambda"),
    ("[p for p in (1, 2)]", "comprehensions"),
    ("sum(p for p in y)", "unknown function 'sum'"),
    ("{p: y}", "dictionaries"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("exec('1')", "unknown function 'exec'"),
    ("eval('p')", "unknown function 'eval'"),
    ("maximum(p, y=1)", "keyword arguments"),
    ("maximum(*[p, y])", "starred"),
    ("f'{p}'", "f-strings"),
    ("p[0]", "indexing"),
    ("p" * 201, "limit is 200"),
    ("-" * 60 + "p", "nested too deeply"),
    ("exp(" * 33 + "p" + ")" * 33, "nested too deeply"),
    ("1e308**2 * p", "too large"),
    ("9**9**9 * p", "too large"),
    ("2**1000 * p", "exponent"),
    ("p**100", "exponent"),
    ("exp(1000) * p", "too large"),
    ("1e7 * p", "too large"),
    ("os", "unknown name 'os'"),
    ("np.log(p)", "attribute access"),
    ("z * p", "z is not a variable"),
    ("p^2", "^ is not a power"),
    ("p % 2", "%"),
    ("p // 2", "//"),
    ("p if y else 1", "where(c, a, b)"),
    ("p and y", "where"),
    ("not p", "not"),
    ("p < y", "comparisons are only allowed"),
    ("where(p, y, 1)", "must be a comparison"),
    ("where(p == y, 1, p)", "=="),
    ("log(p, 2)", "takes 1 argument"),
    ("max(p, y)", "did you mean 'maximum'"),
    ("True * p", "True"),
    ("None", "None"),
    ("'p'", "strings"),
    ("b'p'", "strings"),
    ("1j * p", "complex"),
    ("(p, y)", "tuples"),
    ("[p]", "lists"),
    ("(x := p)", ":="),
    ("log(-1) * p", "not a real number"),
    ("sqrt(-2) + p", "not a real number"),
    ("1 / 0 + p", "divides by zero"),
    ("1 / (p - p)", "divides by zero"),
    ("y", "does not depend on p"),
    ("2 + 3", "does not depend on p"),
    ("", "empty"),
    ("   ", "empty"),
    ("log(p", "not a formula"),
    ("p y", "not a formula"),
    ("p\x00", "not a formula"),
    ("p = 1", "not a formula"),
    ("import os", "not a formula"),
    ("p; y", "not a formula"),
    ("where(p > y, where(p > 1, where(p > 2, where(p > 3, p, y), y), y), "
     "maximum(p, minimum(p, maximum(p, minimum(p, maximum(y, p))))))", "at most 8"),
]


@pytest.mark.parametrize(("text", "fragment"), HOSTILE, ids=[t[:30] for t, _ in HOSTILE])
def test_hostile_or_invalid_text_is_refused_with_one_line(text, fragment):
    with pytest.raises(FormulaError) as info:
        formula.parse(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message and 10 < len(message) < 250
    assert isinstance(info.value, ValueError)


def test_non_text_is_refused():
    for value in (None, 3, b"p", ["p"]):
        with pytest.raises(FormulaError, match="must be text"):
            formula.parse(value)


def test_the_module_never_evaluates_text():
    """No eval, exec, compile, SymPy string parsing or lambdify anywhere in the module."""
    tree = ast.parse(Path(formula.__file__).read_text(encoding="utf-8"))
    called = {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
              for node in ast.walk(tree) if isinstance(node, ast.Call)
              and isinstance(node.func, (ast.Name, ast.Attribute))}
    assert not called & {"eval", "exec", "compile", "sympify", "parse_expr", "lambdify",
                         "S", "__import__", "getattr", "simplify"}


def test_sympy_string_parsing_is_never_reached(monkeypatch):
    import sympy.parsing.sympy_parser as sympy_parser

    def refuse(*args, **kwargs):
        raise AssertionError("SymPy was asked to parse a string")

    monkeypatch.setattr(sympy_parser, "parse_expr", refuse)
    formula._parse.cache_clear()
    for text in ["-(y*log(p) + (1 - y)*log(1 - p))", "where(p > y, 2*(p - y), y - p)",
                 "maximum(0, 1 - (2*y - 1)*p)", "sqrt(abs(p - y)) + log1p(p**2)"]:
        formula.parse(text)


FORMULA_CHARACTERS = "yp()+-*/.,<>=0123456789 eabsloqrtxmniwhz_^%[]'\"{}:;!~&|@"


@settings(max_examples=400, deadline=2000)
@given(st.text(alphabet=FORMULA_CHARACTERS, max_size=220) | st.text(max_size=220))
def test_random_text_raises_only_formula_errors(text):
    try:
        loss = formula.parse(text)
    except FormulaError:
        return
    values, derivs = loss._elements(np.array([[0.0], [1.0]]), np.array([[0.3], [2.0]]))
    assert values.shape == derivs.shape == (2, 1)


def formulas():
    """Random formulas from the grammar (most valid, some constant-folding failures)."""
    leaves = st.sampled_from(["p", "y", "1", "2", "0.5", "3", "1e-3"])

    def grow(inner):
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})")
        unary = st.tuples(st.sampled_from(["abs", "log", "log1p", "exp", "sqrt", "-"]),
                          inner).map(lambda t: f"{t[0]}({t[1]})")
        pair = st.tuples(st.sampled_from(["minimum", "maximum"]), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})")
        where = st.tuples(inner, st.sampled_from(["<", "<=", ">", ">="]), inner, inner,
                          inner).map(lambda t: f"where({t[0]} {t[1]} {t[2]}, {t[3]}, {t[4]})")
        return binary | unary | pair | where

    return st.recursive(leaves, grow, max_leaves=14)


@settings(max_examples=300, deadline=3000)
@given(formulas())
def test_random_formulas_parse_or_refuse_and_evaluate_quietly(text):
    try:
        loss = formula.parse(text)
    except FormulaError:
        return
    y = np.array([[0.0], [1.0], [3.0], [-2.0]])
    p = np.array([[0.2], [0.9], [1e3], [-50.0]])
    with np.errstate(all="raise"):  # the evaluator silences its own overflow and NaN
        values, derivs = loss._elements(y, p)
    assert values.shape == derivs.shape == (4, 1)
    assert loss.formula and loss.grad_formula


def test_typography_and_whitespace_are_forgiven():
    assert formula.parse("  (p − y)²  ").text == "(p - y)**2"
    assert formula.parse("2·p×y").text == "2*p*y"


# ----------------------------------------------------------------------------------------
# Exact derivatives


DERIVATIVE_CASES = [
    # (formula, targets, predictions away from kinks and domain edges)
    ("abs(y - p)**3", "real", "real"),
    ("log(1 + (y - p)**2)", "real", "real"),
    ("-(y*log(p))", "label", "unit"),
    ("(p - y)**2", "real", "real"),
    ("where(p > y, 2*(p - y), y - p)", "real", "real"),
    ("maximum(0, 1 - (2*y - 1)*p)", "label", "real"),
    ("-(y*log(p) + (1 - y)*log(1 - p))", "label", "unit"),
    ("p - y*log(p)", "count", "positive"),
    ("log1p(exp(-(2*y - 1)*p))", "label", "real"),
    ("sqrt(1 + (p - y)**2) - 1", "real", "real"),
    ("minimum(abs(p - y), 1)**2 + maximum(abs(p - y) - 1, 0)", "real", "real"),
    ("where(y > p, 0.9*(y - p), 0.1*(p - y))", "real", "real"),
]


def draw(kind, rng, size):
    return {"real": lambda: rng.uniform(-3, 3, size), "label": lambda: rng.integers(0, 2, size)
            .astype(float), "unit": lambda: rng.uniform(0.05, 0.95, size),
            "count": lambda: rng.poisson(2.0, size).astype(float),
            "positive": lambda: rng.uniform(0.2, 6.0, size)}[kind]()


@pytest.mark.parametrize(("text", "targets", "predictions"), DERIVATIVE_CASES,
                         ids=[c[0] for c in DERIVATIVE_CASES])
def test_derivative_matches_central_differences(text, targets, predictions):
    loss = formula.parse(text)
    rng = np.random.default_rng(7)
    y, p = draw(targets, rng, (40, 1)), draw(predictions, rng, (40, 1))
    # keep away from the kinks |p - y| in {0, 1} and 1 - (2y - 1) p = 0
    s = 2 * y - 1
    keep = ((np.abs(p - y) > 0.02) & (np.abs(np.abs(p - y) - 1) > 0.02)
            & (np.abs(1 - s * p) > 0.02))[:, 0]
    y, p = y[keep], p[keep]
    assert len(y) >= 20
    values, derivs = loss._elements(y, p)
    up, _ = loss._elements(y, p + H)
    down, _ = loss._elements(y, p - H)
    np.testing.assert_allclose(derivs, (up - down) / (2 * H), rtol=1e-5, atol=1e-6)
    assert np.isfinite(values).all()


def test_a_wrong_derivative_would_be_caught():
    """The check above is not vacuous: a derivative off by a factor fails it."""
    loss = formula.parse("(p - y)**2")
    y, p = np.array([[0.0]]), np.array([[1.5]])
    _, derivs = loss._elements(y, p)
    up, _ = loss._elements(y, p + H)
    down, _ = loss._elements(y, p - H)
    assert not np.allclose(0.5 * derivs, (up - down) / (2 * H), rtol=1e-5)


def test_derivatives_and_latex_pinned():
    assert formula.parse("(p - y)**2").grad_formula == "2 p - 2 y"
    assert formula.parse("-y*log(p)").grad_formula == r"- \frac{y}{p}"
    hinge = formula.parse("maximum(0, 1 - (2*y - 1)*p)")
    assert r"\max" in hinge.formula and r"\theta" in hinge.grad_formula
    assert "log1p" not in formula.parse("log1p((p - y)**2)").formula
    # Heaviside(0) = 1/2 and sign(0) = 0: the kinks' subgradients
    _, derivs = hinge._elements(np.array([[1.0]]), np.array([[1.0]]))
    assert derivs[0, 0] == -0.5
    _, derivs = formula.parse("abs(p - y)")._elements(np.array([[1.0]]), np.array([[1.0]]))
    assert derivs[0, 0] == 0.0


BY_HAND = [
    ("p**3 - y", lambda y, p: p ** 3 - y),
    ("(p - y)**2", lambda y, p: (p - y) ** 2),
    ("p**0.5 + p**-1 + p**-0.5", lambda y, p: np.sqrt(p) + 1 / p + 1 / np.sqrt(p)),
    ("p**1.5 * y**2", lambda y, p: p ** 1.5 * y ** 2),
    ("2**p - sqrt(p)", lambda y, p: 2.0 ** p - np.sqrt(p)),
    ("exp(-p)*log1p(p) + log(p)/p", lambda y, p: np.exp(-p) * np.log1p(p) + np.log(p) / p),
    ("abs(p - y) - minimum(p, y) + 3*maximum(p, y)",
     lambda y, p: np.abs(p - y) - np.minimum(p, y) + 3 * np.maximum(p, y)),
    ("where(p > y, p, y) + where(0 < p <= y, 1, 2)*p",
     lambda y, p: np.where(p > y, p, y) + np.where((0 < p) & (p <= y), 1, 2) * p),
    ("-(-p) / 4 - 1e-3", lambda y, p: p / 4 - 1e-3),
]


@pytest.mark.parametrize(("text", "numpy_version"), BY_HAND, ids=[c[0] for c in BY_HAND])
def test_values_match_numpy_written_by_hand(text, numpy_version):
    rng = np.random.default_rng(3)
    y, p = rng.uniform(0.1, 3, (30, 2)), rng.uniform(0.1, 3, (30, 2))
    values, _ = formula.parse(text)._elements(y, p)
    np.testing.assert_allclose(values, numpy_version(y, p), rtol=1e-12)


def test_no_clipping_log_zero_is_infinite():
    loss = formula.parse("-y*log(p)")
    values, derivs = loss._elements(np.array([[1.0], [0.0]]), np.array([[0.0], [0.0]]))
    assert values[0, 0] == np.inf and np.isnan(values[1, 0])  # 0 * -inf
    assert derivs[0, 0] == -np.inf


# ----------------------------------------------------------------------------------------
# The Loss API: conventions, registry hooks


def test_values_are_means_over_samples_and_sums_over_classes():
    mse = formula.parse("(p - y)**2")
    assert mse.value([0.0, 1.0], [0.5, 0.5]) == pytest.approx(0.25)
    np.testing.assert_allclose(mse.grad([0.0, 1.0], [0.5, 0.5]), [0.5, -0.5])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    ce = formula.parse("-y*log(p)")
    expected = -(np.log(0.7) + np.log(0.6)) / 2
    assert ce.value([0, 2], p) == pytest.approx(expected)
    assert ce.value([0, 2], p) == pytest.approx(losses.get("cce").value([0, 2], p))
    # summed over units: on 3 classes the typed squared error is 3 x Keras' mean
    assert mse.value([0, 2], p) == pytest.approx(3 * losses.get("mse").value(
        losses.one_hot(np.array([0, 2]), 3), p))
    np.testing.assert_allclose(ce.per_sample([0, 2], p), [-np.log(0.7), -np.log(0.6)])


def test_custom_loss_has_the_loss_api():
    loss = losses.custom("abs(p - y)")
    assert isinstance(loss, losses.Loss) and isinstance(loss, formula.CustomLoss)
    assert loss.key == "custom" and loss.likelihood is None and not loss.margin
    assert loss.params == {"formula": "abs(p - y)"}
    assert loss.problems == losses.PROBLEMS and loss.prediction_range == (-np.inf, np.inf)
    assert loss.decision_threshold == 0.5
    assert "not checked" in loss.likelihood_sentence
    assert loss.label and loss.formula and loss.grad_formula and loss.note


def test_registry_hooks():
    assert losses.get("custom").text == formula.DEFAULT_FORMULA
    assert losses.get("custom", formula="abs(p - y)").text == "abs(p - y)"
    assert losses.get("custom").with_params(formula="p**4").text == "p**4"
    loss = losses.custom("p**4")
    assert losses.get(loss) is loss  # a Loss passes through
    assert losses.get(losses.get("huber"), delta=2.0).params == {"delta": 2.0}
    assert formula.parse("(p-y)**2") is formula.parse("(p-y)**2")  # parsed once
    with pytest.raises(ValueError, match="no parameter"):
        losses.get("custom", delta=1.0)
    with pytest.raises(FormulaError, match="unknown name 'os'"):
        losses.get("custom", formula="os")
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        losses.get("nope")
    assert "custom" not in losses.LOSSES  # the catalogue and its tables are unchanged


# ----------------------------------------------------------------------------------------
# Built-in losses typed as formulas train to the same history


def data(name, n=120, seed=1):
    d = datasets.DATASETS[name]
    return d.generate(n, d.default_noise, np.random.default_rng(seed))


SAME_HISTORY = [
    # dataset, problem, activation, key, formula, columns, rtol
    ("sine", "regression", "linear", "mse", "(p - y)**2", None, 1e-12),
    ("outliers", "regression", "linear", "mae", "abs(p - y)", None, 1e-12),
    ("moons", "binary", "sigmoid", "mse", "(p - y)**2", None, 1e-12),
    # the built-in takes the fused logit path: equal to rounding
    ("moons", "binary", "sigmoid", "bce", "-(y*log(p) + (1 - y)*log(1 - p))", None, 1e-10),
    ("blobs", "multiclass", "softmax", "cce", "-y*log(p)", None, 1e-10),
    # Keras' Poisson is p - y log(p + 1e-7): 1e-7 / p apart
    ("poisson", "counts", "exp", "poisson", "p - y*log(p)", None, 1e-5),
    # the typed hinge reads its score at 0.5 unless fit is told 0 (next test)
    ("moons", "binary", "linear", "hinge", "maximum(0, 1 - (2*y - 1)*p)",
     ("loss", "grad_norm"), 1e-12),
    ("outliers", "regression", "linear", "pinball", "maximum(0.9*(y - p), -0.1*(y - p))",
     None, 1e-12),
]
PARAMS = {"pinball": {"tau": 0.9}}


@pytest.mark.parametrize(("dataset", "problem", "activation", "key", "text", "columns", "rtol"),
                         SAME_HISTORY, ids=[c[3] for c in SAME_HISTORY])
def test_typed_builtins_train_like_the_registry(dataset, problem, activation, key, text,
                                                columns, rtol):
    X, y = data(dataset)
    settings_ = dict(problem=problem, hidden=(8,), output_activation=activation, epochs=25,
                     batch_size=16, lr=0.01, seed=3, validation_data=(X[:30], y[:30]))
    _, builtin = explorer.fit(X, y, loss=key, loss_params=PARAMS.get(key), **settings_)
    model, typed = explorer.fit(X, y, loss=losses.custom(text), **settings_)
    assert builtin.attrs["divergence"] is None and typed.attrs["divergence"] is None
    for column in columns or [c for c in builtin.columns if c != "epoch"]:
        np.testing.assert_allclose(typed[column], builtin[column], rtol=rtol, err_msg=column)
    # the model keeps (key, params) and rebuilds the same loss
    assert model.loss == "custom" and model.loss_params == {"formula": text}
    assert model.objective(y).loss is formula.parse(text)


def test_the_typed_hinge_needs_fit_told_its_threshold():
    """A typed loss reads one output at 0.5 (it cannot know it is a margin score); fit's
    threshold=0 reads it as the built-in hinge does, and then every column agrees."""
    X, y = data("moons")
    settings_ = dict(problem="binary", hidden=(8,), output_activation="linear", epochs=25,
                     batch_size=16, lr=0.01, seed=3)
    typed_loss = losses.custom("maximum(0, 1 - (2*y - 1)*p)")
    _, builtin = explorer.fit(X, y, loss="hinge", **settings_)
    model, at_half = explorer.fit(X, y, loss=typed_loss, **settings_)
    assert model.threshold == 0.5
    np.testing.assert_array_equal(model.predict_class(X), (model.predict(X) > 0.5).astype(int))
    model, at_zero = explorer.fit(X, y, loss=typed_loss, threshold=0.0, **settings_)
    assert model.threshold == 0.0
    for column in builtin.columns:
        np.testing.assert_allclose(at_zero[column], builtin[column], rtol=1e-12)
    assert not np.allclose(at_half["accuracy"], builtin["accuracy"])


def test_fit_takes_the_key_and_params_too():
    X, y = data("sine")
    _, by_object = explorer.fit(X, y, loss=losses.custom("abs(p - y)**1.5"), epochs=5, seed=2)
    _, by_key = explorer.fit(X, y, loss="custom", loss_params={"formula": "abs(p - y)**1.5"},
                             epochs=5, seed=2)
    np.testing.assert_array_equal(by_object["loss"], by_key["loss"])


# ----------------------------------------------------------------------------------------
# The pairing rule's three answers, for every built-in triple


SERVED = [(problem, activation, key) for problem in losses.PROBLEMS
          for activation in activations.OUTPUT_ACTIVATIONS
          for key in losses.for_problem(problem)]


@pytest.fixture(scope="module")
def answers():
    return {triple: pairing.rule_answers(*triple) for triple in SERVED}


def domain_invalid(problem, activation, key):
    """The loss's domain does not contain the activation's range (the table's own test is
    pairing._invalid; this one is written out independently)."""
    a_lo, a_hi = activations.get(activation).output_range
    l_lo, l_hi = losses.get(key).prediction_range
    reaches_zero = activation == "relu"  # Poisson's log p needs p > 0; ReLU outputs 0
    return a_lo < l_lo or a_hi > l_hi or (key == "poisson" and reaches_zero)


def test_matched_pairs_answer_all_three_questions_yes(answers):
    matched = [t for t in SERVED if pairing.check(*t).verdict == "matched"]
    assert len(matched) == 15  # focal + sigmoid is not: its optimum is not P(y = 1)
    for triple in matched:
        result = answers[triple]
        assert result.optimum.ok, (triple, result.optimum.sentence)
        assert result.defined.ok, (triple, result.defined.sentence)
        assert result.gradient.ok, (triple, result.gradient.sentence)


def test_invalid_pairs_fail_an_answer_and_domain_ones_fail_question_2(answers):
    for triple in SERVED:
        if pairing.check(*triple).verdict != "invalid":
            continue
        assert not answers[triple].holds, triple
        if domain_invalid(*triple):
            assert not answers[triple].defined.ok, triple
            assert answers[triple].defined.undefined_at is not None


SATURATING_MISMATCHES = [
    ("binary", "sigmoid", "mse"), ("binary", "tanh", "mse"), ("binary", "tanh", "hinge"),
    ("binary", "tanh", "squared_hinge"), ("multiclass", "softmax", "mse"),
    ("multiclass", "softmax", "categorical_hinge"), ("multiclass", "tanh", "categorical_hinge"),
    ("counts", "exp", "msle"), ("counts", "softplus", "msle"), ("counts", "exp", "mse"),
]


@pytest.mark.parametrize("triple", SATURATING_MISMATCHES)
def test_saturating_mismatches_vanish(answers, triple):
    gradient = answers[triple].gradient
    assert not gradient.ok and any(case.vanishes for case in gradient.cases)
    assert "vanishes" in gradient.sentence


def test_question_3_covers_the_probe(answers):
    for triple in SERVED:
        if pairing.probe(*triple).vanishes:
            assert not answers[triple].gradient.ok, triple


def test_no_mismatched_pair_passes_all_three(answers):
    """Linear + MSE on labels or counts used to: its optimum is P(y = 1) or the rate, but
    through an output that can leave [0, 1] or go negative (question 1 says so now)."""
    passing = {t for t in SERVED if pairing.check(*t).verdict == "mismatched"
               and answers[t].holds}
    assert passing == set()
    for triple in [("binary", "linear", "mse"), ("multiclass", "linear", "mse"),
                   ("counts", "linear", "mse")]:
        assert answers[triple].optimum.kind in ("probability off range", "rate off range")


def test_optimum_numbers_pinned(answers):
    def minimisers(triple):
        return [c.minimiser[0] for c in answers[triple].optimum.cases]

    # a proper scoring rule is lowest at P(y = 1); focal is pulled towards 0.5
    np.testing.assert_allclose(minimisers(("binary", "sigmoid", "bce")), (0.1, 0.3, 0.7, 0.9),
                               atol=0.002)
    np.testing.assert_allclose(minimisers(("binary", "sigmoid", "mse")), (0.1, 0.3, 0.7, 0.9),
                               atol=0.002)
    # focal (gamma 2), minimised by hand on a grid of p: 0.306, 0.422, 0.578, 0.694
    p = np.linspace(1e-4, 1 - 1e-4, 200001)
    by_hand = [p[np.argmin(-q * (1 - p) ** 2 * np.log(p) - (1 - q) * p ** 2 * np.log1p(-p))]
               for q in (0.1, 0.3, 0.7, 0.9)]
    np.testing.assert_allclose(minimisers(("binary", "sigmoid", "focal")), by_hand, atol=0.002)
    assert minimisers(("binary", "linear", "hinge")) == pytest.approx([-1, -1, 1, 1])
    # regression: the skewed sample's mean 0.99 (MSE) and median 0.69 (MAE)
    mean, median = pairing.SKEWED.mean(), np.median(pairing.SKEWED)
    assert minimisers(("regression", "linear", "mse"))[-1] == pytest.approx(mean, abs=0.006)
    assert minimisers(("regression", "linear", "mae"))[-1] == pytest.approx(median, abs=0.01)
    assert median < minimisers(("regression", "linear", "huber"))[-1] < mean
    # counts: Poisson finds the mean 0.5, 2.5, 6; MAE the median 0, 2, 6 (0 is unreachable)
    np.testing.assert_allclose(minimisers(("counts", "exp", "poisson")), pairing.RATES,
                               rtol=0.006)
    mae = answers[("counts", "exp", "mae")].optimum.cases
    assert mae[0].at_edge and mae[1].minimiser[0] == pytest.approx(2.0, rel=0.01)
    softmax = answers[("multiclass", "softmax", "cce")].optimum.cases
    for case in softmax:
        np.testing.assert_allclose(case.minimiser, case.wanted, atol=0.02)


def test_categorical_hinge_without_a_majority_class_ties(monkeypatch):
    """With no class above 1/2, Keras' categorical hinge is lowest at equal scores: why
    CLASS_MIXES all have a majority class (Crammer-Singer's known inconsistency)."""
    monkeypatch.setattr(pairing.measured, "CLASS_MIXES", ((0.3, 0.4, 0.3), (0.25, 0.45, 0.3)))
    result = pairing.rule_answers("multiclass", "linear", "categorical_hinge")
    for case in result.optimum.cases:
        assert case.minimiser == pytest.approx((0.0, 0.0, 0.0))
    assert not result.optimum.ok


def test_answers_read_as_sentences_with_numbers(answers):
    result = answers[("binary", "sigmoid", "mse")]
    optimum, defined, gradient = result.sentences
    assert "0.1, 0.3, 0.7, 0.9" in optimum and "probability of class 1" in optimum
    assert "finite" in defined and "[−8, 8]" in defined
    assert "vanishes" in gradient and "z = -8" in gradient
    bad = answers[("binary", "linear", "bce")].defined
    assert bad.undefined_at[0] == -8.0 and "NaN" in bad.sentence


def test_the_table_refuses_a_typed_formula_and_the_chain_shows_its_derivative():
    with pytest.raises(ValueError, match="rule_answers"):
        pairing.check("binary", "sigmoid", "custom")
    typed = losses.custom("(p - y)**2")
    assert pairing.gradient_at_z("sigmoid", typed) == r"\left(2 p - 2 y\right)\cdot p(1 - p)"
    assert pairing.gradient_at_z("linear", typed) == "2 p - 2 y"
    assert pairing.gradient_at_z("linear", losses.get("mse")) == "2(p - y)"  # its table row


def test_rule_answers_refuse_bad_arguments():
    with pytest.raises(ValueError, match="unknown problem"):
        pairing.rule_answers("ranking", "linear", "mse")
    with pytest.raises(ValueError, match="not an output activation"):
        pairing.rule_answers("binary", "leaky_relu", "bce")
    with pytest.raises(ValueError, match="does not serve"):
        pairing.rule_answers("regression", "sigmoid", "bce")


def test_rule_answers_for_a_typed_formula_agree_with_its_builtin(answers):
    for triple, text in [(("binary", "sigmoid", "bce"), "-(y*log(p) + (1 - y)*log(1 - p))"),
                         (("binary", "sigmoid", "mse"), "(p - y)**2"),
                         (("regression", "linear", "mae"), "abs(p - y)"),
                         (("counts", "exp", "poisson"), "p - y*log(p)"),
                         (("multiclass", "softmax", "cce"), "-y*log(p)")]:
        typed = pairing.rule_answers(triple[0], triple[1], losses.custom(text))
        builtin = answers[triple]
        assert (typed.optimum.ok, typed.defined.ok, typed.gradient.ok) == (
            builtin.optimum.ok, builtin.defined.ok, builtin.gradient.ok), triple
        for a, b in zip(typed.optimum.cases, builtin.optimum.cases):
            np.testing.assert_allclose(a.minimiser, b.minimiser, atol=0.011)


# ----------------------------------------------------------------------------------------
# The examples: every lesson checked with numbers


def test_examples_parse_and_are_listed():
    assert [e.key for e in formula.EXAMPLES] == ["cauchy", "cubic", "ce_without_negatives",
                                                 "pinball", "broken_log", "bce_by_hand"]
    for entry in formula.EXAMPLES:
        formula.parse(entry.formula)
        assert entry.problem in datasets.DATASETS[entry.dataset].problems
        assert entry.lesson.endswith(".")
    with pytest.raises(ValueError, match="unknown example"):
        formula.example("nope")


def line_fit_distance(loss, seed):
    """RMS distance of a linear model's fit to the outliers' clean line y = 0.8x - 0.5."""
    X, y = datasets.outliers(200, 0.2, np.random.default_rng(seed))
    model, history = explorer.fit(X, y, problem="regression", hidden=(), loss=loss, epochs=300,
                                  lr=0.05, batch_size=200, seed=seed)
    assert history.attrs["divergence"] is None
    grid = np.linspace(-2.5, 2.5, 101)[:, None]
    clean = datasets.OUTLIER_SLOPE * grid[:, 0] + datasets.OUTLIER_INTERCEPT
    return float(np.sqrt(np.mean((model.predict(grid) - clean) ** 2)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cauchy_ignores_outliers_and_the_cube_chases_them(seed):
    mse = line_fit_distance("mse", seed)
    cauchy = line_fit_distance(losses.custom(formula.example("cauchy").formula), seed)
    cubic = line_fit_distance(losses.custom(formula.example("cubic").formula), seed)
    assert cauchy * 10 < mse  # measured 0.032 vs 0.55, 0.008 vs 0.47, 0.011 vs 0.46
    assert 1.7 < cubic / mse < 2.6  # measured 2.1, 2.3, 2.3


def test_the_cube_estimates_beyond_the_mean():
    result = pairing.rule_answers("regression", "linear", losses.custom("abs(y - p)**3"))
    centre = result.optimum.cases[-1].minimiser[0]
    assert centre > pairing.SKEWED.mean() + 0.2  # measured 1.28 against 0.99
    assert "beyond the mean" in result.optimum.estimates


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_entropy_without_negatives_predicts_class_one_everywhere(seed):
    X, y = datasets.moons(200, 0.15, np.random.default_rng(seed))
    model, history = explorer.fit(X, y, problem="binary", hidden=(16,),
                                  loss=losses.custom("-y*log(p)"), epochs=100, seed=seed)
    assert np.all(model.predict(X) > 0.9)  # measured min 0.97
    assert history["accuracy"].iloc[-1] == pytest.approx(np.mean(y))
    result = pairing.rule_answers("binary", "sigmoid", losses.custom("-y*log(p)"))
    assert all(c.at_edge and c.minimiser[0] > 0.999 for c in result.optimum.cases)
    assert result.optimum.degenerate  # the same edge p -> 1 for every label share
    no_class_zero = next(c for c in result.gradient.probes if c.z == 8.0)
    assert no_class_zero.target == 0 and no_class_zero.gradient == 0.0


@pytest.mark.parametrize(("dataset", "seed"), [("heteroscedastic", 0), ("heteroscedastic", 1),
                                               ("sine", 2)])
def test_pinball_estimates_the_90th_percentile(dataset, seed):
    text = formula.example("pinball").formula
    X, y = datasets.DATASETS[dataset].generate(300, datasets.DATASETS[dataset].default_noise,
                                               np.random.default_rng(seed))
    model, _ = explorer.fit(X, y, problem="regression", hidden=(16,), loss=losses.custom(text),
                            epochs=300, seed=seed)
    assert 0.85 <= np.mean(y < model.predict(X)) <= 0.95  # measured 0.88, 0.87, 0.90
    centre = pairing.rule_answers("regression", "linear",
                                  losses.custom(text)).optimum.cases[-1].minimiser[0]
    assert centre == pytest.approx(np.quantile(pairing.SKEWED, 0.9), abs=0.02)


def test_the_broken_log_stops_in_epoch_one_and_has_no_minimum():
    loss = losses.custom("log(p - y)")
    X, y = data("sine")
    _, history = explorer.fit(X, y, hidden=(16,), loss=loss, epochs=50)
    divergence = history.attrs["divergence"]
    assert divergence["epoch"] == 1 and divergence["reason"] == "formula undefined"
    assert "your formula" in divergence["message"] and "learning rate" not in (
        divergence["message"])
    result = pairing.rule_answers("regression", "linear", loss)
    assert not result.defined.ok and result.defined.undefined_share > 0.4
    assert all(c.at_edge for c in result.optimum.cases)
    assert "no minimum" in result.optimum.estimates and "keeps falling" in (
        result.optimum.estimates)
    value, _ = loss._elements(np.array([[1.0, 1.0]]), np.array([[1.0 + 1e-3, 1.0 + 1e-9]]))
    assert value[0, 1] < value[0, 0] < -6  # falls without bound as p comes down to y


def test_bce_by_hand_matches_the_builtin_inside_the_clipping():
    X, y = data("moons", n=200)
    settings_ = dict(problem="binary", hidden=(16,), epochs=60, seed=5)
    model, builtin = explorer.fit(X, y, loss="bce", **settings_)
    _, typed = explorer.fit(X, y, loss=losses.custom(formula.example("bce_by_hand").formula),
                            **settings_)
    p = model.predict(X)
    assert p.min() > 1e-7 and p.max() < 1 - 1e-7
    np.testing.assert_allclose(typed["loss"], builtin["loss"], rtol=1e-12)
    assert math.isclose(typed["accuracy"].iloc[-1], builtin["accuracy"].iloc[-1])


def test_a_likelihood_needs_a_normaliser_that_does_not_depend_on_p():
    """exp(-L) of hinge, summed over the labels, depends on p: no constant turns it into a
    probability of y for every p (hinge is no likelihood). BCE's sums to 1 for every p."""
    def mass(loss, p):
        return sum(np.exp(-loss.per_sample(np.array([[y]]), np.array([[p]])))[0]
                   for y in (0.0, 1.0))
    hinge = losses.get("hinge")
    assert mass(hinge, 0.0) == pytest.approx(2 * np.exp(-1.0))
    assert mass(hinge, 2.0) == pytest.approx(1.0 + np.exp(-3.0))  # differs: no likelihood
    bce = losses.get("bce")
    for p in (0.2, 0.5, 0.9):
        assert mass(bce, p) == pytest.approx(1.0)
    sentence = losses.custom("maximum(0, 1 - (2*y - 1)*p)").likelihood_sentence
    assert "does not depend on p" in sentence


def test_the_rule_text_says_what_judge_does():
    """Invalid needs every confidently wrong answer to get no gradient (or a degenerate
    optimum): -y*log(p) through a sigmoid gets one (y = 1) and not the other (y = 0), and is
    invalid for being degenerate."""
    from explorer.ui import custom

    result = pairing.formula_pairing("binary", "sigmoid", "-y*log(p)")
    sizes = {c.target: abs(c.gradient) for c in result.answers.gradient.probes
             if abs(c.z) == pairing.WRONG_Z}
    assert sizes[0.0] == 0.0 and sizes[1.0] > 0.5
    assert result.verdict == "invalid" and result.answers.optimum.degenerate
    assert "no confidently wrong answer gets any gradient" in custom.RULE
    assert "degenerate" in custom.RULE
    assert "a confidently wrong answer gets no gradient at all" not in custom.RULE
