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
    # shown once, on the run that read the link; the next interaction clears them
    for notice in st.session_state.pop(state.NOTICES, []):
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
    st.markdown("#### Why this pair")
    with st.container(border=True):
        left, right = st.columns([1.15, 1])
        with left:
            st.markdown(f"##### {VERDICT_ICON[verdict.verdict]} {act.label} + {loss.label}: "
                        f"{verdict.verdict}")
            st.markdown(f"**{verdict.headline}.** {verdict.reason}")
        with right:
            st.markdown(f"**Likelihood:** {loss.likelihood}.  \n"
                        f"**Targets:** {loss.target_encoding}.")
            st.latex(rf"L(p, y) = {loss.formula}")
            st.latex(rf"p = {act.formula}")
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
    note = (" The Poisson loss leaves out the constant log y!, so it can be negative."
            if run.config.loss == "poisson" else "")
    cols[0].metric("Train loss", _fmt(last["loss"]),
                   help="Mean over the last epoch's mini-batches." + note)
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
     "and two losses can rank the same models differently.", "loss_not_metric"),
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
            c1, c2 = st.columns([3, 1.4])
            c1.markdown(f"**{title}.** {text}")
            c2.button(presets.get(key).title, key=f"learn_{key}", on_click=state.apply_preset,
                      args=(key,), width="stretch")


SLICES = {"parameters": "Two parameters", "random": "Random directions (filter-normalized)",
          "pca": "Trajectory PCA plane"}
SCALES = {"auto": "auto", "log": "log10", "clip": "clipped", "linear": "linear"}


def surface_view(run: Run) -> None:
    """The loss over a 2-D slice of weight space, with the optimizer's path on it."""
    if len(run.model.snapshots) < 2:
        st.info("The run stopped before its first epoch, so there is no path to draw. "
                "Pick a valid pair (see the verdict in the sidebar) and try again.")
        return
    names = run.model.network.parameter_names()
    arch = f"{run.model.network.n_params}_{run.config.hidden}_{run.config.problem}"
    c1, c2, c3 = st.columns([2.2, 1, 1])
    kind = c1.radio("Slice", list(SLICES), format_func=SLICES.get, key="surface_kind",
                    horizontal=True)
    mode = c2.radio("Draw as", ["contour", "3d"], key="surface_mode", horizontal=True,
                    format_func={"contour": "Contour", "3d": "3-D surface"}.get)
    scale = c3.selectbox("Height scale", list(SCALES), key="surface_scale",
                         format_func=SCALES.get,
                         help="auto: log10 when the loss spans more than two decades, "
                              "otherwise clipped at a high percentile so one spike does not "
                              "flatten the rest.")
    option = None
    if kind == "parameters":
        i0, j0 = compute.default_surface_parameters(compute.key(run.config))
        a, b = st.columns(2)
        i = a.selectbox("Horizontal axis", range(len(names)), index=i0,
                        format_func=names.__getitem__, key=f"surface_i_{arch}")
        j = b.selectbox("Vertical axis", range(len(names)), index=j0,
                        format_func=names.__getitem__, key=f"surface_j_{arch}")
        if i == j:
            st.warning("Pick two different parameters.")
            return
        option = (int(i), int(j))
        st.caption("Parameter names: W2[3→0] is the weight from unit 3 of layer 1 into unit "
                   "0 of layer 2; b2[0] is that unit's bias.")
    elif kind == "random":
        a, b = st.columns(2)
        seed = a.number_input("Direction seed", 0, 9999, value=0, key="surface_seed")
        span = b.select_slider("Span (× the weights' scale)", [0.25, 0.5, 1.0, 2.0],
                               value=1.0, key="surface_span")
        option = (int(seed), float(span))
    fig = compute.surface_figure(compute.key(run.config), kind, option, mode, scale)
    st.plotly_chart(fig, width="stretch", key="surface_chart", config=PLOT_CONFIG)
    line = compute.interpolation_figure(compute.key(run.config))
    st.plotly_chart(line, width="stretch", key="line_chart", config=PLOT_CONFIG)
    st.caption("The loss and the reported metric along the straight line θ(t) = (1 − t)·θ₀ "
               "+ t·θ₁ from the initial (t = 0) to the final weights (t = 1), extended a "
               "little beyond both ends (Goodfellow et al., 2015). A smooth monotone descent "
               "means the path found no barrier worth crossing.")


def anatomy_view(run: Run) -> None:
    """Loss and gradient against the output's pre-activation, chosen pair vs matched pair."""
    config = run.config
    target = None
    if config.problem in ("regression", "counts"):
        target = st.slider("Target value y", 0.0 if config.problem == "counts" else -3.0,
                           10.0 if config.problem == "counts" else 3.0, step=0.5,
                           value=2.0 if config.problem == "counts" else 1.0,
                           key="anatomy_target")
    fig = compute.anatomy_figure(compute.key(config), target)
    st.plotly_chart(fig, width="stretch", key="anatomy_chart", config=PLOT_CONFIG)
    loss = losses.get(config.loss)
    act = activations.get(config.output_activation)
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown(f"**{loss.label}** — negative log-likelihood of: {loss.likelihood}.")
        st.latex(rf"L = {loss.formula}")
    with c2:
        st.markdown("**Its derivative in the prediction p**")
        st.latex(rf"\frac{{\partial L}}{{\partial p}} = {loss.grad_formula}")
    with c3:
        st.markdown(f"**Through the {act.label.lower()} output, in z**")
        st.latex(rf"\frac{{\partial L}}{{\partial z}} = "
                 rf"{pairing.gradient_at_z(act.key, loss.key)}")
    st.caption("z is the output unit's pre-activation, p = a(z) its output. Shaded bands are "
               "where the activation is flat (|a′(z)| below 1% of its peak): there the "
               "gradient reaching the network is dL/dp times almost nothing, so it vanishes "
               "unless the loss's own slope explodes to compensate, which is exactly what "
               "cross-entropy's 1/p does for a sigmoid. Dashed curves are the problem's "
               "matched pair, for comparison.")
    if len(run.model.snapshots) < 2:
        return
    hist = compute.gradient_histogram(compute.key(config))
    st.plotly_chart(hist, width="stretch", key="gradient_chart", config=PLOT_CONFIG)
    st.caption("Each bar counts training points by the size of their gradient at the output, "
               "|∂Lᵢ/∂zᵢ| (log scale). Red: the points the final model gets most wrong "
               "(classification: confidently on the wrong side; regression: a residual above "
               "3 × RMSE). With a saturating output and a mismatched loss (sigmoid + MSE) they "
               "sit at the far left, barely pushing; with the matched pair (sigmoid + BCE) "
               "they push hardest of all.")


def compare_view(run: Run) -> None:
    """Race a few (activation, loss) pairs on the same data, initial weights and batches."""
    config = run.config
    problem = config.problem
    options = [f"{a}|{k}" for a in activations.OUTPUT_ACTIVATIONS
               for k in losses.for_problem(problem)]
    default = [f"{a}|{k}" for a, k in pairing.rivals(problem, config.output_activation,
                                                     config.loss)]

    def label(option: str) -> str:
        a, k = option.split("|")
        verdict = pairing.check(problem, a, k).verdict
        return f"{activations.get(a).label} + {losses.get(k).label} ({verdict})"

    chosen = st.multiselect("Pairs to race (up to 4)", options, default=default,
                            format_func=label, max_selections=4,
                            key=f"compare_pairs_{problem}",
                            help="Everything else stays as in the sidebar: same data, same "
                                 "seed, so the same initial weights and the same batches.")
    if not chosen:
        st.info("Pick at least one pair to race.")
        return
    configs = []
    for option in chosen:
        a, k = option.split("|")
        contestant = config.replace(output_activation=a, loss=k)
        compute.train_with_progress(contestant)
        configs.append(compute.key(contestant))
    race, maps, table = compute.compare_figures(tuple(configs))
    st.plotly_chart(race, width="stretch", key="race_chart", config=PLOT_CONFIG)
    st.caption("Losses of different pairs are not on one scale, so the race is judged on the "
               "reported metric (left); each loss is shown relative to its first epoch "
               "(right). An ✕ marks a run that stopped on NaN.")
    st.dataframe(table, hide_index=True, width="stretch", key="race_table",
                 column_config={c: st.column_config.NumberColumn(format="%.4g")
                                for c in table.columns if c not in ("pair", "verdict",
                                                                    "stopped")})
    st.plotly_chart(maps, width="stretch", key="race_maps", config=PLOT_CONFIG)
    st.caption("Each pair's model after the last epoch, on the same training data.")
