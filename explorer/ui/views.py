"""The main area: the pair panel, the headline numbers and the views."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from explorer import activations, losses, metrics, pairing, presets
from explorer.experiment import Run
from explorer.ui import compute, state

PLOT_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
VERDICT_ICON = {"matched": "✅", "mismatched": "⚠️", "invalid": "⛔"}


def run_complete_marker(config) -> None:
    """An invisible marker naming the scenario just drawn: browser tests wait for it."""
    st.html(f'<span class="run-complete" data-run-key="{config.key()}" hidden></span>')


def header() -> None:
    st.title("Loss Function Explorer")
    st.caption("A loss is the negative log-likelihood of a model of the targets, so the output "
               "activation and the loss come as a pair. Pick one, train a small network, and "
               "watch what the pair does to learning.")
    for notice in st.session_state.get(state.NOTICES, []):
        st.warning(notice, icon="🔗")
    active = st.session_state.get(state.ACTIVE_PRESET)
    if active:
        preset = presets.get(active)
        st.info(f"**Lesson — {preset.title}.** {preset.lesson}", icon="🎓")


def pair_panel(run: Run) -> None:
    """Why this pair: likelihood, formula, gradient at the output's pre-activation."""
    config, verdict = run.config, run.pairing
    loss = losses.get(config.loss)
    act = activations.get(config.output_activation)
    with st.container(border=True):
        left, right = st.columns([1.15, 1])
        with left:
            st.markdown(f"#### {VERDICT_ICON[verdict.verdict]} {act.label} + {loss.label}: "
                        f"{verdict.verdict}")
            st.markdown(f"**{verdict.headline}.** {verdict.reason}")
        with right:
            st.markdown(f"**Likelihood:** {loss.likelihood}.  \n"
                        f"**Targets:** {loss.target_encoding}.")
            st.latex(rf"L(p, y) = {loss.formula}")
            st.latex(rf"p = {act.formula.replace('a(z)', 'a(z)')}")
            st.latex(rf"\frac{{\partial L}}{{\partial z}} = "
                     rf"{pairing.gradient_at_z(act.key, loss.key)}")


def headline_numbers(run: Run) -> None:
    history, problem = run.history, run.config.problem
    divergence = run.divergence
    if divergence:
        st.error(f"**Training stopped at epoch {divergence['epoch']}: "
                 f"{divergence['reason']}.** {divergence['message']}", icon="🧯")
    if not len(history):
        return
    last = history.iloc[-1]
    names = metrics.names(problem)
    cols = st.columns(2 + 2 * len(names))
    cols[0].metric("Train loss", _fmt(last["loss"]), help="Mean over the last epoch's batches.")
    cols[1].metric("Validation loss", _fmt(last.get("val_loss", np.nan)))
    for i, name in enumerate(names):
        label = metrics.LABELS[name]
        cols[2 + 2 * i].metric(f"Train {label}", _fmt(last[name], name))
        cols[3 + 2 * i].metric(f"Validation {label}", _fmt(last.get("val_" + name, np.nan),
                                                          name))


def _fmt(value, name: str = "") -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if name == "accuracy":
        return f"{value:.1%}"
    return f"{value:.4g}"


def train_view(run: Run) -> None:
    top = st.columns([1, 1, 1, 3])
    log_scale = top[0].toggle("Log-scale loss", key="log_scale",
                              help="Plateaus and tiny late improvements show up on a log axis.")
    fig = compute.training_figure(compute.key(run.config), log_scale)
    st.plotly_chart(fig, width="stretch", key="train_chart", config=PLOT_CONFIG)
    st.caption("Press ▶ Play to replay training; drag the slider to scrub through epochs. "
               "Filled points are training data, rings are validation data. "
               + _left_caption(run))
    _downloads(run)


def _left_caption(run: Run) -> str:
    problem = run.config.problem
    if run.data.X_train.shape[1] == 1:
        return "The black curve is the network's output over the input."
    if problem == "binary":
        if run.model.threshold == 0.0:
            return "The black contour is the decision boundary, output = 0 (hinge uses ±1)."
        return "The black contour is the decision boundary, p = 0.5."
    if problem == "multiclass":
        return "Each region takes the colour of its predicted class, paler where less sure."
    return "Colour shows the predicted value."


def _downloads(run: Run) -> None:
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button("History (CSV)", run.history.to_csv(index=False),
                       file_name="history.csv", mime="text/csv", key="download_history")
    c2.download_button("Configuration (JSON)",
                       json.dumps(run.config.to_query(), indent=2), file_name="config.json",
                       mime="application/json", key="download_config")


IDEAS = [
    ("Training is optimization",
     "Gradient descent searches the weights that make the loss small. The loss function is "
     "the objective; the loss is the number it returns for the current weights.",
     "matched_binary"),
    ("Maximum likelihood picks the loss",
     "Each standard loss is −log of a distribution of the targets: MSE ↔ Gaussian, binary "
     "cross-entropy ↔ Bernoulli, categorical cross-entropy ↔ categorical, Poisson ↔ counts, "
     "MAE ↔ Laplace.", "spiral_softmax"),
    ("The activation and the loss come as a pair",
     "With the canonical link (linear+MSE, sigmoid+BCE, softmax+CE, exp+Poisson) the gradient "
     "at the output's pre-activation is just p − y. Sigmoid+MSE multiplies it by p(1−p), "
     "which vanishes when the unit saturates, even on a confidently wrong answer.",
     "why_not_mse"),
    ("A loss outside its domain breaks",
     "Cross-entropy takes log p; a linear output can go negative and the loss is undefined.",
     "linear_bce_breaks"),
    ("The loss you train is not the metric you report",
     "Accuracy and RMSE sit beside the loss: a loss can keep falling while accuracy is flat, "
     "and two losses can rank the same models differently.", "outliers_huber"),
    ("Alternatives have reasons",
     "MAE and Huber resist outliers, hinge wants a ±1 score, focal loss fights class "
     "imbalance, Poisson fits counts whose noise grows with the mean.", "imbalanced_focal"),
]


def learn_view(run: Run) -> None:
    problem = run.config.problem
    st.subheader(f"Pairing matrix — {pairing.PROBLEM_LABELS[problem].lower()}")
    table = pairing.matrix(problem)
    acts = list(activations.OUTPUT_ACTIVATIONS)
    keys = losses.for_problem(problem)
    icon = {"matched": "✓ matched", "mismatched": "~ mismatched", "invalid": "✗ invalid"}
    frame = pd.DataFrame([[icon[table[(a, k)].verdict] for a in acts] for k in keys],
                         index=[losses.get(k).label for k in keys],
                         columns=[activations.get(a).label for a in acts])

    def colour(value: str) -> str:
        return {"✓": "background-color: #dcfce7", "~": "background-color: #fef9c3",
                "✗": "background-color: #fee2e2"}[value[0]]

    st.dataframe(frame.style.map(colour), width="stretch", key="pairing_matrix")
    st.caption("Rows: losses for this problem; columns: output activations. Pick any cell in "
               "the sidebar to see its reason, and train it to see it happen.")
    st.subheader("The ideas, one preset each")
    for title, text, key in IDEAS:
        with st.container(border=True):
            c1, c2 = st.columns([4, 1])
            c1.markdown(f"**{title}.** {text}")
            c2.button(presets.get(key).title, key=f"learn_{key}", on_click=state.apply_preset,
                      args=(key,), width="stretch")


def surface_view(run: Run) -> None:
    st.write("TODO surface")


def anatomy_view(run: Run) -> None:
    st.write("TODO anatomy")
