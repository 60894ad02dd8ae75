"""The symbols the formulas use are explained in words where they are shown."""

from explorer import losses, notation, pairing
from tests.apptest import app, ok


def test_hinges_iverson_bracket_and_focals_p_t_are_explained():
    hinge = notation.notes(losses.get("hinge").formula, pairing.gradient_at_z("linear", "hinge"))
    assert any(n.startswith("[s·p < 1] is 1 while the point is inside the margin")
               for n in hinge)
    assert any(n.startswith("s is the label read as −1 or +1") for n in hinge)
    focal = notation.notes(losses.get("focal").formula)
    assert any("p_t is the probability given to the true class" in n for n in focal)
    assert notation.notes(losses.get("mse").formula) == []


def test_the_pair_panel_and_the_anatomy_view_say_what_the_symbols_mean():
    at = ok(app(output_activation="linear", loss="hinge", epochs="10"))
    assert any("[s·p < 1] is 1 while" in c.value for c in at.main.caption)
    at = ok(app(loss="focal", epochs="10", view="Loss anatomy"))
    assert sum("p_t is the probability" in c.value for c in at.main.caption) == 2
