"""Numbers as people write them: 7.8 × 10⁻⁵, not 7.826e-05; 10⁻¹², not 1e-12."""

from __future__ import annotations

import math
import re

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
E_NOTATION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)e([+-]?)0*(\d+)\b")


def _power(mantissa: str, sign: str, exponent: str) -> str:
    ten = "10" + (("-" if sign == "-" else "") + exponent).translate(SUPERSCRIPT)
    return ten if mantissa in ("1", "1.0") else f"{mantissa} × {ten}"


def text(words: str) -> str:
    """Every number in e-notation inside ``words`` written as a power of ten."""
    return E_NOTATION.sub(lambda m: _power(*m.groups()), words)


def number(value: float, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits; very small or large ones as powers of
    ten (2 significant digits), never in e-notation; "—" for a missing value."""
    if value is None or not math.isfinite(value):
        return "—"
    shown = f"{value:.{digits}g}"
    if "e" not in shown:
        return shown
    mantissa, exponent = f"{abs(value):.1e}".split("e")
    sign = "−" if value < 0 else ""
    return sign + _power(mantissa.rstrip("0").rstrip(".") or "0", exponent[0],
                         exponent[1:].lstrip("0") or "0")


def power_of_ten(exponent: int) -> str:
    """10 to an integer power as a tick label: 10⁻⁶, 0.1 → 10⁻¹, 1, 10, 10²."""
    if exponent == 0:
        return "1"
    return "10" if exponent == 1 else _power("1", "-" if exponent < 0 else "",
                                             str(abs(exponent)))
