"""Numbers as people write them (pinned by hand)."""

import math

import pytest

from explorer import numbers


@pytest.mark.parametrize("value, shown", [
    (7.826e-05, "7.8 × 10⁻⁵"), (1e-12, "10⁻¹²"), (-3.2e-7, "−3.2 × 10⁻⁷"),
    (12345678.0, "1.2 × 10⁷"), (0.5, "0.5"), (0.0123, "0.0123"), (1234.5, "1234"),
    (0.0, "0"), (math.nan, "—"), (math.inf, "—"),
])
def test_a_number_is_never_shown_in_e_notation(value, shown):
    assert numbers.number(value) == shown


def test_e_notation_inside_words_becomes_powers_of_ten():
    shown = numbers.text("≤ 1e-12; 2.5e-05, 3e2 and 0.001")
    assert shown == "≤ 10⁻¹²; 2.5 × 10⁻⁵, 3 × 10² and 0.001"
    assert numbers.text("a1e-3 stays") == "a1e-3 stays"
