"""Verdict marks inside the activation and loss lists (AppTest); the browser half is in
tests/e2e/test_marks_browser.py."""

import pytest

from tests.apptest import app, ok


def _marked(options: list[str]) -> dict[str, str]:
    """{label without mark and star: mark} of a list's options."""
    out = {}
    for option in options:
        mark, _, rest = option.partition(" ")
        out[rest.replace("★ default", "").strip()] = mark
    return out


@pytest.mark.parametrize("activation, expected", [
    # pinned by hand from the pairing rule, not read from the table the code uses
    ("sigmoid", {"Binary cross-entropy": "✓", "Mean squared error": "~", "Hinge": "~"}),
    ("linear", {"Binary cross-entropy": "✗", "Hinge": "✓", "Mean squared error": "~"}),
])
def test_the_loss_list_marks_each_loss_for_the_chosen_activation(activation, expected):
    at = ok(app(output_activation=activation, loss="mse", epochs="5"))
    marks = _marked(at.selectbox(key="loss").options)
    assert {label: marks[label] for label in expected} == expected
    assert at.selectbox(key="loss").options[-1] == "Your formula…", "a formula has no mark"


def test_the_activation_list_marks_each_activation_for_the_chosen_loss():
    at = ok(app(problem="regression", loss="mse", epochs="5"))
    marks = _marked(at.selectbox(key="output_activation").options)
    assert marks["Linear (identity)"] == "✓"
    assert marks["Sigmoid"] == "~"  # works, but cannot reach targets outside (0, 1)
    at = ok(app(problem="counts", loss="poisson", epochs="5"))
    marks = _marked(at.selectbox(key="output_activation").options)
    assert marks["Exponential"] == "✓" and marks["Linear (identity)"] == "✗"


def test_a_new_activation_moves_the_marks_and_keeps_the_loss():
    at = ok(app(epochs="5"))
    at.selectbox(key="loss").set_value("mse").run()
    assert _marked(at.selectbox(key="loss").options)["Mean squared error"] == "~"
    at.selectbox(key="output_activation").set_value("linear").run()
    at.number_input(key="seed").set_value(3).run()
    ok(at)
    assert at.session_state["loss"] == "mse"
    assert at.session_state["output_activation"] == "linear"
    assert _marked(at.selectbox(key="loss").options)["Binary cross-entropy"] == "✗"
