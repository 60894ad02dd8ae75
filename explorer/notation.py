"""What the less familiar symbols in the app's formulas mean, said once, in words.

``notes(*latex)`` picks the notes for the symbols that the given LaTeX strings use, so a
panel can explain exactly what it shows.
"""

from __future__ import annotations

SYMBOLS: tuple[tuple[str, str], ...] = (
    (r"[s\,p < 1]", "[s·p < 1] is 1 while the point is inside the margin (s·p < 1) and 0 "
                    "once it is beyond it"),
    ("s = 2y - 1", "s is the label read as −1 or +1"),
    ("p_t", "p_t is the probability given to the true class (p for class 1, 1 − p for "
            "class 0)"),
    (r"\gamma", "γ (focal loss) sets how much easy points are turned down; γ = 0 is "
                "cross-entropy"),
    (r"\operatorname{clip}", "clip(x, −δ, δ) is x held between −δ and δ"),
    (r"\delta", "δ (Huber) is where squared errors turn into linear ones"),
    (r"\tau", "τ (pinball) is the quantile the fit estimates"),
)


def notes(*latex: str) -> list[str]:
    """One sentence per symbol the formulas use, in ``SYMBOLS`` order."""
    text = " ".join(latex)
    return [meaning for symbol, meaning in SYMBOLS if symbol in text]
