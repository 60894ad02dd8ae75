"""A lesson as a student meets it: first a question about what the animation will show, then
the replay, then what happened; its point, what to watch and what the app measured one click
away."""

from __future__ import annotations

import hashlib
import html

import streamlit as st

from explorer import config as cfg
from explorer import presets
from explorer.claims import Runs
from explorer.lessons import questions, words
from explorer.ui import compute, playback, state

DETAILS = "What the app measured"
PREDICTIONS = "_predictions"
"""This session's answers: "lesson key:seed" -> the answer's index, or SKIPPED."""
SKIPPED = -1
REVEAL_SLOT = "_reveal_slot"
"""Where this script run draws the reveal once the runs are trained (set by ``introduce``)."""


def banner(preset: presets.Preset) -> None:
    """The lesson's sentence, then what to watch for and its measured claims in a closed
    details section (a lesson opened without its question)."""
    st.info(f"**Lesson: {preset.title}.** {preset.summary}", icon=":material/school:")
    with st.expander(DETAILS, icon=":material/fact_check:"):
        details(preset)


def revealed_label(preset: presets.Preset) -> str:
    """The label of a lesson's details once what happened shows above them: the lesson's
    title, and its sentence inside."""
    return f"**Lesson: {preset.title}** · its point and what the app measured"


def details(preset: presets.Preset) -> None:
    """What to watch for, why, the claims the app checked and the words they use."""
    st.markdown(f"**Watch for** in the replay: {preset.watch_for}")
    st.markdown(presets.readable(preset.explanation))
    st.caption("Checked by the app on this lesson's seed and on five others:")
    st.markdown("\n".join(f"- {presets.readable(claim.text)}" for claim in preset.claims))
    said = " ".join([preset.explanation, *(claim.text for claim in preset.claims)])
    terms = words.glossary_for(said)
    if terms:
        st.caption("  \n".join(f"**{term}**: {meaning}." for term, meaning in terms))


# ----------------------------------------------------------------------------------------
# Predict, then watch


def _record(key: str, seed: int) -> str:
    return f"{key}:{seed}"


def prediction(key: str, seed: int) -> int | None:
    """The answer this session gave to lesson ``key`` on ``seed`` (SKIPPED), or None."""
    return st.session_state.get(PREDICTIONS, {}).get(_record(key, seed))


def predict(key: str, seed: int, answer: int) -> None:
    """An answer button's callback: remember the prediction for this lesson and seed."""
    st.session_state.setdefault(PREDICTIONS, {})[_record(key, seed)] = answer


def begin(config: cfg.Config) -> None:
    """At the start of each script run: the replay's gate for this page, and no reveal left
    over from an earlier run."""
    st.session_state.pop(REVEAL_SLOT, None)
    playback.set_gate(gate(config))


def asking(config: cfg.Config) -> presets.Preset | None:
    """The lesson whose question this page asks (its settings untouched, and not opened
    with ``?ask=0``), else None."""
    if not st.session_state.get(state.ASK, True):
        return None
    preset, unchanged = state.lesson(config)
    return preset if preset is not None and unchanged else None


def gate(config: cfg.Config) -> str | None:
    """The replay's gate for this page: "hold" while the lesson's question waits for an
    answer, "go" once it has one, None on a page without a question."""
    preset = asking(config)
    if preset is None:
        return None
    return "hold" if prediction(preset.key, config.seed) is None else "go"


def question_runs(config: cfg.Config) -> list[cfg.Config]:
    """The runs the page's question reads (the page budget counts them)."""
    preset = asking(config)
    if preset is None:
        return []
    configs = preset.configs(config.seed)
    return [configs[name] for name in questions.runs_needed(preset)]


def _reveal_id(preset: presets.Preset, config: cfg.Config) -> str:
    return hashlib.sha1(f"{preset.key}:{config.key()}".encode()).hexdigest()[:10]


WAITING_CSS = """
<style>
/* the replay and everything measured wait, out of focus, until the student predicts */
[class*="st-key-lfe_stage"] { filter: blur(14px) grayscale(0.6); opacity: 0.35;
  pointer-events: none; user-select: none; }
.st-key-lfe_answers button p { font-size: 15px; }
</style>
"""

HOLD_STAGE = """
<script>
// Out of reach as well as out of focus: while the question's answers are on the page, the
// held stage is inert (no focus, no find-in-page, no pointer) and hidden from assistive
// technology; once they are gone (answered, skipped, another page), it is released.
// Installed once per page; a mutation observer acts before the next paint.
(function () {
  if (window.__lfeHoldStage) return;
  window.__lfeHoldStage = true;
  function hold() {
    const asking = !!document.querySelector(".st-key-lfe_answers");
    document.querySelectorAll("[class*='st-key-lfe_stage']").forEach((stage) => {
      if (asking && !stage.hasAttribute("inert")) {
        stage.setAttribute("inert", "");
        stage.setAttribute("aria-hidden", "true");
      } else if (!asking && stage.hasAttribute("inert")) {
        stage.removeAttribute("inert");
        stage.removeAttribute("aria-hidden");
      }
    });
  }
  new MutationObserver(hold).observe(document.body, {childList: true, subtree: true});
  hold();
})();
</script>
"""


def introduce(preset: presets.Preset, config: cfg.Config) -> None:
    """The lesson's first screen: its question and answers while unanswered; once answered,
    the question with the prediction until the replay ends, then the lesson's banner with
    what happened (drawn by ``reveal`` when the runs are ready)."""
    if asking(config) is None:  # opened with ?ask=0
        banner(preset)
        return
    with st.container(key="lfe_lesson"):
        _introduce(preset, config)


def _introduce(preset: presets.Preset, config: cfg.Config) -> None:
    question = preset.question
    answer = prediction(preset.key, config.seed)
    presenting = state.presenting()
    if answer is None:
        with st.container(key="lfe_question"):
            # the lesson's title waits too: some titles say what happens
            st.info(f"**Predict first:** {question.text}", icon=":material/quiz:")
            with st.container(horizontal=True, key="lfe_answers", gap="small"):
                for index, text in enumerate(question.answers):
                    st.button(text, key=f"predict_{index}", on_click=predict,
                              args=(preset.key, config.seed, index))
                st.button("Skip", key="predict_skip", icon=":material/skip_next:",
                          type="tertiary", on_click=predict,
                          args=(preset.key, config.seed, SKIPPED),
                          help="Watch without predicting.")
        st.html(WAITING_CSS + HOLD_STAGE + playback.HOLD_KEYS, unsafe_allow_javascript=True)
        return
    rid = _reveal_id(preset, config)
    st.html(playback.reveal_html(rid, config.key()), unsafe_allow_javascript=True)
    chosen = ("You skipped the question" if answer == SKIPPED else
              f"You predicted: <b>{html.escape(question.answers[answer])}</b>")
    with st.container(key=f"lfe_before_{rid}"):
        st.html(playback.pending_html(rid, html.escape(question.text), chosen))
    with st.container(key=f"lfe_after_{rid}"):
        # the replay is over: what happened, where the question stood; under it the
        # lesson's title, with its point, what to watch for and what was measured one click
        # away, so that a 1280x720 window still holds a chart of half its height and the
        # playback bar under them
        slot = st.container()
        if not presenting:
            with st.expander(revealed_label(preset), icon=":material/school:"):
                st.markdown(preset.summary)
                details(preset)
    st.session_state[REVEAL_SLOT] = (preset.key, config, slot)


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False)
def outcome(key: str, seed: int, runs: tuple[compute.RunKey, ...]
            ) -> questions.Outcome | str:
    """What happened on these runs (the lesson's question's runs on ``seed``), or why the
    runs do not settle it."""
    preset = presets.get(key)
    cache = {run_key.config.key(): compute.train(run_key) for run_key in runs}
    try:
        return questions.outcome(preset, Runs(preset.configs(seed), cache))
    except questions.Undecided as exc:
        return str(exc)


def reveal() -> None:
    """Under the lesson's banner: what happened, why, and whether the prediction was right
    (shown by the page once the replay has ended)."""
    drawn = st.session_state.pop(REVEAL_SLOT, None)
    if drawn is None:
        return
    key, config, slot = drawn
    preset = presets.get(key)
    runs = []
    for other in question_runs(config):
        compute.train_with_progress(other)
        runs.append(compute.key(other))
    result = outcome(key, config.seed, tuple(runs))
    answer = prediction(key, config.seed)
    with slot:
        if isinstance(result, str):
            st.warning("**This run does not settle the question.** The measurement it needs "
                       "could not be made (the run may have stopped early).",
                       icon=":material/help:")
            return
        st_box, icon, lead = reveal_box(answer, result.answer, preset.question)
        st_box(f"**{lead}** {result.sentence}", icon=icon)


def reveal_box(answer: int | None, happened: int, question: questions.Question):
    """(the box, its icon, its bold lead) for a prediction and what happened."""
    if answer is None or answer == SKIPPED:
        return st.info, ":material/visibility:", "What happened:"
    if answer == happened:
        return st.success, ":material/check_circle:", "You predicted it."
    return (st.warning, ":material/lightbulb:",
            f"Not this time: you predicted \"{question.answers[answer]}\".")
