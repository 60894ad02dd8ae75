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


def test_a_choice_that_arrives_as_an_earlier_runs_label_is_read_back():
    """Two quick clicks: the browser sends a box's value as the label it still shows, with
    the marks of an earlier run, which this run's options no longer have (with a typed
    formula the activations carry no marks); Streamlit hands the label over as the value.
    The app reads the option back from it."""
    at = ok(app(epochs="5", loss="custom"))
    box = at.selectbox(key="output_activation")
    assert "✓" not in " ".join(box.options)
    stale = "✓ Sigmoid  ★ default"  # its label in a run with a built-in loss

    class Stale(type(box)):
        """The box as a browser still showing an earlier run's labels sends it."""

        @property
        def _widget_state(self):
            state = super()._widget_state
            state.string_value = stale
            return state

    box.__class__ = Stale
    at.run()
    ok(at)
    assert at.session_state["output_activation"] == "sigmoid"
    assert at.selectbox(key="output_activation").value == "sigmoid"
