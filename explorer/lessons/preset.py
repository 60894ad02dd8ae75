"""One lesson as data."""

from __future__ import annotations

from dataclasses import dataclass

from explorer import numbers
from explorer.claims import THIS, Claim
from explorer.config import Config
from explorer.lessons.questions import Question


@dataclass(frozen=True)
class Preset:
    """A lesson: what a student reads, the run it sets up, and the claims that back it."""

    key: str
    title: str
    summary: str
    """The lesson's point in one short sentence (the banner)."""
    watch_for: str
    """What to watch in the animation, continuing "Watch for: "."""
    explanation: str
    """The fuller story, with the numbers the app measured (the details)."""
    config: Config
    question: Question
    """What the lesson asks before its animation plays; the runs watched decide the answer."""
    view: str = "Train"
    claims: tuple[Claim, ...] = ()
    """What the app measures; every statement in the texts above is backed by one of them."""
    comparisons: tuple[tuple[str, Config], ...] = ()
    """(name, config) of the other runs the claims read; the lesson's own run is ``THIS``."""

    def __post_init__(self):
        if not isinstance(self.question, Question):
            raise TypeError(f"lesson {self.key!r} needs a Question, got {self.question!r}")
        unknown = set(self.question.runs) - set(self.configs())
        if unknown:
            raise ValueError(f"lesson {self.key!r}'s question reads runs it does not set up: "
                             f"{', '.join(sorted(unknown))}")

    @property
    def lesson(self) -> str:
        """Everything the lesson says, as one text."""
        return f"{self.summary} Watch for: {self.watch_for} {self.explanation}"

    def configs(self, seed: int | None = None) -> dict[str, Config]:
        """The lesson's run and its comparisons, all on ``seed`` when one is given."""
        named = {THIS: self.config, **dict(self.comparisons)}
        if seed is None:
            return named
        return {name: c.replace(seed=seed) for name, c in named.items()}



def readable(words: str) -> str:
    """A claim's text for people: 1e-12 as 10⁻¹², 2.5e-05 as 2.5 × 10⁻⁵."""
    return numbers.text(words)
