"""The scenario a person chose, validated, and its round trip through the URL query string.

One declarative table (``FIELDS``) drives parsing, validation, defaults and the URL, so a new
setting is one new row. Query keys and widget keys are the same names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from explorer import activations, datasets, losses, optimizers, pairing
from explorer.network import MAX_LAYERS, MAX_UNITS

UPLOAD = "upload"
"""The dataset key of a CSV the person uploaded (its rows are not part of any link)."""
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 0)
"""Batch sizes the app offers; 0 means full batch (a link may carry any in range)."""
MAX_CHARS = 32
"""The longest text a setting may have in a link (a number, an option key); longer values
are refused before they are parsed (a 10 MB hidden-layers value once cost 315 MB)."""
HIDDEN_MAX_CHARS = 40
"""The hidden-layers box and its link value: "64, 64, 64, 64" with room to spare."""
FORMULA_MAX_CHARS = 200
"""The formula box and its link value (``formula.MAX_LENGTH``, which parsing enforces; the
two are tested equal, as that module loads SymPy and this one must not)."""


@dataclass(frozen=True)
class Config:
    problem: str = "binary"
    dataset: str = "moons"
    n_samples: int = 400
    noise: float = 0.15
    seed: int = 0
    val_share: float = 0.25
    output_activation: str = "sigmoid"
    loss: str = "bce"
    hidden: tuple[int, ...] = (16, 16)
    hidden_activation: str = "relu"
    init_scale: float = 1.0
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    """The momentum coefficient of optimizer "momentum" (unused by the others)."""
    batch_size: int = 32
    epochs: int = 300
    l2: float = 0.0
    n_classes: int = 3
    outlier_share: float = 0.1
    minority_share: float = 0.1
    delta: float = 1.0
    gamma: float = 2.0
    tau: float = 0.5
    """The pinball loss's quantile level τ."""
    alpha: float = 0.0
    """The class weight α of BCE and focal loss (the weight of class 1); 0 means none."""
    threshold: float = 0.5
    """The decision threshold of a binary probability output (see ``decision_threshold``)."""
    formula: str = "(p - y)**2"
    """The typed loss of ``loss="custom"`` (``formula.DEFAULT_FORMULA`` by default; that module
    is not imported here, so SymPy loads only when a formula is read)."""

    def to_query(self) -> dict[str, str]:
        """Every setting as a URL-safe string, keyed by its query/widget name."""
        return {f.key: f.dump(getattr(self, f.key)) for f in FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """Every setting with its JSON type (the configuration download and the CLI)."""
        return {f.key: list(value) if isinstance(value := getattr(self, f.key), tuple)
                else value for f in FIELDS}

    def key(self) -> str:
        """A short stable hash: the cache and session-state key of this scenario."""
        text = json.dumps(self.to_query(), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)

    @property
    def effective_batch_size(self) -> int:
        return self.batch_size or self.n_samples

    def dataset_options(self) -> dict:
        """The generator options this scenario's dataset takes (classes, outliers, balance)."""
        if self.dataset in ("spiral", "blobs") and self.problem == "multiclass":
            return {"n_classes": self.n_classes}
        if self.dataset == "outliers":
            return {"outlier_share": self.outlier_share}
        if self.dataset == "imbalanced":
            return {"minority_share": self.minority_share}
        return {}

    def loss_params(self) -> dict:
        """The chosen loss's parameters: Huber's delta, focal's gamma, pinball's tau, the
        typed formula, and the class weight alpha of BCE and focal loss when one is set
        (alpha 0 means none)."""
        weight = {"alpha": self.alpha} if self.alpha > 0 else {}
        params: dict[str, dict] = {
            "huber": {"delta": self.delta}, "focal": {"gamma": self.gamma, **weight},
            "bce": weight, "pinball": {"tau": self.tau},
            losses.CUSTOM: {"formula": self.formula}}
        return params.get(self.loss, {})

    def decision_threshold(self) -> float | None:
        """The threshold to train and report with, or None for the loss's own.

        Only a binary problem whose loss reads probabilities takes one (a margin loss
        decides by the sign of its score, threshold 0); 0.5, the default, is None."""
        if (self.problem != "binary" or self.threshold == 0.5
                or losses.get(self.loss, **self.loss_params()).decision_threshold != 0.5):
            return None
        return self.threshold


@dataclass(frozen=True)
class Fix:
    """A change the app advises, as settings a button applies: ``changes`` maps field keys
    (``FIELD``) to new values."""

    label: str
    changes: dict

    def __post_init__(self):
        unknown = set(self.changes) - {f.key for f in FIELDS}
        if unknown:
            raise ValueError(f"not settings: {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class Field:
    """One setting: how to read it from text, what values it allows, how to write it back.

    Numeric fields carry their bounds (``lo``, ``hi``) and the widget's ``step``; the
    sidebar, the URL and the CLI all read them here. ``max_chars`` bounds the text before
    it is parsed (the URL) and the length of a text box (the sidebar).
    """

    key: str
    parse: Callable[[str], Any]
    check: Callable[[Any], bool]
    dump: Callable[[Any], str] = str
    hint: str = ""
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    max_chars: int = MAX_CHARS
    section: str = ""
    """The sidebar section the setting is chosen in (one of ``SECTIONS``)."""
    label: str = ""
    """The setting's name on screen."""


def _choice(options) -> Callable[[Any], bool]:
    return lambda value: value in options


def _between(lo, hi) -> Callable[[Any], bool]:
    # math.isfinite(10**400) raises OverflowError: ask it of floats only
    return lambda value: isinstance(value, (int, float)) \
        and (isinstance(value, int) or math.isfinite(value)) and lo <= value <= hi


def parse_hidden(text: str) -> tuple[int, ...]:
    """'16,16' -> (16, 16); '', '0' or 'none' -> () (no hidden layer)."""
    text = text.strip().lower()
    if text in ("", "0", "none", "-"):
        return ()
    return tuple(int(part) for part in text.split(","))


def parse_formula(text: str) -> str:
    """A typed loss formula, checked and normalised; ``formula.FormulaError`` (a ValueError)
    with one line saying why not. The work is done in a worker process with a time limit
    (``sandbox.formula_loss``): a link is read here, and a hostile one must not hold up
    anyone but its author."""
    from explorer import formula, sandbox  # here: SymPy loads only when a formula is read

    try:
        return sandbox.formula_loss(text).text
    except ValueError:
        raise
    except Exception as error:  # a link must never raise anything else
        raise formula.FormulaError(f"the formula cannot be read ({type(error).__name__})") \
            from None


def _hidden_ok(value: tuple[int, ...]) -> bool:
    return len(value) <= MAX_LAYERS and all(1 <= h <= MAX_UNITS for h in value)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def _dump_float(value: float) -> str:
    """Short ("0.01", "1e-05") when that is exact, else every digit it takes to read the same
    float back: the link the app writes must reproduce the scenario it shows."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def _number(key: str, kind: type, lo: float, hi: float, step: float) -> Field:
    """A whole or real number in [lo, hi]."""
    if kind is int:
        return Field(key, int, _between(lo, hi), hint=f"{lo:g} to {hi:g}", lo=lo, hi=hi,
                     step=step)
    return Field(key, _float, _between(lo, hi), _dump_float, f"{lo:g} to {hi:g}", lo, hi, step)


def _option(key: str, options) -> Field:
    return Field(key, str, _choice(options), hint=", ".join(options))


SECTIONS = ("Problem", "Data", "Output and loss", "Network", "Training")
"""The sidebar's sections, top to bottom in the order a person decides."""


def _at(section: str, label: str, field: Field) -> Field:
    """``field`` chosen in ``section`` of the sidebar under the name ``label``."""
    return dataclasses.replace(field, section=section, label=label)


FIELDS: tuple[Field, ...] = (
    _at("Problem", "Problem type",
        _option("problem", losses.PROBLEMS)),
    _at("Data", "Dataset",
        Field("dataset", str, _choice({*datasets.DATASETS, UPLOAD}), hint="a dataset key")),
    _at("Data", "Points",
        _number("n_samples", int, 50, 5000, 50)),
    _at("Data", "Noise",
        _number("noise", float, 0.0, 1.5, 0.05)),
    _at("Data", "Seed",
        _number("seed", int, 0, 99999, 1)),
    _at("Data", "Validation share",
        _number("val_share", float, 0.0, 0.5, 0.05)),
    _at("Output and loss", "Output activation",
        _option("output_activation", activations.OUTPUT_ACTIVATIONS)),
    _at("Output and loss", "Loss",
        Field("loss", str, _choice({*losses.LOSSES, losses.CUSTOM}), hint="a loss key")),
    _at("Network", "Hidden layers",
        Field("hidden", parse_hidden, _hidden_ok, lambda v: ",".join(map(str, v)) or "none",
              f"up to {MAX_LAYERS} comma-separated sizes of 1 to {MAX_UNITS}",
              max_chars=HIDDEN_MAX_CHARS)),
    _at("Network", "Hidden activation",
        _option("hidden_activation", activations.HIDDEN_ACTIVATIONS)),
    _at("Network", "Initial weight scale",
        _number("init_scale", float, 0.01, 20.0, 0.01)),
    _at("Training", "Optimizer",
        _option("optimizer", tuple(optimizers.OPTIMIZERS))),
    _at("Training", "Learning rate",
        _number("lr", float, 1e-5, 10.0, 1e-5)),
    _at("Training", "Momentum",
        _number("momentum", float, 0.0, 0.999, 0.01)),
    _at("Training", "Batch size",
        _number("batch_size", int, 0, 5000, 1)),
    _at("Training", "Epochs",
        _number("epochs", int, 10, 3000, 10)),
    _at("Training", "L2 penalty",
        _number("l2", float, 0.0, 1.0, 1e-5)),
    _at("Data", "Classes",
        _number("n_classes", int, 2, datasets.MAX_CLASSES, 1)),
    _at("Data", "Outlier share",
        _number("outlier_share", float, 0.0, 0.5, 0.01)),
    _at("Data", "Minority share",
        _number("minority_share", float, 0.01, 0.5, 0.01)),
    _at("Output and loss", "Huber δ",
        _number("delta", float, 0.05, 10.0, 0.05)),
    _at("Output and loss", "Focal γ",
        _number("gamma", float, 0.0, 5.0, 0.25)),
    _at("Output and loss", "Quantile level τ",
        _number("tau", float, 0.01, 0.99, 0.01)),
    _at("Output and loss", "Class weight α",
        _number("alpha", float, 0.0, 0.99, 0.01)),
    _at("Output and loss", "Decision threshold",
        _number("threshold", float, 0.01, 0.99, 0.01)),
    _at("Output and loss", "Your formula L(y, p)",
        Field("formula", parse_formula, lambda value: isinstance(value, str),
              hint=f"a loss in y and p of at most {FORMULA_MAX_CHARS} characters, with numbers, "
                   "+ - * / ** and abs, log, log1p, exp, sqrt, minimum, maximum, where",
              max_chars=FORMULA_MAX_CHARS)),
)
FIELD_KEYS = tuple(f.key for f in FIELDS)
FIELD = {f.key: f for f in FIELDS}


TRAINING_KEYS = ("optimizer", "lr", "batch_size", "epochs")
"""The training recipe: the settings a problem's default scenario may choose for itself."""
OPENING_TRAINING: dict[str, dict[str, Any]] = {
    "binary": dict(optimizer="sgd", lr=0.2, batch_size=64, epochs=100)}
"""Where a problem's default scenario trains differently from ``Config``'s defaults (Adam at
0.01, batches of 32, 300 epochs). Two moons, the app's opening scenario, uses plain SGD: with
Adam its boundary settles within about 20 of 300 epochs and the rest of the replay stands
still, while with SGD it keeps bending into shape until the last tenth of the replay (seeds 0
to 5), reaches the same validation accuracy, and trains in 500 steps instead of 3,000."""


def default_for(problem: str) -> Config:
    """The problem's default scenario: its first dataset, its matched pair and its training
    recipe (``OPENING_TRAINING``)."""
    activation, loss = pairing.DEFAULT_PAIR[problem]
    dataset = datasets.for_problem(problem)[0]
    return Config(problem=problem, dataset=dataset, output_activation=activation, loss=loss,
                  noise=datasets.get(dataset).default_noise,
                  **OPENING_TRAINING.get(problem, {}))


def default_training(problem: str) -> dict[str, Any]:
    """The problem's training recipe: ``TRAINING_KEYS`` of its default scenario."""
    config = default_for(problem)
    return {key: getattr(config, key) for key in TRAINING_KEYS}


def is_a_recipe(training: Mapping[str, Any]) -> bool:
    """Whether these ``TRAINING_KEYS`` values are still some problem's default recipe: then
    a new problem brings its own (plain SGD suits two moons, not Poisson counts); settings a
    person chose stay."""
    current = {key: training.get(key) for key in TRAINING_KEYS}
    return any(current == default_training(problem) for problem in losses.PROBLEMS)


DEFAULT = default_for("binary")


def from_query(params: Mapping[str, Any], base: Config = DEFAULT) -> tuple[Config, list[str]]:
    """Parse query parameters; anything unknown or invalid falls back, with a notice each.

    Values may be strings or lists of strings (the last one wins). Returns (config, notices).
    """
    notices: list[str] = []
    values: dict[str, Any] = {}
    problem_text = last(params.get("problem"))
    if problem_text is not None and problem_text in losses.PROBLEMS:
        base = default_for(problem_text)
    for f in FIELDS:
        raw = last(params.get(f.key))
        if raw is None:
            continue
        value, why = _read(f, str(raw))
        if value is None:
            notices.append(f"Ignored {f.key}={shorten(raw)!r} ({why}); "
                           f"using {f.dump(getattr(base, f.key))}.")
            continue
        values[f.key] = value
    config = dataclasses.replace(base, **values)
    return make_consistent(config, notices)


def _read(field: Field, text: str) -> tuple[Any, str]:
    """(the setting's value from its text, "") or (None, why not): invalid, or longer than
    any valid value (refused unread). A typed formula's refusal says what to change."""
    expected = f"expected {field.hint}"
    if len(text) > field.max_chars:
        return None, expected
    try:
        value = field.parse(text)
    except (ValueError, TypeError) as error:
        return None, str(error) if field.key == "formula" else expected
    return (value, "") if value is not None and field.check(value) else (None, expected)


def make_consistent(config: Config, notices: list[str] | None = None) -> tuple[Config, list[str]]:
    """Repair combinations that cannot go together (a dataset or loss for another problem)."""
    notices = [] if notices is None else notices
    problem = config.problem
    if config.dataset != UPLOAD and problem not in datasets.get(config.dataset).problems:
        fallback = datasets.for_problem(problem)[0]
        notices.append(f"The dataset {config.dataset!r} does not serve "
                       f"{pairing.PROBLEM_LABELS[problem].lower()}; using {fallback!r}.")
        config = config.replace(dataset=fallback)
    if problem not in losses.get(config.loss).problems:
        activation, loss = pairing.DEFAULT_PAIR[problem]
        notices.append(f"The loss {config.loss!r} does not serve "
                       f"{pairing.PROBLEM_LABELS[problem].lower()}; using {loss!r}.")
        config = config.replace(loss=loss)
    if config.loss != losses.CUSTOM and config.formula != Config.formula:
        config = config.replace(formula=Config.formula)  # unused: one key per run
    return config, notices


def last(value):
    if isinstance(value, (list, tuple)):
        return value[-1] if value else None
    return value


def shorten(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
