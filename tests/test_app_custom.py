"""Your own loss in the app, through AppTest: the box, its examples, the derivative,
the three answers, a rejected formula, links, and every view."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer import config as cfg
from explorer import experiment, formula, losses
from tests.apptest import app, ok, specs

EPOCHS = "60"
NO_NEGATIVES = "-y*log(p)"
HOSTILE = "__import__('os').system('touch /tmp/pwned')"


def query(at: AppTest, key: str) -> str:
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def typed(at: AppTest, text: str) -> AppTest:
    at.text_input(key="formula").input(text).run()
    return ok(at)


def sidebar_text(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "success", "warning",
                                                "error") for e in getattr(at.sidebar, kind))


def in_order(block) -> list:
    """The elements of a block, depth first, in the order they are drawn."""
    found = []
    for _, child in sorted(block.children.items()):
        found.append(child)
        if getattr(child, "children", None):
            found += in_order(child)
    return found


def custom_run(**changes) -> AppTest:
    """The default scenario with "Your formula…" picked and NO_NEGATIVES typed."""
    at = ok(app(epochs=EPOCHS, **changes))
    at.selectbox(key="loss").set_value(losses.CUSTOM).run()
    return typed(ok(at), NO_NEGATIVES)


def test_typing_a_formula_trains_it_and_shows_its_derivative_and_three_answers():
    at = custom_run()
    assert (query(at, "loss"), query(at, "formula")) == ("custom", NO_NEGATIVES)
    config = cfg.DEFAULT.replace(epochs=int(EPOCHS), loss="custom", formula=NO_NEGATIVES)
    assert specs(at)[0]["layout"]["meta"] == config.key()
    # the formula and its exact derivative, in LaTeX
    side = sidebar_text(at)
    assert r"L = - y \log{\left(p \right)}" in side
    assert r"\frac{\partial L}{\partial p} = - \frac{y}{p}" in side
    # the sidebar verdict: three answers with their numbers
    # -y*log(p) is lowest at p -> 1 whatever the labels: degenerate, so invalid
    (verdict,) = [w.value for w in at.sidebar.error]
    assert verdict.startswith("**Invalid by the three answers: Degenerate")
    assert "lowest at p = 1" in verdict and "outputs 0.000335 to 1" in verdict
    assert "|dL/dz| = 1 at z = -8 and 0 at z = 8" in verdict
    # the pair panel: the three questions, each with its measured sentence
    panel = [m.value for m in at.main.markdown if " · " in m.value]
    assert len(panel) == 3
    assert "1 · Is the loss lowest" in panel[0] and "p = 1, 1, 1, 1" in panel[0]
    assert "2 · Is it defined" in panel[1] and "finite" in panel[1]
    assert "3 · Does dL/dz stay away from 0" in panel[2] and "vanishes" in panel[2]
    main_latex = [m.value for m in at.main.latex]
    assert any(r"\left(- \frac{y}{p}\right)\cdot p(1 - p)" in v for v in main_latex)
    # and the lesson is what the run shows: class 1 for every point
    y_train = experiment.make_data(config).y_train
    accuracy = next(m.value for m in at.metric if m.label == "Train accuracy")
    assert accuracy == f"{np.mean(y_train == 1):.1%}"


def test_a_rejected_formula_keeps_the_run_and_says_why_under_the_box():
    at = custom_run()
    before = specs(at)[0]
    typed(at, HOSTILE)
    assert at.text_input(key="formula").value == HOSTILE  # what was typed stays
    elements = in_order(at.sidebar)
    box = next(i for i, e in enumerate(elements) if getattr(e, "key", None) == "formula")
    assert elements[box + 1].type == "error" and "attribute access" in elements[box + 1].value
    assert "Still training the last valid formula" in sidebar_text(at)
    assert not any("Ignored formula" in w.value for w in at.sidebar.warning)
    after = specs(at)[0]
    assert after["layout"]["meta"] == before["layout"]["meta"]
    assert after == before  # the same run, the same figure
    assert query(at, "formula") == NO_NEGATIVES
    assert any("Invalid by the three answers" in e.value for e in at.sidebar.error)
    # a valid formula again: the message goes, a new run comes
    typed(at, "abs(p - y)")
    assert not at.sidebar.error
    assert specs(at)[0]["layout"]["meta"] != before["layout"]["meta"]
    assert query(at, "formula") == "abs(p - y)"


def test_a_link_round_trips_the_formula_url_encoded():
    config = cfg.default_for("regression").replace(
        dataset="heteroscedastic", loss="custom", epochs=int(EPOCHS),
        formula=formula.example("pinball").formula)
    link = urlencode(config.to_query())
    assert "formula=where%28y+%3E+p%2C+0.9%2A%28y+-+p%29" in link
    assert cfg.from_query(parse_qs(link)) == (config, [])
    at = ok(app(**config.to_query()))
    assert at.text_input(key="formula").value == config.formula
    assert query(at, "formula") == config.formula
    assert specs(at)[0]["layout"]["meta"] == config.key()
    assert not at.main.warning  # no notice: the link was read as written
    # the pinball example is the built-in pinball with tau = 0.9: matched, as the built-in
    assert "Matched by the three answers" in at.sidebar.success[0].value


@pytest.mark.parametrize("text", [
    HOSTILE, "().__class__.__bases__[0]", "[c for c in ()]", "1e308**2*p", "p" * 300,
    "$\\alpha$ **bold** <b>x</b>", "lambda: p"])
def test_a_hostile_formula_in_a_link_falls_back_with_a_notice(text):
    at = ok(app(loss="custom", formula=text, epochs=EPOCHS))
    (notice,) = [w.value for w in at.main.warning]
    assert notice.startswith("Ignored formula=") and "using \\(p \\- y\\)\\*\\*2" in notice
    assert "**" not in notice.replace("\\*\\*", "")  # shown as typed, not as Markdown
    assert at.session_state["loss"] == "custom"
    assert at.text_input(key="formula").value == "(p - y)**2"
    fallback = cfg.DEFAULT.replace(loss="custom", epochs=int(EPOCHS))
    assert specs(at)[0]["layout"]["meta"] == fallback.key()
    assert not Path("/tmp/pwned").exists()


def test_examples_fill_the_box_and_load_the_setting_of_their_lesson():
    at = custom_run()
    at.selectbox(key="formula_example").set_value("broken_log").run()
    ok(at)
    assert at.text_input(key="formula").value == "log(p - y)"
    assert (at.session_state["problem"], at.session_state["output_activation"],
            at.session_state["dataset"]) == ("regression", "linear", "sine")
    assert at.session_state["formula_example"] is None
    assert "stops the run with NaN in epoch 1" in sidebar_text(at)  # its lesson
    assert "Training stopped at epoch 1" in at.main.error[0].value
    assert "Invalid by the three answers" in at.sidebar.error[0].value
    # a typed copy of BCE trains exactly like the built-in
    at.selectbox(key="formula_example").set_value("bce_by_hand").run()
    ok(at)
    assert at.session_state["problem"] == "binary"
    builtin = experiment.run(cfg.DEFAULT.replace(epochs=int(EPOCHS))).history
    loss = next(m.value for m in at.metric if m.label == "Train loss")
    assert loss == f"{builtin['loss'].iloc[-1]:.4g}"
    assert "Matched by the three answers" in at.sidebar.success[0].value


def test_your_formula_races_the_built_in_losses():
    at = custom_run()
    at.radio(key="view").set_value("Compare").run()
    ok(at)
    pairs = at.multiselect(key="compare_pairs_binary")
    assert pairs.value[:1] == ["sigmoid|custom"]
    assert f"Sigmoid + your formula {NO_NEGATIVES}" in pairs.options
    table = at.table[0].value.set_index("pair")
    row = table.loc["Sigmoid + your formula"]
    assert row["verdict"] == "invalid"
    assert table.loc["Sigmoid + Binary cross-entropy", "verdict"] == "matched"
    accuracy = next(m.value for m in at.metric if m.label == "Validation accuracy")
    assert f"{row['validation accuracy']:.1%}" == accuracy
    # with a built-in loss in the sidebar the formula can still race, as typed
    at.selectbox(key="loss").set_value("bce").run()
    ok(at)
    assert "sigmoid|custom" in at.multiselect(key="compare_pairs_binary").value
    again = at.table[0].value.set_index("pair").loc["Sigmoid + your formula"]
    assert again["validation accuracy"] == row["validation accuracy"]


def test_anatomy_reads_the_problem_not_the_formula():
    at = custom_run()
    at.radio(key="view").set_value("Loss anatomy").run()
    ok(at)
    (figure, _) = specs(at)
    names = {t.get("name") for t in figure["data"]}
    # one sigmoid unit with binary targets, not three classes; the pair names the chart
    assert figure["layout"]["title"]["text"].replace("<br>", " ") == "Sigmoid + Your formula"
    assert "target y = 1" in names
    assert not any("true class" in (n or "") for n in names)
    latex = [m.value for m in at.main.latex]
    assert any(r"L = - y \log{\left(p \right)}" in v for v in latex)
    assert any(r"\left(- \frac{y}{p}\right)\cdot p(1 - p)" in v for v in latex)


def test_the_error_surface_is_the_formulas():
    at = custom_run()
    at.radio(key="view").set_value("Error surface").run()
    ok(at)
    surface, line = specs(at)
    key = cfg.DEFAULT.replace(epochs=int(EPOCHS), loss="custom", formula=NO_NEGATIVES).key()
    assert surface["layout"]["meta"] == key and line["layout"]["meta"] == key + ":line"
    assert "Your formula" in json.dumps(line["layout"])


def test_the_typed_formula_survives_a_trip_to_another_loss():
    at = custom_run()
    at.selectbox(key="loss").set_value("bce").run()
    ok(at)
    assert query(at, "formula") == "(p - y)**2"  # unused: links stay canonical
    at.selectbox(key="loss").set_value(losses.CUSTOM).run()
    ok(at)
    assert at.text_input(key="formula").value == NO_NEGATIVES
    assert query(at, "formula") == NO_NEGATIVES


@pytest.mark.parametrize("problem", losses.PROBLEMS)
def test_every_problem_offers_your_formula(problem):
    at = ok(app(problem=problem, epochs="20"))
    assert at.selectbox(key="loss").options[-1] == "Your formula…"
    at.selectbox(key="loss").set_value(losses.CUSTOM).run()
    ok(at)
    assert "by the three answers" in sidebar_text(at)
    assert specs(at)[0]["layout"]["meta"] == cfg.default_for(problem).replace(
        loss="custom", epochs=20).key()


def test_a_lesson_leaves_the_typed_formula_in_its_box():
    at = custom_run()
    at.selectbox(key="preset_pick").set_value("why_not_mse").run()
    ok(at)
    assert at.session_state["loss"] == "mse"
    at.selectbox(key="loss").set_value(losses.CUSTOM).run()
    assert at.text_input(key="formula").value == NO_NEGATIVES
    assert query(ok(at), "formula") == NO_NEGATIVES


def test_presenting_a_typed_formula_shows_its_verdict_in_the_header():
    at = ok(app(present="1", loss="custom", formula="abs(y-p)"))
    header = " ".join(m.value for m in at.markdown)
    assert "Your formula" in header
    assert any(word in header for word in ("matched", "mismatched", "invalid"))
