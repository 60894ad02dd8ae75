"""The lessons' words: for each lesson, what a student reads (a title, one sentence, what to
watch for, and the fuller explanation) and the claims that back them, each a measured
sentence with its measurement (``measurements``) and bound.

Every sentence here must stay true on the lesson's seed and on other seeds:
``explorer.presets.verify`` checks the claims, and the summary, "watch for" and explanation
promise nothing the claims do not measure.
"""

from __future__ import annotations

import numpy as np

from explorer.claims import THIS, Claim, at_epoch, at_least, at_most, final
from explorer.config import default_for
from explorer.lessons import measurements as m
from explorer.lessons import questions as q
from explorer.lessons import scenarios as s
from explorer.lessons.preset import Preset

SATURATED_CLAIMS = (
    at_least(0.9, "At the initial weights at least 0.9 of the training outputs are saturated "
                  "(p < 0.05 or p > 0.95).", lambda runs: m.saturated_share(runs["mse"])),
    at_least(0.1, "At the initial weights at least 0.1 of the training outputs are saturated "
                  "on the wrong side.", lambda runs: float(np.mean(m.wrong_side(runs["mse"])))),
)


LESSONS: tuple[Preset, ...] = (
    Preset(
        key="matched_binary", title="Sigmoid + cross-entropy on two moons",
        summary="Sigmoid + cross-entropy is the matched pair for two classes: the loss "
                "falls fast and the boundary bends around the moons.",
        watch_for="the loss dropping to a tenth of its first value within 50 epochs "
                  "while the boundary wraps around each moon.",
        explanation="The matched pair for two classes. The loss falls fast: within 50 epochs "
                    "to under a tenth of its first-epoch value, with validation accuracy at "
                    "0.97 or more. The boundary has to bend around the moons: logistic "
                    "regression (no hidden layer) on the same data ends at least 0.05 lower. "
                    "At the output's pre-activation the gradient is simply p − y.",
        config=s.binary(),
        question=q.MATCHED_BINARY,
        claims=(
            at_most(0.1, "Training loss after 50 epochs / training loss in epoch 1 ≤ 0.1.",
                    lambda runs: at_epoch(runs[THIS], "loss", 50)
                    / at_epoch(runs[THIS], "loss", 1)),
            at_least(0.97, "Validation accuracy after 50 epochs ≥ 0.97.",
                     lambda runs: at_epoch(runs[THIS], "val_accuracy", 50)),
            at_least(0.05, "Final validation accuracy: this network − logistic regression "
                           "(no hidden layer, same data) ≥ 0.05.",
                     lambda runs: final(runs[THIS], "val_accuracy")
                     - final(runs["no_hidden"], "val_accuracy")),
            at_most(1e-12, "On every training point, at the final weights, |dL/dz| equals |p − y| "
                           "to within 1e-12.", m.bce_grad_is_p_minus_y),
        ),
        comparisons=(("no_hidden", s.binary(hidden=())),),
    ),
    Preset(
        key="why_not_mse", title="Why not MSE for classification",
        summary="From a saturated start, a sigmoid output learns slowly with squared "
                "error: its gradient carries the factor p(1 − p), nearly 0 wherever the "
                "sigmoid is saturated.",
        watch_for="the race: cross-entropy passes 95 % validation accuracy within 30 "
                  "epochs, while MSE, from the same start, is at least 10 points "
                  "behind.",
        explanation="Ten times the usual initial weights saturate the sigmoid: at the start "
                    "at least 90% of the training outputs are below 0.05 or above 0.95, and "
                    "at least 10% are saturated on the wrong side. With squared error the "
                    "gradient at the output's pre-activation is 2(p − y)·p(1 − p), near 0 "
                    "wherever p is near 0 or 1: in the first epoch MSE's gradient norm is "
                    "under a tenth of cross-entropy's. After 30 epochs from the same start, "
                    "cross-entropy is at 0.95 validation accuracy or more and MSE at least "
                    "0.1 behind. MSE is not wrong for probabilities: on 0/1 labels it is the "
                    "Brier score, mean (p − y)². Its trouble is the gradient through a "
                    "saturated sigmoid.",
        config=s.SATURATED.replace(loss="mse"),
        question=q.WHY_NOT_MSE,
        view="Compare",
        claims=(
            *SATURATED_CLAIMS,
            at_most(1e-12, "On every training point, at the initial weights, sigmoid + MSE's "
                           "|dL/dz| equals |2(p − y)p(1 − p)| to within 1e-12.",
                    m.mse_grad_formula_error),
            at_most(0.1, "Gradient norm in epoch 1: MSE / cross-entropy ≤ 0.1.",
                    m.first_epoch_grad_ratio),
            at_least(0.95, "Cross-entropy's validation accuracy after 30 epochs ≥ 0.95.",
                     lambda runs: at_epoch(runs["bce"], "val_accuracy", 30)),
            at_least(0.1, "Validation accuracy after 30 epochs: cross-entropy − MSE ≥ 0.1.",
                     m.gap("val_accuracy", 30, "bce", "mse")),
            at_most(1e-12, "|MSE's final validation loss − mean (p − y)² over the "
                           "validation points| ≤ 1e-12.", m.brier_identity),
        ),
        comparisons=(("mse", s.SATURATED.replace(loss="mse")), ("bce", s.SATURATED)),
    ),
    Preset(
        key="why_not_mse_bce", title="...and the same start with cross-entropy",
        summary="The same saturated start with cross-entropy: its gradient p − y is "
                "largest exactly where the model is confidently wrong.",
        watch_for="validation accuracy reaching 95 % or more within 30 epochs from this "
                  "saturated start.",
        explanation="Identical data, network and initial weights as the MSE preset; only the "
                    "loss differs. Cross-entropy's gradient at the output's pre-activation is "
                    "p − y, largest exactly where the model is confidently wrong: on the "
                    "points saturated on the wrong side at the start it is on average at "
                    "least 10 times MSE's. Validation accuracy is at 0.95 or more after 30 "
                    "epochs.",
        config=s.SATURATED,
        question=q.WHY_NOT_MSE_BCE,
        claims=(
            at_most(0.0, "Data and initial weights are those of the MSE run: largest "
                         "difference 0.", m.same_start),
            *SATURATED_CLAIMS,
            at_least(10.0, "On points saturated on the wrong side at the start: mean "
                           "|dL/dz| of cross-entropy / that of MSE ≥ 10.",
                     m.wrong_side_grad_ratio),
            at_most(1e-12, "On every training point, at the initial weights, |dL/dz| equals "
                           "|p − y| to within 1e-12.",
                    lambda runs: m.bce_grad_is_p_minus_y(runs, "bce", 0)),
            at_least(0.95, "Validation accuracy after 30 epochs ≥ 0.95.",
                     lambda runs: at_epoch(runs["bce"], "val_accuracy", 30)),
        ),
        comparisons=(("mse", s.SATURATED.replace(loss="mse")), ("bce", s.SATURATED)),
    ),
    Preset(
        key="one_neuron_mse", title="One sigmoid neuron: MSE surface",
        summary="One sigmoid neuron has just two parameters, so this surface is the "
                "whole story: with MSE it is a flat plateau where the neuron is "
                "confidently wrong.",
        watch_for="the flat region around w = −10, b = 0: trained from there, MSE stays "
                  "below 20 % validation accuracy, while cross-entropy's surface slopes "
                  "down from the same point.",
        explanation="No hidden layer and one input: the network has exactly two parameters, a "
                    "weight w and a bias b, so this surface is the whole story and the path "
                    "on it is exact. Class 1 lies around x = +1, so at w = −10, b = 0 the "
                    "neuron is confidently wrong, and there MSE's surface is a plateau: the "
                    "loss is above 0.8 but its slope is below 0.01, where cross-entropy's "
                    "slope is above 0.5. Started there, 300 epochs of gradient descent leave "
                    "MSE below 0.2 validation accuracy, while cross-entropy from the same "
                    "point reaches 0.85. The surface is not a bowl: along b = 0 the loss at w "
                    "= −10 lies at least 0.2 above the chord from w = −20 to 0. Where this "
                    "run's own path starts depends on the seed.",
        config=s.ONE_NEURON.replace(loss="mse"),
        question=q.ONE_NEURON_MSE,
        view="Error surface",
        claims=(
            at_most(0.0, "The network has exactly 2 parameters (off by 0).",
                    lambda runs: abs(runs[THIS].model.network.n_params - 2)),
            at_least(0.8, "MSE's loss at (w, b) = (−10, 0) ≥ 0.8.",
                     lambda runs: m.surface_height(runs, THIS)),
            at_most(0.01, "Slope of MSE's surface at (w, b) = (−10, 0) ≤ 0.01.",
                    lambda runs: m.slope_at(runs, THIS)),
            at_least(0.5, "Slope of cross-entropy's surface at (w, b) = (−10, 0) ≥ 0.5.",
                     lambda runs: m.slope_at(runs, "bce")),
            Claim("Trained with MSE from (w, b) = (−10, 0): final validation accuracy "
                  "< 0.2.", m.accuracy_from(THIS), "<", 0.2),
            at_least(0.85, "Trained with cross-entropy from (w, b) = (−10, 0): final "
                           "validation accuracy ≥ 0.85.", m.accuracy_from("bce")),
            at_least(0.2, "Along b = 0: MSE's loss at w = −10 minus the midpoint of the "
                          "chord from w = −20 to w = 0 ≥ 0.2.", m.mse_bump_above_chord),
        ),
        comparisons=(("bce", s.ONE_NEURON),),
    ),
    Preset(
        key="one_neuron_bce", title="One sigmoid neuron: cross-entropy surface",
        summary="The same neuron with cross-entropy: a convex funnel, steep even where "
                "the neuron is confidently wrong, so gradient descent heads for the minimum.",
        watch_for="the path running down the funnel: this run, and one started at w = "
                  "−10, b = 0, both end at 85 % validation accuracy or more.",
        explanation="The same neuron with cross-entropy. Over |w| ≤ 20, |b| ≤ 10 its surface "
                    "is convex: a funnel rather than a quadratic bowl, because far out it "
                    "rises linearly (along b = 0 the rise from w = −20 to −30 equals the rise "
                    "from −10 to −20 within 5%). It is steep where the predictions are wrong "
                    "(slope above 0.5 at w = −10, b = 0), so gradient descent heads for the "
                    "minimum: this run ends at 0.85 validation accuracy or more, and so does "
                    "a start at w = −10, b = 0.",
        config=s.ONE_NEURON,
        question=q.ONE_NEURON_BCE,
        view="Error surface",
        claims=(
            at_most(1e-9, "Largest midpoint-convexity violation on a 21 × 21 grid of "
                          "w ∈ [−20, 20], b ∈ [−10, 10] (rows, columns, diagonals) "
                          "≤ 1e-9.", m.worst_convexity_violation),
            at_most(0.05, "Along b = 0: |rise from w = −20 to −30 / rise from −10 to −20 "
                          "− 1| ≤ 0.05.", m.linear_far_out),
            at_least(0.5, "Slope of the surface at (w, b) = (−10, 0) ≥ 0.5.",
                     lambda runs: m.slope_at(runs, THIS)),
            at_least(0.85, "Final validation accuracy ≥ 0.85.",
                     lambda runs: final(runs[THIS], "val_accuracy")),
            at_least(0.85, "Trained from (w, b) = (−10, 0): final validation accuracy "
                           "≥ 0.85.", m.accuracy_from(THIS)),
        ),
    ),
    Preset(
        key="loss_not_metric", title="The loss is not the metric",
        summary="The validation loss and the validation accuracy can disagree: the loss "
                "climbs back up while the accuracy stays where it was.",
        watch_for="the validation loss reaching its lowest in the first half of training, "
                  "then climbing, while validation accuracy ends within 3 points of where "
                  "it stood at that lowest loss.",
        explanation="Noisy moons, 200 training points, a roomy network. The validation loss "
                    "reaches its minimum within the first half of training, then climbs to at "
                    "least 1.5 times that minimum, while validation accuracy ends within 0.03 "
                    "of where it stood at the minimum, at 0.85 or more. Most of the final "
                    "validation loss sits on the points the network gets wrong: the "
                    "misclassified validation points carry more than half of it. "
                    "Cross-entropy punishes confident mistakes; accuracy only counts them.",
        config=s.binary(noise=0.3, val_share=0.5, hidden=(32, 32)),
        question=q.LOSS_NOT_METRIC,
        claims=(
            at_most(150, "Epoch of minimum validation loss ≤ 150 (of 300).",
                    m.best_loss_epoch),
            at_least(1.5, "Final validation loss / minimum validation loss ≥ 1.5.",
                     m.val_loss_rise),
            at_most(0.03, "|final validation accuracy − validation accuracy at the "
                          "epoch of minimum validation loss| ≤ 0.03.",
                    m.accuracy_move_since_best_loss),
            at_least(0.85, "Final validation accuracy ≥ 0.85.",
                     lambda runs: final(runs[THIS], "val_accuracy")),
            Claim("Share of the final validation loss carried by misclassified "
                  "validation points > 0.5.", m.wrong_points_loss_share, ">", 0.5),
        ),
    ),
    Preset(
        key="linear_bce_breaks", title="Linear output + BCE breaks",
        summary="Cross-entropy takes the log of p and of 1 − p, so it needs predictions "
                "between 0 and 1; a linear output leaves that range and the run breaks.",
        watch_for="the run stopping in its first epoch, with a message that says which "
                  "prediction fell outside and which output would fit.",
        explanation="Cross-entropy takes log p and log(1 − p), so it is defined only for "
                    "predictions from 0 to 1. A linear output is not confined there: in the "
                    "first epoch a prediction falls outside, the loss is NaN and the run "
                    "stops; the app says where and why.",
        config=s.binary(output_activation="linear"),
        question=q.LINEAR_BCE_BREAKS,
        claims=(
            at_most(1, "The run stops with a non-finite loss in epoch ≤ 1.",
                    m.diverged_in_epoch),
            at_least(1, "The app diagnoses the stop as a prediction outside the loss's "
                        "domain (1 = yes).", m.diverged_outside_domain),
        ),
    ),
    Preset(
        key="hinge", title="Hinge needs ±1 labels and a linear score",
        summary="Hinge loss wants a score whose sign is the class, reading the labels "
                "as −1 and +1; a point beyond the margin stops counting.",
        watch_for="most training points ending beyond the margin, where their gradient "
                  "is exactly 0; the boundary is where the score is 0, not 0.5.",
        explanation="Hinge loss is max(0, 1 − s·score), with the label used as s = −1 or +1. "
                    "It wants a score whose sign is the class, so the decision threshold is "
                    "0, not 0.5: classifying by sign gives at least 0.95 validation accuracy "
                    "here, and that is the accuracy the app reports. A point beyond the "
                    "margin (s·score ≥ 1) stops contributing: at the end at least 80% of the "
                    "training points are there, each with gradient exactly 0. The score must "
                    "be linear: a tanh output only approaches ±1, so no point gets clear of "
                    "the margin, and where it is confidently wrong its derivative kills the "
                    "gradient (at z = −5 for a class-1 point, under 0.001 of the linear "
                    "score's).",
        config=s.binary(output_activation="linear", loss="hinge"),
        question=q.HINGE,
        claims=(
            at_most(1e-9, "|final validation loss − mean max(0, 1 − s·score)| with "
                          "s = 2y − 1 ≤ 1e-9.", m.hinge_uses_plus_minus_one),
            at_least(0.95, "Validation accuracy of sign(score) (threshold 0) ≥ 0.95.",
                     m.sign_accuracy),
            at_most(0.0, "The reported validation accuracy is that of sign(score) (off by 0).",
                    lambda runs: abs(final(runs[THIS], "val_accuracy")
                                     - m.sign_accuracy(runs))),
            at_least(0.8, "Share of training points with s·score ≥ 1 at the end ≥ 0.8.",
                     m.beyond_margin_share),
            at_most(0.0, "Their largest |dL/dz| is 0.", m.beyond_margin_gradient),
            at_most(0.001, "|dL/dz| of hinge at z = −5, y = 1: tanh output / linear "
                           "output ≤ 0.001.",
                    lambda runs: m.hinge_grad_at("tanh", -5.0)
                    / m.hinge_grad_at("linear", -5.0)),
        ),
    ),
    Preset(
        key="spiral_softmax", title="Softmax + cross-entropy on a spiral",
        summary="Softmax turns three scores into probabilities that sum to 1, and "
                "cross-entropy pushes up the probability of the true class.",
        watch_for="the coloured regions following the spiral's arms as the true class's "
                  "mean probability rises from under 0.5 to over 0.9.",
        explanation="Three classes wound together. Softmax turns the three scores into "
                    "probabilities that compete: they sum to 1 at every point. Cross-entropy "
                    "pushes the right one up: on the training points the true class's mean "
                    "probability rises from under 0.5 at the start to over 0.9, and "
                    "validation accuracy ends at 0.9 or more.",
        config=default_for("multiclass").replace(hidden=(32, 32)),
        question=q.SPIRAL_SOFTMAX,
        claims=(
            at_most(1e-9, "On every validation point the probabilities sum to 1 within "
                          "1e-9.", m.probability_sum_error),
            Claim("Mean probability of the true class on training points at the start "
                  "< 0.5.", m.true_class_probability(0), "<", 0.5),
            Claim("Mean probability of the true class on training points at the end "
                  "> 0.9.", m.true_class_probability(None), ">", 0.9),
            at_least(0.9, "Final validation accuracy ≥ 0.9.",
                     lambda runs: final(runs[THIS], "val_accuracy")),
        ),
    ),
    Preset(
        key="outliers_mse", title="Outliers: MSE",
        summary="Squared error lets each outlier pull harder the further away it is, so "
                "the fitted line is dragged up towards them.",
        watch_for="the line ending above the bulk of the points: on average at least "
                  "0.3 above the true line.",
        explanation="A tenth of the points sit 3 to 6 above the line y = 0.8x − 0.5. Fitting "
                    "a line (no hidden layer) with squared error, each outlier pulls with a "
                    "force that grows with its error (mean |dL/dp| per outlier above 4), and "
                    "the fit ends on average at least 0.3 above the true line; Huber from the "
                    "same start stays within 0.2 of it. Yet RMSE on the training points ranks "
                    "MSE ahead of Huber: RMSE is the square root of the very quantity MSE "
                    "minimises, outliers included. On the validation inliers alone, Huber's "
                    "RMSE is lower by at least 0.1.",
        config=s.OUTLIERS,
        question=q.OUTLIERS_MSE,
        claims=(
            at_least(4.0, "Mean |dL/dp| per training outlier at the end ≥ 4.",
                     m.outlier_pull(THIS)),
            at_least(0.3, "Mean offset of MSE's fit above the true line over "
                          "x ∈ [−2.5, 2.5] ≥ 0.3.", m.offset_from_line(THIS, False)),
            at_most(0.2, "Mean |offset| of Huber's fit from the true line ≤ 0.2.",
                    m.offset_from_line("huber", True)),
            Claim("RMSE on all training points at the end: Huber − MSE > 0.",
                  m.rmse_gap(THIS, "huber", inliers_only=False, train=True), ">", 0.0),
            at_least(0.1, "Validation RMSE on inliers: MSE − Huber ≥ 0.1.",
                     m.rmse_gap("huber", THIS, inliers_only=True)),
        ),
        comparisons=(("huber", s.OUTLIERS.replace(loss="huber")),),
    ),
    Preset(
        key="outliers_huber", title="Outliers: Huber",
        summary="Huber squares small errors but counts large ones linearly, so each "
                "outlier pulls with a capped force and the line stays with the bulk of "
                "the data.",
        watch_for="the line ending within 0.2 of the true line on average, though the "
                  "outliers sit 3 to 6 above it.",
        explanation="Huber is quadratic for small errors and linear for large ones, so each "
                    "outlier pulls with the same constant force δ = 1 (mean |dL/dp| per "
                    "outlier at most 1, against above 4 for MSE). The line stays with the "
                    "bulk of the data: on average within 0.2 of the true line y = 0.8x − 0.5 "
                    "(the outliers still pull a little), while MSE's ends at least 0.3 above "
                    "it. On the validation inliers Huber's RMSE is lower than MSE's by at "
                    "least 0.1, yet on all the training points MSE's RMSE is lower: RMSE is "
                    "MSE's own criterion, outliers included.",
        config=s.OUTLIERS.replace(loss="huber"),
        question=q.OUTLIERS_HUBER,
        claims=(
            at_most(1.0, "Mean |dL/dp| per training outlier at the end ≤ 1.",
                    m.outlier_pull(THIS)),
            at_least(4.0, "Same for the MSE run ≥ 4.", m.outlier_pull("mse")),
            at_most(0.2, "Mean |offset| of Huber's fit from the true line over "
                         "x ∈ [−2.5, 2.5] ≤ 0.2.", m.offset_from_line(THIS, True)),
            at_least(0.3, "Mean offset of MSE's fit above the true line ≥ 0.3.",
                     m.offset_from_line("mse", False)),
            at_least(0.1, "Validation RMSE on inliers: MSE − Huber ≥ 0.1.",
                     m.rmse_gap(THIS, "mse", inliers_only=True)),
            Claim("RMSE on all training points at the end: Huber − MSE > 0.",
                  m.rmse_gap("mse", THIS, inliers_only=False, train=True), ">", 0.0),
        ),
        comparisons=(("mse", s.OUTLIERS),),
    ),
    Preset(
        key="imbalanced_focal", title="Imbalanced classes: what focal loss does",
        summary="With one point in ten in class 1, focal loss turns down the gradient "
                "of the points the model already gets right with confidence; that alone "
                "does not "
                "rebalance the classes.",
        watch_for="the minority recall: focal loss alone finds about as many class-1 "
                  "points as cross-entropy; its class weight α finds more, and a "
                  "threshold of 0.2 finds at least 85 %.",
        explanation="One point in ten is class 1, so answering 0 everywhere already scores "
                    "0.9 validation accuracy; the model ends at least 0.02 above that. "
                    "Focal loss multiplies each point's "
                    "cross-entropy by $(1 - p_t)^\\gamma$, $p_t$ being the probability given "
                    "to the true class: at the final weights, easy points ($p_t > 0.9$) get "
                    "under 5% "
                    "of the gradient cross-entropy would give them, in both classes. That is "
                    "not a class weight: minority recall stays within 0.1 of cross-entropy's "
                    "from the same start. Rebalancing is the job of focal loss's α (Lin et "
                    "al. 2017; with α = 0.9 on class 1, minority recall rises by at least "
                    "0.05) or of a lower threshold: at 0.2, at least 85% of the minority is "
                    "found.",
        config=s.IMBALANCED,
        question=q.IMBALANCED_FOCAL,
        claims=(
            at_least(0.89, "Share of class 0 among validation points ≥ 0.89.",
                     m.majority_share),
            at_least(0.02, "Final validation accuracy − share of class 0 among validation "
                           "points ≥ 0.02.",
                     lambda runs: final(runs[THIS], "val_accuracy") - m.majority_share(runs)),
            at_most(0.05, "Class 0, easy points (p_t > 0.9): focal's |dL/dz| / "
                          "cross-entropy's at the same weights ≤ 0.05.",
                    m.easy_gradient_ratio(0)),
            at_most(0.05, "Class 1, easy points (p_t > 0.9): focal's |dL/dz| / "
                          "cross-entropy's at the same weights ≤ 0.05.",
                    m.easy_gradient_ratio(1)),
            at_most(0.1, "Minority recall (threshold 0.5): focal within 0.1 of cross-entropy.",
                    lambda runs: abs(m.minority_recall(THIS)(runs)
                                     - m.minority_recall("bce")(runs))),
            at_least(0.05, "Minority recall (threshold 0.5): focal with α = 0.9 − focal "
                           "without α ≥ 0.05.", m.alpha_recall_gain),
            at_least(0.85, "Minority recall at threshold 0.2 ≥ 0.85.",
                     m.minority_recall(THIS, 0.2)),
        ),
        comparisons=(("bce", s.IMBALANCED.replace(loss="bce")),
                     ("alpha", s.IMBALANCED.replace(alpha=0.9))),
    ),
    Preset(
        key="calibrated_bce_mse", title="Calibration: BCE and MSE are proper",
        summary="Cross-entropy and MSE (the Brier score) are proper scoring rules: "
                "their best prediction is the true probability, so both end calibrated.",
        watch_for="the reliability diagram staying close to its diagonal: an expected "
                  "calibration error under 0.04.",
        explanation="Two moons (noise 0.3), 500 training and 500 validation points. Sigmoid + "
                    "cross-entropy and sigmoid + MSE (on 0/1 labels, the Brier score) are "
                    "both proper scoring rules: their optimum is the true class probability. "
                    "Both end calibrated on the validation points, with an expected "
                    "calibration error (ECE) under 0.04 and within 0.02 of each other, and a "
                    "Brier score under 0.05. Focal loss is not proper: from the same start it "
                    "ends under-confident, its mean confidence below its accuracy. MAE is not "
                    "offered for classification, and here is why: on labels with 30% ones the "
                    "constant that minimises MAE is 0, not 0.3, while MSE and cross-entropy "
                    "pick 0.3.",
        config=s.CALIBRATED,
        question=q.CALIBRATED_BCE_MSE,
        view="Calibration",
        claims=(
            at_most(0.04, "Validation ECE of sigmoid + cross-entropy ≤ 0.04.", m.ece(THIS)),
            at_most(0.04, "Validation ECE of sigmoid + MSE ≤ 0.04.", m.ece("mse")),
            at_most(0.02, "Validation ECE: cross-entropy within 0.02 of MSE.",
                    lambda runs: abs(m.ece(THIS)(runs) - m.ece("mse")(runs))),
            at_most(0.05, "Validation Brier score of cross-entropy ≤ 0.05.", m.brier(THIS)),
            at_most(0.05, "Validation Brier score of MSE ≤ 0.05.", m.brier("mse")),
            Claim("Focal loss (γ = 2), same start: validation confidence − accuracy < 0.",
                  m.overconfidence("focal"), "<", 0.0),
            at_most(0.0, "Constant minimising MAE on labels with 30% ones ≤ 0.",
                    lambda runs: m.best_constant("mae")),
            at_most(0.001, "The constant minimising MSE there is 0.3 within 0.001 (the grid step).",
                    lambda runs: abs(m.best_constant("mse") - m.LABEL_FREQUENCY)),
            at_most(0.001, "The constant minimising cross-entropy there is 0.3 within 0.001.",
                    lambda runs: abs(m.best_constant("bce") - m.LABEL_FREQUENCY)),
        ),
        comparisons=(("mse", s.CALIBRATED.replace(loss="mse")),
                     ("focal", s.CALIBRATED.replace(loss="focal"))),
    ),
    Preset(
        key="overconfident", title="A long run grows overconfident",
        summary="Trained too long on too few noisy points, a network grows "
                "overconfident: surer than it is right.",
        watch_for="the red gaps of the reliability diagram growing after their early "
                  "low: by the end the calibration error is at least twice its lowest.",
        explanation="Very noisy moons, only 200 training points, a roomy network and 800 "
                    "epochs. Calibration on the validation points is best early (the lowest "
                    "ECE comes within the first 100 epochs); by the end the ECE is at least "
                    "twice that lowest value, and the model is overconfident: its mean "
                    "confidence exceeds its validation accuracy by at least 0.05. On its own "
                    "training points it still looks calibrated (ECE under 0.04) and gets at "
                    "least 95% of them right: it has learned those points, noise and all. "
                    "Play the diagram: the red gaps, whose weighted mean is the ECE, widen.",
        config=s.OVERCONFIDENT,
        question=q.OVERCONFIDENT,
        view="Calibration",
        claims=(
            at_most(100, "Epoch of the lowest validation ECE among the snapshots ≤ 100.",
                    m.lowest_ece_epoch),
            at_least(2.0, "Final validation ECE / lowest validation ECE ≥ 2.", m.ece_growth),
            at_least(0.05, "Final validation confidence − accuracy ≥ 0.05.",
                     m.overconfidence(THIS)),
            at_most(0.04, "Final training ECE ≤ 0.04.", m.training_ece),
            at_least(0.95, "Final training accuracy ≥ 0.95.",
                     lambda runs: final(runs[THIS], "accuracy")),
        ),
    ),
    Preset(
        key="skewed_estimates", title="Mean, median, 90th percentile",
        summary="The loss decides what the fit estimates: MSE the mean, MAE the median, "
                "pinball with τ = 0.9 the 90th percentile.",
        watch_for="each thin fit lying along its own wide pale line, the true curve it "
                  "estimates.",
        explanation="The noise only pushes upwards, so the conditional mean, median and 90th "
                    "percentile are three different lines, drawn wide and pale under the fits "
                    "(the mean lies on average at least 0.2 above the median). On the same "
                    "data, from the same start, MSE lands on the mean, MAE on the median and "
                    "pinball with τ = 0.9 on the 90th percentile: each within 0.1, 0.1 and "
                    "0.3 of its own line on average, and at least 0.15 away from the others'. "
                    "Of the validation targets, 85% to 95% lie below the τ = 0.9 fit, and "
                    "within 0.1 of half below MAE's.",
        config=s.SKEWED,
        question=q.SKEWED_ESTIMATES,
        claims=(
            at_least(0.2, "Mean (true mean − true median) over x ∈ [−2.4, 2.4] ≥ 0.2.",
                     lambda runs: float(np.mean(m.truth(runs[THIS], "mean")
                                                - m.truth(runs[THIS], "0.5")))),
            at_most(0.1, "MSE: mean |fit − true mean| over x ∈ [−2.4, 2.4] ≤ 0.1.",
                    m.distance_to("mse", "mean")),
            at_least(0.15, "MSE: mean |fit − true median| ≥ 0.15.",
                     m.distance_to("mse", "0.5")),
            at_most(0.1, "MAE: mean |fit − true median| ≤ 0.1.",
                    m.distance_to("mae", "0.5")),
            at_least(0.15, "MAE: mean |fit − true mean| ≥ 0.15.",
                     m.distance_to("mae", "mean")),
            at_most(0.3, "Pinball τ = 0.9: mean |fit − true 90th percentile| ≤ 0.3.",
                    m.distance_to(THIS, "0.9")),
            at_least(0.15, "Pinball τ = 0.9: mean |fit − true mean| ≥ 0.15.",
                     m.distance_to(THIS, "mean")),
            at_least(0.85, "Share of validation targets below the τ = 0.9 fit ≥ 0.85.",
                     m.share_below(THIS)),
            at_most(0.95, "Share of validation targets below the τ = 0.9 fit ≤ 0.95.",
                    m.share_below(THIS)),
            at_most(0.1, "Share of validation targets below MAE's fit: 0.5 within 0.1.",
                    lambda runs: abs(m.share_below("mae")(runs) - 0.5)),
        ),
        comparisons=(("mse", s.SKEWED.replace(loss="mse")),
                     ("mae", s.SKEWED.replace(loss="mae"))),
    ),
    Preset(
        key="learned_noise", title="Growing noise: a learned σ",
        summary="A Gaussian negative log-likelihood lets the network predict its own "
                "uncertainty σ, and it learns that the scatter grows away from x = 0.",
        watch_for="the shaded band, mean ± 2σ, widening towards the edges and holding "
                  "at least 90 % of the validation points.",
        explanation="The scatter grows away from x = 0. The Gaussian NLL gives the network a "
                    "second output, the log-variance, and the σ it learns follows the data: "
                    "at the edges it is at least 4 times its value at the centre, and its "
                    "median ratio to the true σ is within 0.2 of 1. Mean ± 2σ holds at least "
                    "90% of the validation targets (a Gaussian puts 95.4% there). Without any "
                    "distribution, pinball τ = 0.1 and τ = 0.9 fits draw an 80% band: it "
                    "holds the validation targets within 0.07 of 80%.",
        config=s.GROWING,
        question=q.LEARNED_NOISE,
        claims=(
            at_least(4.0, "Mean learned σ for |x| ∈ [2, 2.4] / mean σ for |x| ≤ 0.25 ≥ 4.",
                     m.sigma_growth),
            at_most(0.2, "Learned σ / true σ, median over x ∈ [−2.4, 2.4]: 1 within 0.2.",
                    m.sigma_error),
            at_least(0.9, "Share of validation targets inside mean ± 2σ ≥ 0.9.",
                     m.sigma_coverage),
            at_most(0.07, "|share of validation targets between the τ = 0.1 and τ = 0.9 "
                          "fits − 0.8| ≤ 0.07.",
                    lambda runs: abs(m.band_coverage(runs) - 0.8)),
        ),
        comparisons=(("q10", s.GROWING.replace(loss="pinball", tau=0.1)),
                     ("q90", s.GROWING.replace(loss="pinball", tau=0.9))),
    ),
    Preset(
        key="counts_poisson", title="Counts: Poisson with an exp output",
        summary="Counts with an exp output and the Poisson loss: the fitted rate bends "
                "up with the counts and can never go negative.",
        watch_for="the fitted curve staying within 30 % of the true rate and above 0.2 "
                  "everywhere.",
        explanation="Counts whose spread grows with their mean (for x > 1 their standard "
                    "deviation is at least twice that for x < −1). With an exp output and no "
                    "hidden layer this is Poisson regression: the fitted rate stays within "
                    "30% of the true rate exp(0.8x + 1) over x ∈ [−2.5, 2.5], and it cannot "
                    "go negative (its lowest value there is above 0.2). The Poisson loss "
                    "leaves out log y!, so it can be negative: the final training loss is "
                    "below 0.",
        config=s.COUNTS,
        question=q.COUNTS_POISSON,
        claims=(
            at_least(2.0, "Std of the counts for x > 1 / std for x < −1 ≥ 2.",
                     m.spread_ratio),
            at_most(0.3, "Fitted rate / true rate over x ∈ [−2.5, 2.5]: 1 within 0.3 "
                         "everywhere.", m.rate_error),
            at_least(0.2, "Lowest prediction over x ∈ [−2.5, 2.5] ≥ 0.2.",
                     m.lowest_prediction(THIS)),
            Claim("Final training loss < 0.",
                  lambda runs: final(runs[THIS], "loss"), "<", 0.0),
        ),
    ),
    Preset(
        key="counts_mse", title="Counts: MSE with a linear output",
        summary="The same counts with squared error and a linear output: a straight "
                "line, which goes below 0, a count that cannot happen.",
        watch_for="the line's left end dipping below −0.5.",
        explanation="The same counts fitted with squared error and a linear output (no hidden "
                    "layer): a straight line. Squared error treats every count as equally "
                    "noisy, though their spread grows with the mean (for x > 1 the standard "
                    "deviation is at least twice that for x < −1), and nothing in a linear "
                    "output keeps it above 0: the line's lowest prediction over x ∈ [−2.5, "
                    "2.5] is below −0.5, a negative count. The Poisson preset's exp output "
                    "stays above 0.2 there.",
        config=s.COUNTS_MSE,
        question=q.COUNTS_MSE,
        claims=(
            at_least(2.0, "Std of the counts for x > 1 / std for x < −1 ≥ 2.",
                     m.spread_ratio),
            Claim("Lowest prediction over x ∈ [−2.5, 2.5] < −0.5.",
                  m.lowest_prediction(THIS), "<", -0.5),
            at_least(0.2, "Lowest prediction of the Poisson run there ≥ 0.2.",
                     m.lowest_prediction("poisson")),
        ),
        comparisons=(("poisson", s.COUNTS),),
    ),
)


GLOSSARY: dict[str, str] = {
    "pre-activation": "z, the output unit's input before its activation: p = activation(z)",
    "dL/dz": "how fast the loss changes with the output's pre-activation z: the gradient "
             "that training pushes back through the network",
    "dL/dp": "how fast the loss changes with the prediction p",
    "p_t": "the probability the model gives to a point's true class",
    "s·score": "the score times the label read as s = −1 or +1: at least 1 means beyond the "
               "margin",
    "ECE": "expected calibration error: the average gap between how confident the model is "
           "and how often it is right",
    "Brier": "the Brier score, the mean of (p − y)² over 0/1 labels",
    "RMSE": "root mean squared error, in the targets' units",
    "recall": "the share of a class's points that the model finds",
    "pinball": "the quantile loss: errors above the fit weigh τ, errors below 1 − τ",
    "convex": "bowl- or funnel-shaped: no bumps, so every way down leads to the minimum",
    "chord": "the straight line between two points of the curve; a convex curve never rises "
             "above it",
}
"""Short explanations of the words the lessons' details use, shown under them."""


def glossary_for(text: str) -> list[tuple[str, str]]:
    """(term, explanation) for each glossary term that ``text`` uses, in glossary order."""
    return [(term, meaning) for term, meaning in GLOSSARY.items() if term in text]
