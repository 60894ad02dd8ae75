"""What the trained outputs estimate: the Calibration view (reliability over training,
precision and recall at the threshold), the estimates panel under a 1-D fit (quantiles,
learned noise, the 80 % band) and the scale unit of a learned-variance loss.

Drawing and caching only; every number comes from ``explorer.calibration``,
``explorer.metrics`` and ``explorer.anatomy``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer import anatomy, calibration, datasets, losses, metrics, pairing, training
from explorer import config as cfg
from explorer.experiment import Run
from explorer.figures import calibration as figures
from explorer.ui import advice, charts, compute, playback, state

NOMINAL_BAND = 0.8
BAND_TAUS = (0.1, 0.9)
TRIO = (("mse", None), ("mae", None), ("pinball", 0.9))
"""The three fits that land on the mean, the median and the 90th percentile."""
ESTIMAND_COLORS = {"mean": "#2563eb", "median": "#16a34a", "0.9-quantile": "#ea580c"}
BAND_COLOR = "#9333ea"
THIS_COLOR = "#111827"
SIGMA_COLOR = "#0891b2"
TRUE_DATASETS = ("skewed", "heteroscedastic", "sine")


# ----------------------------------------------------------------------------------------
# Sidebar: what a loss estimates (pinball τ, class weight α, threshold), each where it applies


def sidebar_settings(sb, slider) -> None:
    """τ for pinball, α for BCE and focal, the decision threshold of a binary problem.

    ``slider(container, label, key, **kwargs)`` draws a slider with the setting's own bounds
    (``config.FIELD``)."""
    problem, loss = st.session_state["problem"], st.session_state["loss"]
    if loss == "pinball":
        slider(sb, cfg.FIELD["tau"].label, "tau",
               help="The fit estimates the τ-quantile: a share τ of the targets should lie "
                    "below it. τ = 0.5 is the median (half of MAE).")
    if loss in ("bce", "focal"):
        field = cfg.FIELD["alpha"]
        options = sorted({0.0, field.hi, *np.round(np.arange(0.05, 0.951, 0.05), 2).tolist(),
                          st.session_state.get("alpha", 0.0)})
        sb.select_slider(field.label, options, key="alpha",
                         format_func=lambda v: "none" if v == 0 else f"{v:g}",
                         help="α weighs the class-1 terms, 1 − α the class-0 terms (Lin et "
                              "al. 2017). α > 0.5 makes the rare class 1 count more; the "
                              "outputs then estimate a reweighted probability.")
    if problem != "binary":
        return
    if losses.get(loss).decision_threshold == 0.5:
        slider(sb, cfg.FIELD["threshold"].label, "threshold",
               help="A point is called class 1 when the output is above it. Lower: more "
                    "class-1 calls, recall never drops, precision usually does (not always). "
                    "Accuracy and the boundary use it; the loss does not.")
    else:
        sb.caption(f"Decision threshold: 0, the sign of the score ({losses.get(loss).label} "
                   "reads the labels as −1 and +1).")


# ----------------------------------------------------------------------------------------
# The Calibration view


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False)
def _reliability(key: compute.RunKey):
    """(validation or training reliability over training, training one or None, part)."""
    run = compute.train(key)
    d = run.data
    train = calibration.reliability_over_training(run.model, d.X_train, d.y_train)
    if len(d.X_val):
        return (calibration.reliability_over_training(run.model, d.X_val, d.y_val), train,
                "validation")
    return train, None, "training"


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False)
def calibration_figure(key: compute.RunKey):
    r, train, part = _reliability(key)
    spec = figures.reliability_spec(r, train, part)
    spec["layout"]["meta"] = key.config.key() + ":calibration"
    return spec


def _calibration_numbers(r, train, part: str) -> None:
    """ECE, Brier score and overconfidence at the last epoch, and the training ECE."""
    cols = st.columns(4)
    cols[0].metric(f"ECE, {part}", f"{r.ece[-1]:.3f}",
                   help="Expected calibration error: the count-weighted mean gap between "
                        "the observed share and the mean prediction over 10 bins. 0 is "
                        "perfectly calibrated.")
    cols[1].metric(f"Brier score, {part}", f"{r.brier[-1]:.3f}",
                   help="Mean squared error of the probabilities (for several classes "
                        "summed over classes): lower is better, calibration and "
                        "sharpness together.")
    cols[2].metric(f"Overconfidence, {part}", f"{round(r.overconfidence[-1], 3) + 0.0:+.3f}",
                   help="Mean confidence in the predicted class minus accuracy: above 0 "
                        "the model claims more than it delivers.")
    if train is not None:
        cols[3].metric("ECE, training", f"{train.ece[-1]:.3f}")


def calibration_view(run: Run) -> None:
    """The reliability diagram over training, ECE and Brier; precision and recall (binary)."""
    config = run.config
    ok, reason = calibration.applies(config.problem, config.output_activation, config.loss,
                                     config.loss_params())
    if not ok:
        st.info(f"**No reliability diagram for this pair.** {reason}",
                icon=":material/info:")
        if config.problem == "regression" and _shows_estimates(run):
            st.caption("For this run the coverage of its quantile or band is under the fit "
                       "in the Train view.")
    elif len(run.model.snapshots) < 2:
        st.info("The run stopped too early to record any calibration; the message above "
                "says why.", icon=":material/info:")
    else:
        r, train, part = _reliability(compute.key(config))
        presenting = state.presenting()
        fig = calibration_figure(compute.key(config))
        charts.chart(fig, "calibration_chart", height="stretch")
        playback.bar("calibration_chart", fig, f"{config.key()}:calibration",
                     autoplay=playback.autoplay())
        if presenting:  # on stage the chart takes the room; its slider shows the epoch
            return
        # under the chart and said to be final: the replay's own numbers are on its slider
        st.markdown(f"**Final calibration**, after epoch {int(r.epochs[-1])}")
        _calibration_numbers(r, train, part)
        kind, share = (("the predicted probability of class 1", "that really are class 1")
                       if r.kind == "binary" else
                       ("the confidence in the top class (top-label calibration)",
                        "whose top class is right"))
        st.caption(f"Press Play (or space) to replay training. Each bar is one bin of {kind}: "
                   "its height "
                   f"is the share of those points {share}, the red part the gap to the bin's "
                   "mean prediction. A calibrated model keeps the bars on the diagonal. "
                   f"{reason}")
    if config.problem == "binary":
        imbalance_section(run)


def _shows_estimates(run: Run) -> bool:
    return _estimates_apply(run.config, run.data.X_train.shape[1])


def _estimates_apply(config: cfg.Config, features: int) -> bool:
    return (config.problem == "regression" and features == 1
            and (config.loss in ("pinball", "gaussian_nll")
                 or config.dataset in ("skewed", "heteroscedastic")))


def _toggles(config: cfg.Config) -> tuple[tuple[str, bool], tuple[str, bool]]:
    """The fit panel's two toggles: (key, value now) for the trio and for the band, keyed
    by dataset and lesson, so each opens with its own default."""
    where = f"{config.dataset}_{st.session_state.get(state.ACTIVE_PRESET) or 'none'}"
    trio, band = f"estimates_trio_{where}", f"estimates_band_{where}"
    return ((trio, st.session_state.get(trio, config.dataset == "skewed")),
            (band, st.session_state.get(band, config.dataset == "heteroscedastic")))


def companions(config: cfg.Config, features: int) -> list[cfg.Config]:
    """The further runs the Train view's fit panel will train for this scenario (the page
    budget counts them before anything starts)."""
    if not _estimates_apply(config, features):
        return []
    (_, trio), (_, band) = _toggles(config)
    others = [_companion(config, loss, t) for loss, t in TRIO] if trio else []
    others += [_companion(config, "pinball", t) for t in BAND_TAUS] if band else []
    return list(dict.fromkeys(other for other in others if other != config))


# ----------------------------------------------------------------------------------------
# Precision, recall and the threshold (binary)


def _sweep(scores: np.ndarray, labels: np.ndarray, probability: bool) -> figures.ThresholdSweep:
    if probability:
        thresholds = np.linspace(0.01, 0.99, 99)
    else:
        lo, hi = np.percentile(scores, [1, 99])
        thresholds = np.linspace(lo, hi, 99) if hi > lo else np.array([lo - 1, lo, lo + 1])
    rows = [metrics.binary_scores(scores, labels, t) for t in thresholds]
    column = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    return figures.ThresholdSweep(thresholds, column["precision"], column["recall"],
                                  column["f1"], column["balanced_accuracy"])


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False)
def imbalance_numbers(key: compute.RunKey):
    """(table of binary_report per part, PR figure or None, the threshold)."""
    run = compute.train(key)
    model, d = run.model, run.data
    parts = [("training", d.X_train, d.y_train)]
    if len(d.X_val):
        parts.append(("validation", d.X_val, d.y_val))
    rows = []
    for part, X, y in parts:
        report = metrics.binary_report(model, X, y)
        rows.append({"points": part, **{REPORT_COLUMNS[k]: report[k] for k in REPORT_COLUMNS}})
    table = pd.DataFrame(rows)
    part, X, y = parts[-1]
    scores = np.asarray(model.predict(X), float).reshape(-1)
    if not np.isfinite(scores).all() or not y.any():
        return table, None, model.threshold
    precision, recall, _ = metrics.precision_recall_curve(scores, y)
    config = run.config
    probability = model.threshold != 0.0 and config.output_activation == "sigmoid"
    marks = []
    for label, threshold in ((f"threshold {model.threshold:g}", model.threshold),
                             ("threshold 0.5", 0.5)):
        if marks and threshold == marks[0][1]:
            continue
        if label == "threshold 0.5" and not probability:
            continue
        s = metrics.binary_scores(scores, y, threshold)
        marks.append((label, threshold, s["recall"], s["precision"]))
    fig = figures.precision_recall_figure(
        precision, recall, _sweep(scores, y, probability), marks, float(np.mean(y == 1)),
        "threshold on p(class 1)" if probability else "threshold on the output", part)
    fig.update_layout(meta=config.key() + ":precision-recall")
    return table, charts.plain(fig), model.threshold


REPORT_COLUMNS = {"accuracy": "accuracy", "precision": "precision", "recall": "recall",
                  "f1": "F1", "balanced_accuracy": "balanced accuracy",
                  "average_precision": "average precision",
                  "positive_rate": "share called class 1"}


def imbalance_section(run: Run) -> None:
    """Precision, recall, F1 and balanced accuracy beside accuracy; the PR trade-off."""
    config = run.config
    st.markdown("#### Precision, recall and the threshold")
    if run.divergence and len(run.model.snapshots) < 2:
        st.info("The run stopped before it could be scored.", icon=":material/info:")
        return
    table, fig, threshold = imbalance_numbers(compute.key(config))
    share = float(np.mean(np.concatenate([run.data.y_train, run.data.y_val]) == 1))
    # a static table: an undefined precision (no class-1 call) shows as a dash, where an
    # interactive one shows "None" whatever the format says
    numbers = [c for c in table.columns if c != "points"]
    st.table(table.style.format("{:.3f}", subset=numbers, na_rep="—").hide(axis="index"))
    st.caption(f"Class 1 is {share:.0%} of the points, so calling everything class 0 scores "
               f"{1 - share:.0%} accuracy with a recall of 0. Precision: the share of class-1 "
               "calls that are right; recall: the share of class-1 points found; F1 their "
               "harmonic mean; balanced accuracy the mean of the recalls of both classes. "
               f"All at the threshold {threshold:g}, the final model.")
    if fig is None:
        st.caption("No precision–recall curve: the outputs are not finite, or there is no "
                   "class-1 point to find.")
        return
    charts.chart(fig, "precision_recall_chart")
    st.caption("Left: every threshold at once; the diamond is the threshold this run reports "
               "with. Right: the four numbers as the threshold moves. Three levers to compare "
               "in the sidebar: the decision threshold (no retraining), the class weight α "
               "(reweighting) and focal loss's γ (focusing on hard points).")


# ----------------------------------------------------------------------------------------
# Under a 1-D regression fit: what the fit estimates


GRID_POINTS = 161


def _grid(run: Run) -> np.ndarray:
    X = np.concatenate([run.data.X_train[:, 0], run.data.X_val[:, 0]])
    return np.linspace(float(X.min()), float(X.max()), GRID_POINTS)


def _fit_label(loss: str, params: dict) -> tuple[str, str]:
    """(legend label, estimand) of a fit."""
    name, _ = calibration.estimand(loss, params)
    label = losses.get(loss).label.split(" (")[0]
    if loss == "pinball":
        label += f" τ = {params['tau']:g}"
    return (f"{label} fit → {name}" if name else f"{label} fit"), name


def _prediction(run: Run, grid: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        out = np.asarray(run.model.predict(grid[:, None]), float)
    return out[:, 0] if out.ndim == 2 else out


def _companion(config: cfg.Config, loss: str, tau: float | None) -> cfg.Config:
    """The same data, start and network with another regression loss (its matched output)."""
    activation = pairing.DEFAULT_PAIR["regression"][0]
    return config.replace(loss=loss, output_activation=activation,
                          **({} if tau is None else {"tau": tau}))


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False)
def estimates_panel(key: compute.RunKey, trio: bool, band: bool):
    """(figure, list of (label, value, nominal) coverage lines) for a 1-D regression run."""
    run = compute.train(key)
    config = run.config
    grid = _grid(run)
    d = run.data
    X_val, y_val = (d.X_val, d.y_val) if len(d.X_val) else (d.X_train, d.y_train)
    part = "validation" if len(d.X_val) else "training"
    fits, truths, bands, coverage = [], [], [], []
    label, name = _fit_label(config.loss, config.loss_params())
    _, tau = calibration.estimand(config.loss, config.loss_params())
    fits.append(figures.Curve("this run: " + label, _prediction(run, grid), THIS_COLOR))
    if tau is not None:
        below = calibration.quantile_coverage(y_val, _prediction(run, X_val[:, 0]))
        coverage.append((f"{part} targets below this run's fit", below, tau))
    with np.errstate(all="ignore"):
        learned = (np.asarray(run.model.predict(grid[:, None]), float).T
                   if config.loss == "gaussian_nll" else None)
    if learned is not None and np.isfinite(learned).all():
        mean, sigma = learned
        bands.append(figures.Band("mean ± 2σ (learned σ)", mean - 2 * sigma, mean + 2 * sigma,
                                  SIGMA_COLOR))
        m_val, s_val = np.asarray(run.model.predict(X_val), float).T
        coverage.append((f"{part} targets inside mean ± 2σ",
                         calibration.interval_coverage(y_val, m_val - 2 * s_val,
                                                       m_val + 2 * s_val), 0.954))
    # each true curve takes the colour of the fit that estimates it: this run's, else the
    # band's, else the trio's
    colors: dict[tuple[str, float | None], str] = {}
    if trio:
        for loss, t in TRIO:
            other = _companion(config, loss, t)
            if other == config or (band and t in BAND_TAUS):
                continue  # drawn as this run, or as the band's edge
            r = compute.train(compute.key(other, key.upload))
            other_label, other_name = _fit_label(loss, other.loss_params())
            fits.append(figures.Curve(other_label, _prediction(r, grid),
                                      ESTIMAND_COLORS[other_name]))
        colors.update({(what, t): ESTIMAND_COLORS[what] for what, t in
                       (("mean", None), ("median", 0.5), ("0.9-quantile", 0.9))})
    if band:
        low, high = (compute.train(compute.key(_companion(config, "pinball", t), key.upload))
                     for t in BAND_TAUS)
        bands.append(figures.Band(f"80 % band: pinball τ = {BAND_TAUS[0]:g} to "
                                  f"{BAND_TAUS[1]:g}", _prediction(low, grid),
                                  _prediction(high, grid), BAND_COLOR))
        inside = calibration.interval_coverage(y_val, _prediction(low, X_val[:, 0]),
                                               _prediction(high, X_val[:, 0]))
        coverage.append((f"{part} targets inside the 80 % band", inside, NOMINAL_BAND))
        colors.update({(f"{t:g}-quantile", t): BAND_COLOR for t in BAND_TAUS})
    if name:
        colors[(name, tau)] = THIS_COLOR
    if config.dataset in TRUE_DATASETS:
        for (what, t), color in colors.items():
            curve = (datasets.true_mean(config.dataset, grid, config.noise) if t is None else
                     datasets.true_quantile(config.dataset, grid, t, config.noise))
            if curve is not None:
                truths.append(figures.Curve(f"true {what}", curve, color, "solid", 9.0))
    names = run.data.feature_names
    fig = figures.estimates_figure(
        grid, run.data, fits, truths, bands,
        x_title=f"{names[0]} (standardized)" if names else "input x",
        y_title=run.data.target_name or "target y")
    fig.update_layout(meta=config.key() + f":estimates:{int(trio)}{int(band)}")
    return charts.plain(fig), coverage


def fit_panel(run: Run) -> None:
    """Under the Train view's 1-D regression fit: what this fit estimates, the true curves
    where the data know them, learned noise, the 80 % band and its coverage."""
    if not _shows_estimates(run) or len(run.model.snapshots) < 2:
        return
    config = run.config
    st.markdown("#### What the fit estimates")
    c1, c2 = st.columns(2)
    (trio_key, trio_on), (band_key, band_on) = _toggles(config)
    trio = c1.toggle("Mean, median and 90th percentile", value=trio_on, key=trio_key,
                     help="Also fit MSE, MAE and pinball τ = 0.9 on the same data from the "
                          "same start: they estimate the conditional mean, median and 90th "
                          "percentile.")
    band = c2.toggle("80 % band", value=band_on, key=band_key,
                     help="Fit pinball τ = 0.1 and τ = 0.9 on the same data and shade "
                          "between them: about 80 % of new targets should fall inside.")
    # the companions train here first, with a progress bar; the panel then finds them cached
    if trio:
        for loss, t in TRIO:
            compute.train_with_progress(_companion(config, loss, t))
    if band:
        for t in BAND_TAUS:
            compute.train_with_progress(_companion(config, "pinball", t))
    fig, coverage = estimates_panel(compute.key(config), trio, band)
    charts.chart(fig, "estimates_chart")
    if coverage:
        cols = st.columns(len(coverage))
        for col, (label, value, nominal) in zip(cols, coverage):
            col.metric(f"{label.capitalize()} (nominal {nominal:.1%})", f"{value:.1%}",
                       help="The share measured on these points; the nominal share is what "
                            "a perfect estimate would give on average.")
    notes = ["Thin lines are fits at the final weights; wide pale lines are the true "
             "conditional curves of the generator, in the colour of the fit that estimates "
             "them."
             if config.dataset in TRUE_DATASETS else "Solid lines are fits at the final "
             "weights."]
    if any("mean ± 2σ" in label for label, _, _ in coverage):
        notes.append("The shaded band is mean ± 2σ with the σ the network predicts for each "
                     "input (its second output unit): a Gaussian puts 95.4 % of targets "
                     "inside.")
    elif config.loss == "gaussian_nll":
        notes.append("No σ band: the learned σ is not a finite number everywhere (the run "
                     "blew up; try a smaller learning rate).")
    if band:
        notes.append("The 80 % band runs from the τ = 0.1 fit to the τ = 0.9 fit: nominally "
                     "10 % of targets below it and 10 % above.")
    st.caption(" ".join(notes))
    if config.loss == "gaussian_nll" and "No σ band" in notes[-1]:
        advice.buttons(st, training.lower_lr(config.lr), "sigma_fix")


# ----------------------------------------------------------------------------------------
# Loss anatomy: the second output of a learned-variance loss


@st.cache_data(max_entries=4, show_spinner=False)
def _scale_figure(loss: str):
    s, values, grads = anatomy.scale_curves(loss)
    fig = figures.scale_anatomy_figure(s, (0.5, 1.0, 2.0), values, grads)
    fig.update_layout(meta=f"{loss}:scale")
    return charts.plain(fig)


def anatomy_note(run: Run) -> None:
    """For a loss with a learned scale: what its extra output unit is and how it learns."""
    loss = losses.get(run.config.loss)
    if loss.outputs_per_target < 2:
        return
    st.markdown("#### The second output: a learned noise level")
    st.markdown(
        f"{loss.label} reads **two output units per target**: the mean p, through the "
        f"{run.config.output_activation} output drawn above (with s held at 0, σ = 1), and a "
        "scale unit s = log σ² that bypasses the output activation (the loss applies "
        "σ² = eˢ itself). The error counts divided by σ², and the ½ s term stops σ from "
        "growing without end. For a fixed error the loss is smallest at s = log (y − p)², "
        "where its gradient in s is 0: the scale unit learns the squared error it sees, so "
        "σ grows where the data scatter. That is why ∂L/∂z has two rows: the mean unit's "
        "and the scale unit's.")
    scale_formula = getattr(loss, "scale_grad_formula", "")
    if scale_formula:
        st.latex(rf"\frac{{\partial L}}{{\partial s}} = {scale_formula}")
    charts.chart(_scale_figure(loss.key), "scale_chart")
    st.caption("Dotted lines mark s = log (y − p)² for each error: the minimum of the loss "
               "and the zero of its gradient.")


# ----------------------------------------------------------------------------------------
# Compare: ECE and Brier per pair


def compare_columns(table: pd.DataFrame, keys: tuple[compute.RunKey, ...]) -> pd.DataFrame:
    """The race table with validation (else training) ECE and Brier for each pair whose
    outputs are probabilities; empty where they are not."""
    runs = [compute.train(key) for key in keys]
    if runs[0].config.problem not in calibration.PROBABILITY_OUTPUT:
        return table
    part = "validation" if len(runs[0].data.X_val) else "training"
    ece, brier = [], []
    for run in runs:
        d = run.data
        X, y = (d.X_val, d.y_val) if len(d.X_val) else (d.X_train, d.y_train)
        numbers = calibration.scores(run.model, X, y) if run.divergence is None else None
        ece.append(np.nan if numbers is None else numbers["ECE"])
        brier.append(np.nan if numbers is None else numbers["Brier"])
    table = table.copy()
    at = list(table.columns).index("stopped") if "stopped" in table else len(table.columns)
    table.insert(at, f"{part} ECE", ece)
    table.insert(at + 1, f"{part} Brier", brier)
    return table
