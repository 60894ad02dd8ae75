"""The sidebar, top to bottom in the order a person decides. Every widget's key is its
query-string name, so the URL and the widgets can never disagree."""

from __future__ import annotations

import streamlit as st

from explorer import activations, datasets, losses, optimizers, pairing, presets
from explorer import config as cfg
from explorer.network import MAX_LAYERS, MAX_UNITS
from explorer.ui import custom, estimates, state, upload

LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
INIT_SCALES = (0.1, 0.3, 1.0, 3.0, 10.0)
L2_VALUES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)


def _options_with(options, value):
    """Slider options including the current value (a link may carry any valid number)."""
    return tuple(sorted(set(options) | {value}))


def _starred(label: str, is_default: bool) -> str:
    return label + ("  ★ default" if is_default else "")


def _slider(sb, label: str, key: str, **kwargs):
    """A slider whose range and step are the setting's own (``config.FIELD``)."""
    field = cfg.FIELD[key]
    return sb.slider(label, field.lo, field.hi, step=field.step, key=key, **kwargs)


def _number(container, label: str, key: str, **kwargs):
    """A number box whose range and step are the setting's own (``config.FIELD``)."""
    field = cfg.FIELD[key]
    return container.number_input(label, int(field.lo), int(field.hi), step=int(field.step),
                                  key=key, **kwargs)


INLINE_ERRORS = "_inline_errors"
"""Keys of typed settings whose mistake is explained under their own box on this run."""


def _inline_error(sb, key: str, label: str) -> None:
    """Explain, under the box, why what was typed is not used (and what is used instead)."""
    field = cfg.FIELD[key]
    text = str(st.session_state.get(key, ""))
    try:
        ok = field.check(field.parse(text))
    except (TypeError, ValueError):
        ok = False
    shown = st.session_state.setdefault(INLINE_ERRORS, set())
    shown.discard(key)
    if not ok:
        shown.add(key)
        used = field.dump(getattr(cfg.DEFAULT, key))
        sb.error(f"{label}: “{cfg.shorten(text)}” is not usable; expected {field.hint}. "
                 f"Training uses {used} until it is fixed.", icon=":material/error:")


VERDICT_MARKS = {"matched": "✓", "mismatched": "~", "invalid": "✗"}
"""Marks drawn inside option lists, where Streamlit's Material icons cannot go: plain
characters that DejaVu Sans (the fallback font of a Linux browser) has."""
MARKS_HELP = "✓ matched, ~ works but mismatched, ✗ invalid"


def _marked(label: str, problem: str, activation: str, loss: str) -> str:
    """``label`` after the verdict mark of (activation, loss) for ``problem``; unmarked when
    the other choice is a typed formula (its verdict is worked out only when chosen)."""
    if losses.CUSTOM in (activation, loss):
        return label
    return f"{VERDICT_MARKS[pairing.check(problem, activation, loss).verdict]} {label}"


def matched_pair(problem: str, activation: str, loss: str) -> tuple[str, str]:
    """The matched (activation, loss) nearest to a pair: keep the loss and take its matched
    output, else keep the output and take a loss matched with it, else the problem's
    default."""
    outputs = pairing.matched_activations(loss, problem)
    if outputs:
        return outputs[0], loss
    for other in losses.for_problem(problem):
        if pairing.check(problem, activation, other).verdict == "matched":
            return activation, other
    return pairing.DEFAULT_PAIR[problem]


def _dataset_label(key: str) -> str:
    return "Your CSV file…" if key == cfg.UPLOAD else datasets.get(key).label


def _label(key: str) -> str:
    return cfg.FIELD[key].label


SHOW_KEY = "lfe_show_settings"

ASK_SCRIPT = """<script>
// A session's first page draws its chart before its settings: a browser meeting the app for
// the first time spends about a third of a second setting up Streamlit's widgets (their code,
// their first render), and the chart, the lesson, would wait for it. Once this run has ended
// (its marker says how many charts it sent) and its first chart has drawn, or it sent none,
// or 10 s after the run ended (a chart that cannot draw), press "Show the settings" for the
// student.
(function () {
  const memo = window.__lfeSettings || (window.__lfeSettings = {});
  if (memo.timer) return;
  let ended = 0;
  memo.timer = setInterval(() => {
    const button = document.querySelector(".st-key-KEY button");
    const main = document.querySelector("[data-testid='stMain']");
    if (!button || !main) return;
    const fresh = (sel) => Array.from(main.querySelectorAll(sel))
      .filter((n) => !n.closest("[data-stale='true']"));
    const marker = fresh(".run-complete")[0];
    if (!marker) { ended = 0; return; }
    ended = ended || Date.now();
    const graph = fresh(".js-plotly-plot")[0];
    if (marker.dataset.charts === "0" || (graph && graph._fullLayout)
        || Date.now() - ended > 10000) {
      clearInterval(memo.timer);
      memo.timer = null;
      button.click();
    }
  }, 50);
})();
</script>""".replace("KEY", SHOW_KEY)


def _show() -> None:
    st.session_state[state.SETTINGS_SHOWN] = True


def ask_after_first_chart() -> None:
    """A session's first page: in place of the settings, the button that shows them, which
    the page presses once the first chart has drawn (a person may press it first)."""
    st.sidebar.button("Show the settings", key=SHOW_KEY, icon=":material/tune:",
                      on_click=_show, width="stretch",
                      help="The settings open by themselves once the chart has drawn.")
    st.sidebar.html(ASK_SCRIPT, unsafe_allow_javascript=True)


def draw() -> None:
    """Draw every control, section by section (``config.SECTIONS``; each setting names its
    section and its label in ``config.FIELDS``); values land in st.session_state under
    their query keys."""
    sb = st.sidebar
    sb.selectbox("Start from a lesson", list(presets.PRESETS), index=None, key="preset_pick",
                 format_func=lambda k: presets.PRESETS[k].title,
                 placeholder="Choose a preset scenario…", on_change=state.on_preset_pick)
    for number, section in enumerate(cfg.SECTIONS, start=1):
        sb.header(f"{number} · {section}")
        SECTION_DRAWERS[section](sb, st.session_state["problem"])


def _problem_section(sb, problem: str) -> None:
    sb.selectbox(_label("problem"), list(losses.PROBLEMS), key="problem",
                 format_func=pairing.PROBLEM_LABELS.get, on_change=state.on_problem_change,
                 help="Changing it moves the output activation and loss to its matched pair.")


def _data_section(sb, problem: str) -> None:
    sb.selectbox(_label("dataset"), [*datasets.for_problem(problem), cfg.UPLOAD], key="dataset",
                 format_func=_dataset_label, on_change=state.on_dataset_change,
                 help="A built-in generator for this problem, or your own CSV file.")
    dataset = st.session_state["dataset"]
    if dataset == cfg.UPLOAD:
        upload.draw(sb, problem)
        _number(sb, _label("seed"), "seed",
                help="Same seed, same split, same initial weights, same picture.")
    else:
        c1, c2 = sb.columns(2)
        _number(c1, _label("n_samples"), "n_samples")
        _number(c2, _label("seed"), "seed",
                help="Same seed, same data, same initial weights, same picture.")
        _slider(sb, _label("noise"), "noise", disabled=dataset == "poisson",
                help="Poisson counts carry their own noise." if dataset == "poisson"
                else datasets.get(dataset).description)
        if dataset in ("spiral", "blobs") and problem == "multiclass":
            _slider(sb, _label("n_classes"), "n_classes")
        elif dataset == "outliers":
            _slider(sb, _label("outlier_share"), "outlier_share",
                    help="Share of points thrown far above the line.")
        elif dataset == "imbalanced":
            _slider(sb, _label("minority_share"), "minority_share",
                    help="Share of points in class 1, the rare class.")
    _slider(sb, _label("val_share"), "val_share")


def _unmarked(text: str) -> str:
    """An option's label without its verdict mark and default star (``_marked``,
    ``_starred``)."""
    for mark in VERDICT_MARKS.values():
        text = text.removeprefix(mark + " ")
    return text.removesuffix("  ★ default")


def recover_choices() -> None:
    """Put back a chosen activation or loss that arrived as its label.

    The options' labels carry marks that follow the other box. A browser that sends a box's
    value while it still shows the labels of an earlier run (two clicks in quick
    succession) sends a label that the new run's options no longer have, and Streamlit then
    hands the label over as the value. The label still names its option: read it back."""
    boxes = {"output_activation": {activations.get(a).label: a
                                   for a in activations.OUTPUT_ACTIVATIONS},
             "loss": {**{losses.get(k).label: k for k in losses.LOSSES},
                      custom.LABEL: losses.CUSTOM}}
    for key, by_label in boxes.items():
        value = st.session_state.get(key)
        if isinstance(value, str) and value not in by_label.values():
            found = by_label.get(_unmarked(value))
            if found is not None:
                st.session_state[key] = found


def _output_and_loss_section(sb, problem: str) -> None:
    default_activation, default_loss = pairing.DEFAULT_PAIR[problem]
    recover_choices()
    chosen_activation, chosen_loss = (st.session_state["output_activation"],
                                      st.session_state["loss"])
    # Each option carries its verdict with the other box's choice. With a key, Streamlit
    # keeps a selectbox's identity when its labels change (only ``accept_new_options``
    # renews it), so the mark can follow the other box without resetting this one
    # (tests/test_app_marks.py and tests/e2e/test_marks_browser.py check that a new
    # activation keeps the loss).
    sb.selectbox(_label("output_activation"), list(activations.OUTPUT_ACTIVATIONS),
                 key="output_activation", on_change=state.on_loss_change,
                 format_func=lambda a: _starred(
                     _marked(activations.get(a).label, problem, a, chosen_loss),
                     a == default_activation),
                 help=f"{MARKS_HELP} with the chosen loss. ★ marks this problem's default "
                      "(matched) output.")
    sb.selectbox(_label("loss"), [*losses.for_problem(problem), losses.CUSTOM], key="loss",
                 on_change=state.on_loss_change,
                 format_func=lambda k: custom.LABEL if k == losses.CUSTOM else
                 _starred(_marked(losses.get(k).label, problem, chosen_activation, k),
                          k == default_loss),
                 help=f"{MARKS_HELP} with the chosen output activation. Mismatched and "
                      "invalid pairs stay selectable so you can watch what goes wrong.")
    activation_now, loss_now = st.session_state["output_activation"], st.session_state["loss"]
    if loss_now == losses.CUSTOM:
        custom.draw_formula(sb, problem, activation_now)
    if loss_now == "huber":
        _slider(sb, _label("delta"), "delta",
                help="Errors smaller than δ are squared, larger ones count linearly. δ is in "
                     "the targets' units: near the ordinary noise level suits it.")
    elif loss_now == "focal":
        _slider(sb, _label("gamma"), "gamma",
                help="γ = 0 is plain cross-entropy; larger γ ignores easy points more.")
    estimates.sidebar_settings(sb, _slider)
    matched = [losses.get(k).label for k in losses.for_problem(problem)
               if pairing.check(problem, activation_now, k).verdict == "matched"]
    sb.caption(f"Matched with {activations.get(activation_now).label}: "
               f"{', '.join(matched) if matched else 'none for this problem'}.")
    if loss_now == losses.CUSTOM:
        custom.draw_verdict(sb, problem, activation_now)
        return
    # drawn by ``verdict`` once the page knows whether a lesson's question waits
    st.session_state[VERDICT_SLOT] = (sb.container(), problem, activation_now, loss_now)


VERDICT_SLOT = "_verdict_slot"
"""This script run's place in the sidebar for the pair's verdict, and the pair."""


def verdict(held: bool) -> None:
    """The chosen pair's verdict and why, under the loss; while a lesson's question waits
    (``held``), a line saying it comes after the prediction (the verdict could answer it)."""
    drawn = st.session_state.pop(VERDICT_SLOT, None)
    if drawn is None:
        return
    sb, problem, activation_now, loss_now = drawn
    if held:
        sb.caption("Whether this pair is matched, and why, shows here once you have "
                   "answered the lesson's question.")
        return
    verdict = pairing.check(problem, activation_now, loss_now)
    box = {"matched": sb.success, "mismatched": sb.warning,
           "invalid": sb.error}[verdict.verdict]
    box(f"**{verdict.verdict.capitalize()}: {verdict.headline}.**  \n{verdict.reason}")
    if verdict.verdict != "matched":
        activation, loss = matched_pair(problem, activation_now, loss_now)
        sb.button(f"Use {activations.get(activation).label} + {losses.get(loss).label}",
                  key="use_matched_pair", icon=":material/build:",
                  on_click=state.apply_changes,
                  args=({"output_activation": activation, "loss": loss},),
                  help="The matched pair nearest to this one: the same loss with its "
                       "matched output, else the same output with a loss matched to it.")


def _network_section(sb, problem: str) -> None:
    sb.text_input(_label("hidden"), key="hidden", max_chars=cfg.FIELD["hidden"].max_chars,
                  help="Units per hidden layer, comma-separated: 16,16 is two layers of 16. "
                       "Empty or 0 for none (a single neuron per output). Up to "
                       f"{MAX_LAYERS} layers of 1 to {MAX_UNITS} units.")
    _inline_error(sb, "hidden", _label("hidden"))
    sb.selectbox(_label("hidden_activation"), list(activations.HIDDEN_ACTIVATIONS),
                 key="hidden_activation", format_func=lambda a: activations.get(a).label)
    sb.select_slider(_label("init_scale"), _options_with(INIT_SCALES,
                                                         st.session_state["init_scale"]),
                     key="init_scale", format_func=lambda v: f"× {v:g}",
                     help="Multiplies the He/Glorot initial weights. Large values start "
                          "sigmoid and tanh units saturated: watch mismatched pairs stall.")


def _training_section(sb, problem: str) -> None:
    sb.selectbox(_label("optimizer"), list(optimizers.OPTIMIZERS), key="optimizer",
                 format_func=optimizers.OPTIMIZERS.get)
    sb.select_slider(_label("lr"), _options_with(LEARNING_RATES, st.session_state["lr"]),
                     key="lr", format_func=lambda v: f"{v:g}")
    if st.session_state["optimizer"] == "momentum":
        _slider(sb, _label("momentum"), "momentum",
                help="How much of the last step each step keeps.")
    sizes = tuple(sorted(set(cfg.BATCH_SIZES) - {0} | {st.session_state["batch_size"]} - {0}))
    sb.select_slider(_label("batch_size"), (*sizes, 0), key="batch_size",
                     format_func=lambda v: "full" if v == 0 else str(v))
    _slider(sb, _label("epochs"), "epochs")
    sb.select_slider(_label("l2"), _options_with(L2_VALUES, st.session_state["l2"]), key="l2",
                     format_func=lambda v: f"{v:g}")


SECTION_DRAWERS = {"Problem": _problem_section, "Data": _data_section,
                   "Output and loss": _output_and_loss_section, "Network": _network_section,
                   "Training": _training_section}
"""How each of ``config.SECTIONS`` is drawn (a section shows only the settings that apply)."""
