"""The main area: the pair panel, the headline numbers and the views."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from explorer import (
    activations,
    demonstration,
    export,
    losses,
    metrics,
    notation,
    pairing,
    presets,
    tabular,
)
from explorer import config as cfg
from explorer import numbers as readable
from explorer.experiment import Run
from explorer.ui import (
    advice,
    charts,
    compute,
    custom,
    estimates,
    lesson,
    playback,
    room,
    state,
)

VERDICT_ICON = {"matched": ":green[:material/check_circle:]",
                "mismatched": ":orange[:material/warning:]", "invalid": ":red[:material/block:]"}


def run_complete_marker(config) -> None:
    """An invisible marker naming the scenario just drawn and how many charts it sent: browser
    tests wait for it, and a first page asks for its settings once its first chart has drawn
    (``sidebar.ask_after_first_chart``)."""
    charts_sent = st.session_state.pop(charts.DRAWN, 0)
    st.html(f'<span class="run-complete" data-run-key="{config.key()}" '
            f'data-charts="{charts_sent}" hidden></span>')


INTRO = ("Many standard losses are the negative log-likelihood of a model of the targets, so "
         "the output activation and the loss come as a pair. Pick one, train a small network, "
         "and watch what the pair does to learning.")


def header(config: cfg.Config):
    """One line: the app, the pair and its verdict, Play when ready, Presenting. Under it
    the lesson (or what the app is for) in a sentence, so the chart starts high.

    Returns presenting mode's slot for the view's own controls (None otherwise)."""
    if state.presenting():
        tools = compact_header(config)
        link_notices()
        preset = lesson.asking(config)
        if preset is not None and not room.hosting():  # the room sees the question too
            lesson.introduce(preset, config)  # (a room asks it on the phones instead)
        return tools
    title, pair, play, present = st.columns([2.35, 3.7, 2.05, 1.4], gap="small",
                                            vertical_alignment="center")
    title.markdown("# Loss Function Explorer")
    pair.markdown(f"<span class='lfe-pair'></span>{pair_line(config)}",
                  unsafe_allow_html=True)
    # drawn on every page (not only in Train), so no view or upload can drop its value
    play.toggle("Play when ready", key=state.AUTOPLAY,
                help="Replay each new run from epoch 0 as soon as it is trained.")
    present.toggle("Presenting", key=state.PRESENT, help="One view, large type, no sidebar: "
                   "for a projector. The link keeps it (present=1).")
    link_notices()
    if not lesson_banner(config):
        st.caption(INTRO)
    return None


def view_picker():
    """The views as one row of choices; returns the slot at its right for the view's own
    controls (the loss axis, the surface's settings, …)."""
    choices, tools = st.columns([2.55, 1], vertical_alignment="center")
    choices.radio("View", state.VIEWS, key=state.VIEW, horizontal=True,
                  label_visibility="collapsed")
    return tools


def pair_line(config: cfg.Config, bold: bool = True) -> str:
    """"Sigmoid + Binary cross-entropy ✓ matched", as Markdown with a Material icon; the
    pair alone while a lesson's question waits (its verdict could give the answer away)."""
    act = activations.get(config.output_activation)
    loss = custom.LABEL.rstrip("…") if config.loss == losses.CUSTOM else \
        losses.get(config.loss).label
    pair = f"**{act.label} + {loss}**" if bold else f"{act.label} + {loss}"
    if playback.held():
        return pair
    verdict = compute.verdict(config)  # a typed formula is judged in the sandbox
    return (f"{pair} &nbsp; {VERDICT_ICON[verdict.verdict]} "
            f"{verdict.verdict}")


def link_notices() -> None:
    """What the link asked for that was not used, and why (presenting too: a tampered
    slide link must say so). Shown until the page has its settings: on the run that read
    the link, and on the one that brings the settings a moment later."""
    take = st.session_state.pop if state.settings_shown() else st.session_state.get
    for notice in take(state.NOTICES, []):
        st.warning(custom.literal(notice), icon=":material/link:")


def compact_header(config: cfg.Config):
    """Presenting mode's one line: the pair and its verdict, the view's own controls, the
    view, a way out. Returns the controls' slot."""
    left, tools, middle, right, ask = st.columns([5.2, 1.8, 1.8, 1.3, 1.5],
                                                 vertical_alignment="center")
    with left.container(key="lfe_pair_heading"):  # one line (playback.FIT_SCRIPT)
        st.markdown(f"# {pair_line(config, bold=False)}")  # a heading is bold already
    middle.selectbox("View", state.VIEWS, key=state.VIEW, label_visibility="collapsed")
    right.toggle("Presenting", key=state.PRESENT)
    room.header_button(ask, config)
    return tools


def lesson_banner(config: cfg.Config) -> bool:
    """The lesson in a sentence while its settings are untouched, the rest one click away;
    after a change, a way back. True when something about a lesson was shown."""
    preset, unchanged = state.lesson(config)
    if preset is None:
        return False
    if unchanged:
        lesson.introduce(preset, config)
        return True
    changed = [f.key.replace("_", " ") for f in cfg.FIELDS
               if getattr(config, f.key) != getattr(preset.config, f.key)]
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.info(f"**You have changed this lesson's settings** ({', '.join(changed)}), so the "
              f"lesson \"{preset.title}\" no longer describes this run.",
              icon=":material/edit_note:")
    right.button("Back to the lesson", key="back_to_lesson", icon=":material/undo:",
                 on_click=state.apply_preset, args=(preset.key,), width="stretch")
    return True


def pair_panel(run: Run) -> None:
    """Why this pair: likelihood, formula, gradient at the output's pre-activation."""
    if run.config.loss == losses.CUSTOM:
        return custom.pair_panel(run)
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
            st.markdown(f"{likelihood_sentence(loss)}  \n"
                        f"**Targets:** {loss.target_encoding}.")
            st.latex(rf"L(p, y) = {loss.formula}")
            st.latex(rf"p = {act.formula}")
            st.latex(rf"\frac{{\partial L}}{{\partial z}} = "
                     rf"{pairing.gradient_at_z(act.key, loss.key)}")
            symbol_notes(loss.formula, pairing.gradient_at_z(act.key, loss.key))


def symbol_notes(*latex: str) -> None:
    """Say in words what the formulas' less familiar symbols mean (``notation``)."""
    said = notation.notes(*latex)
    if said:
        # symbols keep their case: no capital letter on "p_t is …"
        st.caption("; ".join(said) + ".")


def likelihood_sentence(loss: losses.Loss) -> str:
    """'Negative log-likelihood of: …', or 'Not a likelihood: …' (margin losses, focal)."""
    if loss.key == losses.CUSTOM:
        return custom.literal(loss.likelihood_sentence)  # not checked either way
    if loss.likelihood is None:
        return f"**Not a likelihood:** {loss.why_not_likelihood}."
    return f"**Negative log-likelihood of:** {loss.likelihood}."


POISSON_NOTE = ("The Poisson loss p − y log p leaves out the constant log y! of the negative "
                "log-likelihood, so it can be negative; the constant does not change the "
                "gradient.")


def divergence_notice(run: Run) -> None:
    """Where and why training stopped (NaN at epoch k), above the chart that shows it."""
    divergence = run.divergence
    if divergence:
        st.error(f"**Training stopped at epoch {divergence['epoch']}: "
                 f"{divergence['reason']}.** {divergence['message']}",
                 icon=":material/report:")
        advice.buttons(st, divergence.get("fixes", ()), "divergence_fix")


def headline_numbers(run: Run) -> None:
    """The final epoch's numbers, said to be final: while the replay plays, the current
    frame's numbers are in the chart's own slider line."""
    history, problem = run.history, run.config.problem
    if not len(history):
        return
    last = history.iloc[-1]
    names = metrics.names(problem)
    st.markdown(f"**Final numbers**, after epoch {int(last['epoch'])} (the replay's current "
                "ones are on the chart's slider)")
    with st.container(key="final_numbers"):
        cols = st.columns(2 + 2 * len(names))
    cols[0].metric("Train loss", _fmt(last["loss"]),
                   help="Mean over the last epoch's mini-batches, each computed before that "
                        "batch's update and without the L2 penalty. The validation loss is "
                        "computed after the epoch, so do not compare the two directly.")
    cols[1].metric("Validation loss", _fmt(last.get("val_loss", np.nan)),
                   help="The loss on the validation points with the weights at the end of the "
                        "epoch, without the L2 penalty.")
    for i, name in enumerate(names):
        label = metrics.IN_SENTENCE[name]  # sentence case, as "Train loss" beside it
        cols[2 + 2 * i].metric(f"Train {label}", _fmt(last[name], name))
        cols[3 + 2 * i].metric(f"Validation {label}", _fmt(last.get("val_" + name, np.nan),
                                                          name))
    if run.config.loss == "poisson":
        st.caption(f":material/info: {POISSON_NOTE}")


def mismatch_notice(run: Run) -> None:
    """Where a mismatched pair's failure shows, in words that agree with the run on screen."""
    config = run.config
    problem, activation, loss = config.problem, config.output_activation, config.loss
    kind = demonstration.failure_kind(problem, activation, loss)
    act = activations.get(activation)
    if demonstration.shows_saturation(problem, activation, loss):
        if (st.session_state.get(state.VIEW) == "Compare"
                and config == demonstration.saturated_scenario(problem, activation, loss)):
            return  # the Compare view explains this race
        m_act, m_loss = pairing.DEFAULT_PAIR[problem]
        matched = f"{activations.get(m_act).label} + {losses.get(m_loss).label}"
        with st.container(border=True, key="saturation_notice"):
            left, right = st.columns([3, 1.2], vertical_alignment="center")
            if config == demonstration.saturated_scenario(problem, activation, loss):
                start = (f"This run already starts saturated (initial weights × "
                         f"{config.init_scale:g}); race it against {matched} from the same "
                         "start.")
            elif config.init_scale >= demonstration.SATURATED_START["init_scale"]:
                start = f"Race it against {matched} from a saturated start to compare."
            else:
                start = (f"Small initial weights rarely start it there; race it against "
                         f"{matched} from a saturated start to see the difference.")
            left.markdown(
                f":orange[:material/warning:] **{act.label} + {losses.get(loss).label} is "
                f"mismatched: its gradient carries the output's slope "
                f"{demonstration.OUTPUT_SLOPE[activation][0]}, ≈ 0 where the output "
                f"saturates.** {start}")
            right.button("Race from a saturated start", key="saturated_race",
                         icon=":material/compare_arrows:", width="stretch",
                         on_click=state.start_saturated_race,
                         args=(problem, activation, loss))
        return
    y = run.data.y_train
    if kind == "range" and problem in ("regression", "counts"):
        out = demonstration.targets_out_of_reach(activation, y)
        span = activations.get(activation).range_text
        if out:
            st.caption(f":material/straighten: {out} of the {len(y)} training targets lie "
                       f"outside the {act.label.lower()} output's range {span}: the fit "
                       "cannot reach them.")
        else:
            st.caption(f":material/straighten: Every training target here lies inside the "
                       f"{act.label.lower()} output's range {span}, so on this data the "
                       "range costs nothing.")
    if loss == "msle" and problem == "regression":
        negative = int(np.sum(np.asarray(y, float) < 0))
        if negative:
            st.caption(f":material/straighten: {negative} of the {len(y)} training targets "
                       "are negative. MSLE compares log(1 + y) and treats them as 0, so the "
                       "fit cannot follow them.")


def _fmt(value, name: str = "") -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if name == "accuracy":
        return f"{value:.1%}"
    return readable.number(value)


LOSS_AXES = {"auto": "Loss axis: auto", "linear": "Linear", "log": "Log"}


def train_view(run: Run, tools=None) -> None:
    if not len(run.history):
        st.info("Nothing to replay: the run stopped in its first epoch; the message above says "
                "why and what to change.", icon=":material/info:")
        return
    presenting = state.presenting()
    if not presenting and tools is not None:
        st.session_state.setdefault("loss_axis", "auto")
        tools.segmented_control(
            "Loss axis", list(LOSS_AXES), key="loss_axis", format_func=LOSS_AXES.get,
            label_visibility="collapsed",
            help="Loss axis. Auto: a log axis when the loss spans more than 1.5 decades, so "
                 "the first epochs and the late ones both show.")
    axis = st.session_state.get("loss_axis") or "auto"
    autoplay = playback.autoplay()
    run_key = compute.key(run.config)
    # a replay waiting for the student's prediction stands on epoch 0, not on the outcome
    fig = compute.training_figure(run_key, None if axis == "auto" else axis == "log",
                                  start_at_first=autoplay or playback.held(),
                                  presenting=presenting)
    charts.chart(fig, "train_chart", height="stretch")
    playback.bar("train_chart", fig, run.config.key(), autoplay=autoplay)
    if presenting:
        return
    st.caption("Play replays training (space bar too); Step moves one snapshot (← →); drag "
               "the slider to scrub. Snapshots are dense where the loss moves fast. Filled "
               "points are training data, rings are validation data. "
               + _left_caption(run))
    _downloads(run)


def _left_caption(run: Run) -> str:
    problem = run.config.problem
    if run.data.X_train.shape[1] == 1:
        return "The black curve is the network's output over the input."
    if problem == "binary":
        if run.model.threshold == 0.0:
            return ("The black contour is the decision boundary, score = 0 (the labels are "
                    "read as −1 and +1).")
        meaning = demonstration.output_meaning(problem, run.config.output_activation,
                                               run.config.loss)
        return ("The black contour is the decision boundary, "
                f"{'p' if meaning == 'probability' else 'output'} = 0.5.")
    if problem == "multiclass":
        return "Each region takes the colour of its predicted class, paler where less sure."
    return "Colour shows the predicted value."


def _downloads(run: Run) -> None:
    run_key = compute.key(run.config)
    # a wrapping row of buttons as wide as their labels: five equal columns cut them off
    row = st.container(horizontal=True, wrap=True, key="downloads")
    cols = [row] * 5
    cols[0].download_button("History (CSV)", run.history.to_csv(index=False),
                            file_name="history.csv", mime="text/csv", key="download_history",
                            icon=":material/table_view:", on_click="ignore")
    cols[1].download_button("Configuration (JSON)",
                            json.dumps(run.config.to_dict(), indent=2), file_name="config.json",
                            mime="application/json", key="download_config",
                            icon=":material/settings:", on_click="ignore")
    cols[2].download_button("Weights (NPZ)",
                            lambda: export.weights_npz(run.model, run.config.to_dict()),
                            file_name="weights.npz", mime="application/octet-stream",
                            key="download_weights", icon=":material/memory:",
                            on_click="ignore")
    cols[3].download_button("Animation (HTML)", lambda: compute.animation_html(run_key),
                            file_name="training.html", mime="text/html",
                            key="download_html", icon=":material/slideshow:",
                            on_click="ignore",
                            help="One file that plays offline: Plotly is inside.")
    cols[4].download_button("Animation (GIF)", lambda: compute.animation_gif(run_key),
                            file_name="training.gif", mime="image/gif", key="download_gif",
                            icon=":material/gif_box:", on_click="ignore",
                            help="Every other snapshot, for a slide.")


IDEAS = [
    ("Training is optimization",
     "Gradient descent searches the weights that make the loss small. The loss function is "
     "the objective; the loss is the number it returns for the current weights.",
     "matched_binary"),
    ("Maximum likelihood picks the loss",
     "Many standard losses are the negative log-likelihood of a distribution of the targets: "
     "MSE ↔ Gaussian, binary cross-entropy ↔ Bernoulli, categorical cross-entropy ↔ "
     "categorical, Poisson ↔ Poisson counts, MAE ↔ Laplace. Not all: hinge is a margin "
     "surrogate for the 0-1 error, and focal loss re-weights cross-entropy.",
     "spiral_softmax"),
    ("The activation and the loss come as a pair",
     "With the canonical link (linear + MSE, sigmoid + BCE, softmax + CE, exp + Poisson) the "
     "gradient at the output's pre-activation is p − y (2(p − y) for MSE). Sigmoid + MSE "
     "multiplies it by p(1 − p), which vanishes when the unit saturates, even on a "
     "confidently wrong answer. On 0/1 labels MSE is the Brier score, a proper scoring rule, "
     "so a well-fitted sigmoid output is calibrated: the trouble is optimisation. The lesson "
     "starts from large initial weights, because from small ones the output rarely "
     "saturates.", "why_not_mse"),
    ("A loss outside its domain breaks",
     "Cross-entropy takes log p and log(1 − p); a linear output can leave (0, 1) and the loss "
     "is undefined.", "linear_bce_breaks"),
    ("The loss you train is not the metric you report",
     "Accuracy and RMSE sit beside the loss, and they can disagree: a model that grows "
     "overconfident on the few points it gets wrong raises its cross-entropy while its "
     "accuracy barely moves.", "loss_not_metric"),
    ("Alternatives have reasons",
     "MAE and Huber resist outliers (MAE estimates the median, MSE the mean); hinge wants "
     "±1 labels and a linear score; focal loss down-weights easy, confident examples of "
     "both classes; Poisson fits counts whose noise grows with the mean.",
     "imbalanced_focal"),
    ("A loss estimates something",
     "MSE's optimum is the conditional mean, MAE's the median, the pinball loss's a "
     "τ-quantile (τ = 0.1 and 0.9 together give an 80% band); the Gaussian NLL with a "
     "learned variance gives a mean and a noise level.", "skewed_estimates"),
    ("Calibrated probabilities",
     "On 0/1 labels cross-entropy and MSE are proper scoring rules: their optimum is the "
     "class probability, so among the points given 0.8, about 80% should be class 1. The "
     "Calibration view bins the outputs and checks, over training; a long run on noisy "
     "data grows overconfident.", "calibrated_bce_mse"),
]


def learn_view(run: Run) -> None:
    with st.container(key="learn"):
        _learn(run)


def _learn(run: Run) -> None:
    problem = run.config.problem
    st.subheader(f"Pairing matrix — {pairing.PROBLEM_LABELS[problem].lower()}")
    table = pairing.matrix(problem)
    acts = list(activations.OUTPUT_ACTIVATIONS)
    keys = losses.for_problem(problem)
    frame = pd.DataFrame([[table[(a, k)].verdict for a in acts] for k in keys],
                         index=[losses.get(k).label for k in keys],
                         columns=[activations.get(a).label for a in acts])
    frame.index.name = "loss \\ output"  # a named header cell, not an empty one

    def colour(value: str) -> str:
        return {"matched": "background-color: #dcfce7", "mismatched": "background-color: #fef9c3",
                "invalid": "background-color: #fee2e2"}[value]

    st.dataframe(frame.style.map(colour), width="stretch", key="pairing_matrix")
    st.caption("Rows: losses for this problem; columns: output activations. Pick any cell in "
               "the sidebar to see its reason, and train it to see it happen.")
    st.subheader("The ideas, one preset each")
    for title, text, key in IDEAS:
        with st.container(border=True):
            c1, c2 = st.columns([2.5, 1.5])
            c1.markdown(f"**{title}.** {text}")
            c2.button(presets.get(key).title, key=f"learn_{key}", on_click=state.apply_preset,
                      args=(key,), width="stretch")


SLICES = {"parameters": "Two parameters", "random": "Random directions (filter-normalized)",
          "pca": "Trajectory PCA plane"}
SLICE_HELP = (
    "Which 2-D slice of the weights to draw the loss over. **Two parameters:** two weights "
    "you pick vary, all the others stay at their final values. **Random directions:** two "
    "random directions through the final weights, each rescaled to the size of the weights "
    "it moves (*filter-normalized*, so big and small layers are drawn alike). **Trajectory "
    "PCA plane:** the two directions in which the weights moved most during training "
    "(principal component analysis of the path), so the path stays close to the picture.")
SCALES = {"auto": "auto", "log": "log10", "clip": "clipped", "linear": "linear"}


def surface_view(run: Run, tools=None) -> None:
    """The loss over a 2-D slice of weight space, with the optimizer's path on it."""
    if len(run.model.snapshots) < 2:
        st.info("The run stopped too early to record a path, so there is no path to draw; "
                "the message above says why.")
        return
    names = run.model.network.parameter_names()
    arch = f"{run.model.network.n_params}_{run.config.hidden}_{run.config.problem}"
    for key, value in (("surface_kind", "parameters"), ("surface_mode", "contour"),
                       ("surface_scale", "auto"), ("surface_seed", 0), ("surface_span", 1.0)):
        st.session_state.setdefault(key, value)
    kind = st.session_state["surface_kind"]
    mode = st.session_state["surface_mode"]
    # the settings live one click away, so the chart and its playback bar start high
    with (tools if tools is not None else st).popover(
            "Surface settings", icon=":material/tune:", width="stretch",
            help=f"Now: {SLICES[kind]}, {'3-D surface' if mode == '3d' else 'contour'}, "
                 f"height scale {SCALES[st.session_state['surface_scale']]}."):
        option = _surface_settings(run, names, arch)
    kind = st.session_state["surface_kind"]
    mode = st.session_state["surface_mode"]
    scale = st.session_state["surface_scale"]
    if option is False:
        st.warning("Pick two different parameters (the surface's settings, above right).")
        return
    fig = compute.surface_figure(compute.key(run.config), kind, option, mode, scale)
    charts.chart(fig, "surface_chart", height="stretch")
    playback.bar("surface_chart", fig, f"{run.config.key()}:{kind}:{option}:{mode}",
                 redraw=mode == "3d", autoplay=playback.autoplay())
    line = compute.interpolation_figure(compute.key(run.config))
    charts.chart(line, "line_chart")
    st.caption("The loss and the reported metric along the straight line θ(t) = (1 − t)·θ₀ "
               "+ t·θ₁ from the initial (t = 0) to the final weights (t = 1), extended a "
               "little beyond both ends (Goodfellow et al., 2015). A monotone descent from "
               "t = 0 to t = 1 means this straight line crosses no barrier; training itself "
               "took a different, curved path.")


def _surface_settings(run: Run, names: list[str], arch: str):
    """The surface's choices; returns the slice's option (False: two equal parameters)."""
    st.radio("Slice", list(SLICES), format_func=SLICES.get, key="surface_kind",
             help=SLICE_HELP)
    st.radio("Draw as", ["contour", "3d"], key="surface_mode", horizontal=True,
             format_func={"contour": "Contour", "3d": "3-D surface"}.get)
    st.selectbox("Height scale", list(SCALES), key="surface_scale", format_func=SCALES.get,
                 help="auto: log10 when the loss spans more than two decades, otherwise "
                      "clipped at a high percentile so one spike does not flatten the rest.")
    kind = st.session_state["surface_kind"]
    if kind == "parameters":
        i0, j0 = compute.default_surface_parameters(compute.key(run.config))
        st.session_state.setdefault(f"surface_i_{arch}", i0)
        st.session_state.setdefault(f"surface_j_{arch}", j0)
        i = st.selectbox("Horizontal axis", range(len(names)), format_func=names.__getitem__,
                         key=f"surface_i_{arch}")
        j = st.selectbox("Vertical axis", range(len(names)), format_func=names.__getitem__,
                         key=f"surface_j_{arch}")
        st.caption("Parameter names: W2[3→0] is the weight from unit 3 of layer 1 into unit "
                   "0 of layer 2 (layer 0 is the input); b2[0] is that unit's bias.")
        return False if i == j else (int(i), int(j))
    if kind == "random":
        seed = st.number_input("Direction seed", 0, 9999, key="surface_seed")
        span = st.select_slider("Span (× the weights' scale)", [0.25, 0.5, 1.0, 2.0],
                                key="surface_span")
        return (int(seed), float(span))
    return None


GRADIENT_CAPTION = (
    "Each bar counts training points by the size of their gradient at the output, |∂Lᵢ/∂zᵢ| "
    "(log scale; below 10⁻⁶ counted at 10⁻⁶). Red: the points the final model gets most wrong "
    "(classification: confidently on the wrong side; regression: a residual above 3 × RMSE).")
GRADIENT_CONTRAST = (
    "Compare pairs rather than read one histogram alone: under sigmoid + MSE a saturated "
    "output gets almost no gradient whether it is right or wrong, so the red points can sit "
    "anywhere among the rest. For one sigmoid output wrong by |p − y| ≥ 0.9, cross-entropy "
    "gives |∂L/∂z| = |p − y| ≥ 0.9, MSE gives 2|p − y|·p(1 − p) ≤ 0.17.")


def anatomy_view(run: Run, tools=None) -> None:
    """Loss and gradient against the output's pre-activation, chosen pair vs matched pair,
    beside the replay of the run's own per-point gradients."""
    config = run.config
    target = None
    if config.problem in ("regression", "counts"):
        st.session_state.setdefault("anatomy_target", 2.0 if config.problem == "counts" else 1.0)
        target = (tools if tools is not None else st).slider(
            "Target value y", 0.0 if config.problem == "counts" else -3.0,
            10.0 if config.problem == "counts" else 3.0, step=0.5, key="anatomy_target")
    fig = compute.anatomy_figure(compute.key(config), target)
    animated = len(run.model.snapshots) >= 2
    left, right = st.columns([0.85, 1.15]) if animated else (st.container(), None)
    with left:
        charts.chart(fig, "anatomy_chart", height="stretch")
    if right is not None:
        with right:
            hist = compute.gradient_histogram(compute.key(config))
            charts.chart(hist, "gradient_chart", height="stretch")
            playback.bar("gradient_chart", hist, f"{config.key()}:gradients", compact=True,
                         autoplay=playback.autoplay())
    loss = losses.get(config.loss, **config.loss_params())
    act = activations.get(config.output_activation)
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown(f"**{loss.label}.** {likelihood_sentence(loss)}")
        st.latex(rf"L = {loss.formula}")
    with c2:
        st.markdown("**Its derivative in the prediction p**")
        st.latex(rf"\frac{{\partial L}}{{\partial p}} = {loss.grad_formula}")
    with c3:
        st.markdown(f"**Through the {act.label.lower()} output, in z**")
        chain, *parts = pairing.gradient_at_z(act.key, loss, config.problem).split(r",\quad ")
        st.latex(rf"\frac{{\partial L}}{{\partial z}} = {chain}")
        for part in parts:  # softmax: the sum, then dL/dp_k on a line of its own
            st.latex(part)
    symbol_notes(loss.formula, loss.grad_formula, chain, *parts)
    st.caption("z is the output unit's pre-activation, p = a(z) its output. Shaded bands are "
               "where the activation is flat (|a′(z)| below 1% of its peak): there the "
               "gradient reaching the network is dL/dp times almost nothing, so it vanishes "
               "unless the loss's own slope explodes to compensate, which is exactly what "
               "cross-entropy's 1/p does for a sigmoid. Dashed curves are the problem's "
               "matched pair, for comparison.")
    estimates.anatomy_note(run)
    if animated:
        st.caption(GRADIENT_CAPTION + (" " + GRADIENT_CONTRAST if config.problem in (
            "binary", "multiclass") else ""))


def compare_pairs(config: cfg.Config) -> list[str]:
    """The pairs Compare races ("activation|loss"): the person's choice, else the rivals."""
    key = f"compare_pairs_{config.problem}"
    if key not in st.session_state:  # set here, not as default=, so a callback may set it
        st.session_state[key] = [f"{a}|{k}" for a, k in pairing.rivals(
            config.problem, config.output_activation, config.loss)]
    return list(st.session_state[key])[:4]


def compare_contestants(config: cfg.Config) -> tuple[list[cfg.Config], list[str]]:
    """(the scenarios Compare trains, the names of pairs it cannot race on this upload); the
    page budget counts the scenarios before anything starts."""
    table_now = compute.UPLOADS.get(compute.current_upload())
    contestants, refused = [], []
    for option in compare_pairs(config):
        a, k = option.split("|")
        if (table_now is not None and table_now.target_standardized
                and not tabular.standardizes_target(config.problem, k)):
            refused.append(f"{activations.get(a).label} + {losses.get(k).label}")
            continue
        contestants.append(custom.contestant(config, a) if k == losses.CUSTOM
                           else config.replace(output_activation=a, loss=k))
    return contestants, refused


def compare_view(run: Run, tools=None) -> None:
    """Race a few (activation, loss) pairs on the same data, initial weights and batches."""
    config = run.config
    problem = config.problem
    typed = custom.compare_options(config)
    options = [f"{a}|{k}" for a in activations.OUTPUT_ACTIVATIONS
               for k in losses.for_problem(problem)] + list(typed)
    key = f"compare_pairs_{problem}"
    compare_pairs(config)

    def label(option: str) -> str:
        if option in typed:
            return typed[option]
        a, k = option.split("|")
        verdict = pairing.check(problem, a, k).verdict
        return f"{activations.get(a).label} + {losses.get(k).label} ({verdict})"

    raced = len(st.session_state[key])
    # the choice lives one click away, so the race starts on the first screen
    with (tools if tools is not None else st).popover(
            f"{raced} pair{'s' if raced != 1 else ''} raced", icon=":material/tune:",
            width="stretch"):
        chosen = st.multiselect("Pairs to race (up to 4)", options, format_func=label,
                                max_selections=4, key=key,
                                help="Everything else stays as in the sidebar: same data and "
                                     "seed, so the same random draws for the initial weights "
                                     "and the same batches.")
    if not chosen:
        st.info("Pick at least one pair to race.")
        return
    contestants, refused = compare_contestants(config)
    configs = []
    for contestant in contestants:
        compute.train_with_progress(contestant)
        configs.append(compute.key(contestant))
    if refused:
        st.warning(f"Not raced: {', '.join(refused)}. That loss needs the target in its own "
                   "units (≥ 0), but this file's target was standardized for the loss in the "
                   "sidebar; pick it there to train it on this file.", icon=":material/block:")
    if not configs:
        return
    race, maps, table = compute.compare_figures(tuple(configs))
    table = estimates.compare_columns(table, tuple(configs))
    charts.chart(race, "race_chart", height="stretch")
    st.caption("Losses of different pairs are not on one scale, so the race is judged on the "
               "reported metric (left); each loss is shown relative to its first epoch "
               "(right). A cross labelled NaN marks a run that stopped on NaN.")
    numbers = [c for c in table.columns if c not in ("pair", "verdict", "stopped")]
    # a run that stopped (or a score, for ECE) has no number: a dash, never the word None.
    # A static table: it wraps to the page's width (an interactive one scrolled sideways at
    # 1280 px), and it shows the formatted cells (an interactive one shows a missing value
    # as "None" whatever the format says).
    shares = [c for c in numbers if c.endswith(" accuracy")]  # as the headline shows them
    st.table(table.style.format(readable.number, subset=[c for c in numbers if c not in shares],
                                na_rep="—")
             .format("{:.1%}", subset=shares, na_rep="—").hide(axis="index"))
    saturated_race_note(config, table)
    charts.chart(maps, "race_maps")
    st.caption("Each pair's model after the last epoch, on the same training data.")


def saturated_race_note(config: cfg.Config, table: pd.DataFrame) -> None:
    """Why the race opened by the mismatch button starts saturated, and how it came out."""
    problem, activation, loss = config.problem, config.output_activation, config.loss
    if not (demonstration.shows_saturation(problem, activation, loss)
            and config == demonstration.saturated_scenario(problem, activation, loss)):
        return
    names = [compute.pair_name(config.replace(output_activation=a, loss=k))
             for a, k in demonstration.race_pairs(problem, activation, loss)]
    column = next((c for c in ("validation accuracy", "train accuracy") if c in table), None)
    rows = table.set_index("pair")
    outcome = ""
    if column and all(name in rows.index for name in names):
        scores = ", ".join(f"{name} {_fmt(rows.loc[name, column], 'accuracy')}"
                           for name in reversed(names))
        outcome = (f" After {config.epochs} epochs, {column.split()[0]} accuracy: "
                   f"{scores}.")
    st.info(f"**Why a saturated start.** {demonstration.why_saturated_start(activation)} "
            f"Settings: {demonstration.saturated_start_settings(problem)}.{outcome}",
            icon=":material/school:")
