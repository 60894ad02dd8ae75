"""Named scenarios: one click (or one ?preset=key link) sets up a lesson."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config import Config, default_for


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    lesson: str
    """What to look for, in two or three sentences."""
    config: Config
    view: str = "Train"


def _binary(**changes) -> Config:
    return default_for("binary").replace(**changes)


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in [
        Preset("matched_binary", "Sigmoid + cross-entropy on two moons",
               "The matched pair for two classes: the loss falls fast and the boundary bends "
               "around the moons. The gradient at the output is simply p − y.",
               _binary()),
        Preset("why_not_mse", "Why not MSE for classification",
               "Large initial weights saturate the sigmoid output, many points on the wrong "
               "side. With squared error the gradient there is (p − y)·p(1 − p) ≈ 0, so "
               "accuracy crawls; cross-entropy, from the very same start and batches, "
               "recovers within a few dozen epochs. (Tanh + hinge saturates too.)",
               _binary(loss="mse", hidden=(16,), init_scale=10.0, optimizer="sgd", lr=0.5),
               "Compare"),
        Preset("why_not_mse_bce", "…and the same start with cross-entropy",
               "Identical data, network, initial weights and batches as the MSE preset; only "
               "the loss differs. Cross-entropy's gradient at the output is p − y: largest "
               "exactly where the model is confidently wrong.",
               _binary(hidden=(16,), init_scale=10.0, optimizer="sgd", lr=0.5)),
        Preset("one_neuron_mse", "One sigmoid neuron: MSE surface",
               "No hidden layer and one input: the network has exactly two parameters, so the "
               "error surface is the whole story. It starts saturated on the wrong side, on "
               "MSE's flat plateau, and barely moves in 300 epochs.",
               _binary(dataset="overlap1d", noise=0.6, hidden=(), loss="mse", seed=5,
                       init_scale=10.0, optimizer="sgd", lr=1.0, batch_size=0),
               "Error surface"),
        Preset("one_neuron_bce", "One sigmoid neuron: cross-entropy surface",
               "The same neuron with cross-entropy: the surface is a convex bowl, steep where "
               "the predictions are wrong, so gradient descent rolls straight in.",
               _binary(dataset="overlap1d", noise=0.6, hidden=(), seed=5, init_scale=10.0,
                       optimizer="sgd", lr=1.0, batch_size=0), "Error surface"),
        Preset("loss_not_metric", "The loss is not the metric",
               "Noisy moons: after about 30 epochs the validation loss starts climbing, more "
               "than tripling, while validation accuracy barely moves. The network grows "
               "overconfident on the few points it gets wrong; cross-entropy punishes that, "
               "accuracy cannot see it.",
               _binary(noise=0.35)),
        Preset("linear_bce_breaks", "Linear output + BCE breaks",
               "Cross-entropy takes log p. A linear output can be negative, and the first "
               "negative prediction makes the loss undefined: the run stops with NaN and the "
               "app says where.",
               _binary(output_activation="linear")),
        Preset("hinge", "Hinge needs ±1 labels and a tanh/linear output",
               "Hinge loss wants a score whose sign is the class: labels 0/1 are used as −1/+1 "
               "and the boundary sits at output 0, not 0.5. Once a point is beyond the margin "
               "it stops contributing.",
               _binary(output_activation="tanh", loss="hinge")),
        Preset("spiral_softmax", "Softmax + cross-entropy on a spiral",
               "Three classes wound together: softmax turns the scores into probabilities "
               "that compete, and cross-entropy pushes the right one up.",
               default_for("multiclass").replace(hidden=(32, 32), epochs=400)),
        Preset("outliers_mse", "Outliers: MSE",
               "A few points far above a line. Squared error pulls the fit towards them; try "
               "MAE or Huber on the same data and compare the fitted line and the RMSE.",
               default_for("regression").replace(dataset="outliers", noise=0.2)),
        Preset("outliers_huber", "Outliers: Huber",
               "Huber is quadratic for small errors and linear for large ones, so the outliers "
               "pull with constant force and the line stays with the bulk of the data.",
               default_for("regression").replace(dataset="outliers", noise=0.2, loss="huber")),
        Preset("imbalanced_focal", "Imbalanced classes: focal loss",
               "Nine points in ten are class 0. Focal loss down-weights the easy majority so "
               "the rare class shapes the boundary; compare with plain BCE.",
               _binary(dataset="imbalanced", noise=0.6, loss="focal")),
        Preset("counts_poisson", "Counts: Poisson with an exp output",
               "Counts whose spread grows with their mean: the Poisson likelihood with an "
               "exponential output fits the rate curve and can never predict a negative count.",
               default_for("counts")),
        Preset("counts_mse", "Counts: MSE with a linear output",
               "Squared error treats every count as equally noisy and happily predicts "
               "negative counts on the left; compare with the Poisson preset.",
               default_for("counts").replace(output_activation="linear", loss="mse")),
    ]
}


def get(key: str) -> Preset:
    try:
        return PRESETS[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preset {key!r}; choose one of: {', '.join(PRESETS)}") from None
