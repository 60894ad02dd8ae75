"""Your own loss in the app: the formula box, its examples, its exact derivative, and the
pairing rule's three answers where the built-in losses show their table verdict.

The box (key ``formula``) may hold text that is not a formula. The text stays there, its
message sits right under it, and the run on screen keeps the last valid formula
(``LAST_VALID``): ``settle`` puts that one into the config the app trains.

Everything SymPy does with typed text (parse, differentiate, compile, judge) runs in
``sandbox.formulas``, a worker process with a time limit, and the session waits for it
without the script turn (``turns.aside``), so a formula that never finishes is its author's
sentence under the box and nobody else's wait.
"""

from __future__ import annotations

import streamlit as st

from explorer import activations, datasets, formula, losses, pairing, sandbox, tabular
from explorer import config as cfg
from explorer.experiment import Run
from explorer.ui import state, turns

sandbox.waiting = turns.aside
"""A session waiting on a formula's worker gives its script turn back meanwhile."""

BOX = "formula"
EXAMPLE = "formula_example"
LAST_VALID = "_formula_valid"
LABEL = "Your formula…"
QUESTIONS = ("Is the loss lowest where the problem wants the output?",
             "Is it defined on the output's whole range?",
             "Does dL/dz stay away from 0 where the answer is confidently wrong?")
VERDICT_ICON = {"matched": ":green[:material/check_circle:]",
                "mismatched": ":orange[:material/warning:]", "invalid": ":red[:material/block:]"}
YES, NO = ":green[:material/check:]", ":red[:material/close:]"
RULE = ("A typed formula's verdict is read off the three answers, by the same rule that gives "
        "every built-in loss its verdict: matched when all three are yes; invalid when the loss "
        "is undefined somewhere on the output's range (2), has no minimum that depends on the "
        "targets (1: degenerate), or no confidently wrong answer gets any gradient at all (3); "
        "mismatched otherwise. The answers are measured with the trainer's own dL/dz.")
HELP = ("The loss of one sample and output unit, in y (the target) and p (the prediction, "
        "after the output activation): numbers, + − * / ** (or ², ³), abs, log, log1p, exp, "
        "sqrt, minimum(a, b), maximum(a, b) and where(condition, a, b) with <, <=, >, >=. "
        f"At most {formula.MAX_LENGTH} characters. The loss is its mean over the samples; "
        "with several classes, y and p are one class's entries and the formula is summed "
        "over the classes. Press Enter to train.")


def rejection(text: str | None) -> str | None:
    """Why the text is not a usable formula (one line), or None when it is."""
    try:
        cfg.parse_formula("" if text is None else text)
    except ValueError as error:
        return str(error)
    return None


def trained_formula() -> str:
    """The formula a run uses: the box's text when it is valid, else the last valid one."""
    text = st.session_state.get(BOX)
    if text is not None and rejection(text) is None:
        st.session_state[LAST_VALID] = cfg.parse_formula(text)
    return st.session_state.get(LAST_VALID, cfg.Config.formula)


def settle(config: cfg.Config, notices: list[str]) -> tuple[cfg.Config, list[str]]:
    """Train the last valid formula while the box holds a rejected one; its message is under
    the box, so it is not repeated as a notice."""
    notices = [n for n in notices if not n.startswith(f"Ignored {BOX}=")]
    if config.loss == losses.CUSTOM:
        config = config.replace(formula=trained_formula())
    return config, notices


# ----------------------------------------------------------------------------------------
# Sidebar


def draw_formula(sb, problem: str, activation: str) -> None:
    """The box, its message, the examples and the trained formula with its dL/dp."""
    sandbox.formulas.warm()  # someone is about to type: have a worker ready
    sb.text_input("Your formula L(y, p)", key=BOX, help=HELP, persist_state="page",
                  placeholder="e.g. log(1 + (y - p)**2)", max_chars=cfg.FIELD[BOX].max_chars)
    message = rejection(st.session_state.get(BOX))
    text = trained_formula()
    if message is not None:
        sb.error(f"**Not used:** {literal(message)}.", icon=":material/error:")
        sb.caption(f"Still training the last valid formula:  \n`{text}`")
    sb.selectbox("Examples", [e.key for e in formula.EXAMPLES], index=None, key=EXAMPLE,
                 format_func=lambda key: formula.example(key).label,
                 placeholder="Try an example…", on_change=_on_example,
                 help="Fills the box and loads the problem, output and dataset the example "
                      "is about.")
    shown = _example_of(text)
    if shown is not None:
        setting = (f"{pairing.PROBLEM_LABELS[shown.problem].lower()}, "
                   f"{activations.get(shown.activation).label.lower()} output, "
                   f"{datasets.get(shown.dataset).label.lower()}")
        if (problem, activation) == (shown.problem, shown.activation):
            sb.caption(f":material/school: **{shown.label}.** {shown.lesson}")
        else:
            sb.caption(f":material/school: This is the example “{shown.label}”; its lesson is "
                       f"about {setting}: pick it under Examples to load that setting.")
    loss = sandbox.formula_loss(text)  # worked out already: remembered, not redone
    # inline math: KaTeX breaks a long derivative after + and = instead of cutting it off
    sb.markdown(rf"$\displaystyle L = {loss.formula}$  " "\n"
                rf"$\displaystyle \frac{{\partial L}}{{\partial p}} = {loss.grad_formula}$")


def literal(text: str) -> str:
    """Text shown as typed in Streamlit's Markdown (``tabular.literal``: * _ $ escaped, and
    the :icons: and bare links that escaping alone lets through)."""
    return tabular.literal(text)


def _example_of(text: str) -> formula.Example | None:
    return next((e for e in formula.EXAMPLES if formula.normalise(e.formula) == text), None)


def _on_example() -> None:
    """Fill the box with the example and load the setting its lesson is about."""
    key = st.session_state.get(EXAMPLE)
    if key:
        example = formula.example(key)
        st.session_state[BOX] = example.formula
        st.session_state.update(
            problem=example.problem, output_activation=example.activation,
            dataset=example.dataset, noise=datasets.get(example.dataset).default_noise,
            loss=losses.CUSTOM)
        st.session_state[state.ACTIVE_PRESET] = None
    st.session_state[EXAMPLE] = None


def draw_verdict(sb, problem: str, activation: str) -> None:
    """The sidebar's verdict box: the three answers, each with its key numbers."""
    try:
        verdict = sandbox.formula_verdict(problem, activation, trained_formula())
    except formula.FormulaError as error:
        sb.error(f"**No verdict:** {literal(str(error))}.", icon=":material/error:")
        return
    box = {"matched": sb.success, "mismatched": sb.warning, "invalid": sb.error}[verdict.verdict]
    lines = [f"{mark} **{i} ·** {text}" for i, (mark, text) in enumerate(
        short_answers(verdict.answers), start=1)]
    box(f"**{verdict.verdict.capitalize()} by the three answers: {verdict.headline}.**  \n"
        + "  \n".join(lines))


def short_answers(answers) -> list[tuple[str, str]]:
    """(mark, one line with the numbers) for each of the three questions."""
    optimum, defined, gradient = answers.optimum, answers.defined, answers.gradient
    case = next((c for c in optimum.cases if not c.ok), optimum.cases[0])
    at = ", ".join(_show(v) for v in case.minimiser)
    at = f"({at})" if len(case.minimiser) > 1 else at
    first = f"Optimum: {optimum.estimates} (for {case.target}: lowest at p = {at})."
    if defined.ok:
        second = (f"Defined for every z in [−{pairing.WRONG_Z:g}, {pairing.WRONG_Z:g}] "
                  f"(outputs {_show(defined.outputs[0])} to {_show(defined.outputs[1])}).")
    else:
        z, _ = defined.undefined_at or (float("nan"), 0.0)
        second = (f"Undefined: NaN or infinite at z = {z:g}, and on "
                  f"{defined.undefined_share:.0%} of the sweep.")
    sizes = " and ".join(f"{_show(abs(c.gradient))} at z = {c.z:g}" for c in gradient.cases)
    if any(c.vanishes for c in gradient.cases):
        third = f"Gradient vanishes when confidently wrong: |dL/dz| = {sizes}."
    elif not gradient.ok:
        third = f"Gradient points the wrong way when confidently wrong: |dL/dz| = {sizes}."
    else:
        third = f"Gradient stays when confidently wrong: |dL/dz| = {sizes}."
    return [(YES if optimum.ok else NO, first), (YES if defined.ok else NO, second),
            (YES if gradient.ok else NO, third)]


def _show(value: float) -> str:
    return f"{value:.3g}"


# ----------------------------------------------------------------------------------------
# Main area


def pair_panel(run: Run) -> None:
    """'Why this pair' for a typed formula: the three questions with their numbers."""
    config, verdict = run.config, run.pairing
    answers = getattr(verdict, "answers", None)
    loss = sandbox.formula_loss(config.formula)
    act = activations.get(config.output_activation)
    st.markdown("#### Why this pair")
    with st.container(border=True, key="custom_pair_panel"):
        left, right = st.columns([1.15, 1])
        with left:
            st.markdown(f"##### {VERDICT_ICON[verdict.verdict]} {act.label} + your formula: "
                        f"{verdict.verdict}")
            st.markdown(f"**{verdict.headline}.**")
            if answers is not None:
                for i, (question, sentence, ok) in enumerate(zip(
                        QUESTIONS, answers.sentences,
                        (answers.optimum.ok, answers.defined.ok, answers.gradient.ok)), start=1):
                    st.markdown(f"{YES if ok else NO} **{i} · {question}** {sentence}")
            st.caption(RULE)
        with right:
            st.markdown(f"{literal(loss.likelihood_sentence)}  \n"
                        f"**Targets:** {loss.target_encoding}.")
            st.latex(rf"L(p, y) = {loss.formula}")
            st.latex(rf"\frac{{\partial L}}{{\partial p}} = {loss.grad_formula}")
            st.latex(rf"p = {act.formula}")
            st.latex(rf"\frac{{\partial L}}{{\partial z}} = "
                     rf"{pairing.gradient_at_z(act.key, loss, config.problem)}")


def compare_options(config: cfg.Config) -> dict[str, str]:
    """{'activation|custom': its label} for every output activation, once the person has a
    formula. The labels are made here, not in a format_func, which may run outside the
    session (AppTest formats values after the run)."""
    if config.loss != losses.CUSTOM and LAST_VALID not in st.session_state:
        return {}
    text = trained_formula()
    return {f"{a}|{losses.CUSTOM}": f"{act.label} + your formula {text}"
            for a, act in ((a, activations.get(a)) for a in activations.OUTPUT_ACTIVATIONS)}


def contestant(config: cfg.Config, activation: str) -> cfg.Config:
    """The scenario with this output and the current formula as its loss."""
    return config.replace(output_activation=activation, loss=losses.CUSTOM,
                          formula=trained_formula())
