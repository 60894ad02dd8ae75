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


@pytest.mark.parametrize("problem", losses.PROBLEMS)
def test_default_pair_is_matched(problem):
    activation, loss = pairing.DEFAULT_PAIR[problem]
    assert pairing.check(problem, activation, loss).verdict == "matched"
    assert pairing.matched_activation(problem, loss) == activation


@pytest.mark.parametrize("problem", losses.PROBLEMS)
def test_natural_pairs_are_matched_and_everything_else_is_not(problem):
    for (activation, loss), verdict in pairing.matrix(problem).items():
        assert (verdict.verdict == "matched") == ((activation, loss) in pairing.NATURAL[problem])
    assert set(pairing.matrix(problem)) == {
        (a, key) for a in activations.OUTPUT_ACTIVATIONS for key in losses.for_problem(problem)}


def test_known_verdicts():
    sigmoid_mse = pairing.check("binary", "sigmoid", "mse")
    assert sigmoid_mse.verdict == "mismatched"
    assert "vanish" in sigmoid_mse.headline and "saturates" in sigmoid_mse.reason
    assert "p\\,(1 - p)" in sigmoid_mse.reason  # the factor that vanishes, as a formula
    linear_bce = pairing.check("binary", "linear", "bce")
    assert linear_bce.verdict == "invalid" and "log" in linear_bce.reason
    assert "sigmoid" in linear_bce.reason
    assert pairing.check("multiclass", "softmax", "cce").verdict == "matched"
    assert "p − y" in pairing.check("multiclass", "softmax", "cce").reason
    assert pairing.check("counts", "exp", "poisson").verdict == "matched"
    assert pairing.check("regression", "linear", "bce").verdict == "invalid"
    assert pairing.check("binary", "tanh", "hinge").verdict == "matched"
    assert pairing.check("regression", "sigmoid", "mse").headline == (
        "Sigmoid cannot reach every target")
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


def test_gradient_at_z_names_the_canonical_shortcut():
    assert pairing.gradient_at_z("sigmoid", "bce") == "p - y"
    assert pairing.gradient_at_z("exp", "poisson") == "p - y"
    assert "J" in pairing.gradient_at_z("softmax", "kld")
    for activation in activations.OUTPUT_ACTIVATIONS:
        for loss in losses.LOSSES:
            assert pairing.gradient_at_z(activation, loss)


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
    return "domain"


INVALID = [t for t in TRIPLES if pairing.check(*t).verdict == "invalid"]


@pytest.mark.parametrize("kind", ["domain", "targets", "single softmax"])
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
            assert np.all(history["grad_norm"] == 0.0)
        else:  # outputs leave the loss's domain: the run stops with that reason
            assert "NaN" in reason
            lo, hi = losses.get(loss).prediction_range
            out_lo, out_hi = activations.get(activation).output_range
            assert out_lo < lo or out_hi > hi
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


def test_sigmoid_cross_entropy_on_classes_blames_the_wrong_classes_not_vanishing():
    verdict = pairing.check("multiclass", "sigmoid", "cce")
    assert verdict.verdict == "mismatched"
    assert "never pushed down" in verdict.headline
    assert "does not vanish" in verdict.reason and "zero gradient" in verdict.reason


def test_reasons_use_the_right_article():
    for problem in ("regression", "binary", "multiclass", "counts"):
        for p in pairing.matrix(problem).values():
            assert " A exponential" not in p.reason and " a exponential" not in p.reason
