"""Command line: train a configuration headlessly, print or save its history, list the catalogue.

    python -m explorer train --problem binary --dataset moons --loss bce --epochs 300
    python -m explorer train --problem regression --dataset outliers --formula "abs(y - p)**3"
    python -m explorer losses [--problem binary]
    python -m explorer datasets [--problem regression]

Bad arguments print one line ``error: <message>`` on stderr and exit with code 2. A run that
diverges is a result, not an error: it exits 0 and says where and why it broke.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from explorer import activations, config, datasets, experiment, losses, optimizers, pairing
from explorer.config import Config

FORMATS = ("csv", "json")
VERDICT_MARKS = {"matched": "✓", "mismatched": "~", "invalid": "✗"}
ASCII_MARKS = {"✓": "+", "✗": "x"}


class UsageError(Exception):
    """A bad command line; main prints it as one ``error:`` line and returns 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but its errors become UsageError instead of a usage dump and sys.exit."""

    def error(self, message):
        raise UsageError(message)


def setting(key: str):
    """An argparse type that reads a value as the URL does (``config.FIELD[key]``)."""
    field = config.FIELD[key]

    def parse(text: str):
        try:
            value = field.parse(text)
        except (TypeError, ValueError):
            value = None
        if value is None or not field.check(value):
            raise argparse.ArgumentTypeError(f"expected {field.hint}, got {text!r}")
        return value

    parse.__name__ = key  # argparse names the type in its messages
    return parse


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def build_parser() -> Parser:  # one declaration per option: long, but a flat list
    parser = Parser(prog="python -m explorer",
                    description="Loss Function Explorer on the command line.")
    commands = parser.add_subparsers(dest="command", metavar="{train,losses,datasets}")

    train = commands.add_parser("train", help="train one configuration and report the result",
                                description="Train a small network and report loss, metrics "
                                "and the pairing verdict.")
    train.add_argument("--problem", choices=losses.PROBLEMS, default="binary")
    train.add_argument("--dataset", help="default: the problem's first dataset")
    train.add_argument("--n-samples", type=setting("n_samples"), default=400)
    train.add_argument("--noise", type=setting("noise"), help="default: the dataset's own")
    train.add_argument("--val-share", type=setting("val_share"), default=0.25)
    train.add_argument("--output-activation", choices=activations.OUTPUT_ACTIVATIONS,
                       help="default: the problem's matched activation")
    train.add_argument("--loss", choices=(*losses.LOSSES, losses.CUSTOM),
                       help="default: the problem's matched loss; custom: --formula")
    train.add_argument("--formula", metavar="TEXT",
                       help="your own loss in y (target) and p (prediction), e.g. "
                            "'log(1 + (y - p)**2)', with numbers, + - * / ** and abs, log, "
                            "log1p, exp, sqrt, minimum, maximum, where; implies --loss custom")
    train.add_argument("--hidden", type=setting("hidden"), default=(16, 16),
                       help="units per hidden layer, e.g. '16,16'; 'none' for no hidden layer")
    train.add_argument("--hidden-activation", choices=activations.HIDDEN_ACTIVATIONS,
                       default="relu")
    train.add_argument("--n-classes", type=setting("n_classes"), default=3,
                       help="classes for multi-class spiral or blobs (default 3)")
    train.add_argument("--delta", type=setting("delta"), default=1.0,
                       help="Huber's delta (default 1)")
    train.add_argument("--gamma", type=setting("gamma"), default=2.0,
                       help="focal loss's gamma (default 2)")
    train.add_argument("--tau", type=setting("tau"), default=0.5,
                       help="the pinball loss's quantile level (default 0.5, the median)")
    train.add_argument("--alpha", type=setting("alpha"), default=0.0,
                       help="class weight of class 1 for bce and focal (default 0: none)")
    train.add_argument("--threshold", type=setting("threshold"), default=0.5,
                       help="decision threshold of a binary probability output (default 0.5)")
    train.add_argument("--init-scale", type=setting("init_scale"), default=1.0,
                       help="multiplies the He/Glorot initial weights (large: saturated start)")
    recipe = "default: the problem's own (" + "; ".join(
        f"{problem} " + " ".join(f"{value:g}" if isinstance(value, float) else str(value)
                                 for value in config.default_training(problem).values())
        for problem in losses.PROBLEMS) + ")"
    train.add_argument("--optimizer", choices=tuple(optimizers.OPTIMIZERS), help=recipe)
    train.add_argument("--lr", type=setting("lr"), help=recipe)
    train.add_argument("--momentum", type=setting("momentum"), default=0.9,
                       help="momentum of --optimizer momentum (default 0.9)")
    train.add_argument("--batch-size", type=setting("batch_size"),
                       help="0 for full batch; " + recipe)
    train.add_argument("--epochs", type=setting("epochs"), help=recipe)
    train.add_argument("--l2", type=setting("l2"), default=0.0)
    train.add_argument("--seed", type=setting("seed"), default=0)
    train.add_argument("--snapshots", type=positive_int, default=100,
                       help="parameter snapshots kept along the run")
    train.add_argument("--output", metavar="PATH",
                       help="write the history to PATH (.csv or .json); '-' for stdout")
    train.add_argument("--format", choices=FORMATS,
                       help="history format; default from the --output extension, json for '-'")
    train.add_argument("--quiet", action="store_true", help="no progress lines")

    catalogue = commands.add_parser("losses", help="list the loss catalogue",
                                    description="List the losses; with --problem, also the "
                                    "pairing verdict of every output activation. Any other "
                                    "loss can be typed: train --loss custom --formula TEXT.")
    catalogue.add_argument("--problem", choices=losses.PROBLEMS)

    data = commands.add_parser("datasets", help="list the datasets")
    data.add_argument("--problem", choices=losses.PROBLEMS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 bad arguments)."""
    parser = build_parser()
    try:
        args = parser.parse_args(_formula_value_attached(sys.argv[1:] if argv is None
                                                         else argv))
        if args.command is None:
            raise UsageError("choose a command: train, losses or datasets (see --help)")
        if args.command == "train":
            return train(args)
        if args.command == "losses":
            return list_losses(args.problem)
        return list_datasets(args.problem)
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    except (UsageError, ValueError, OSError) as problem:
        _error(str(problem))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as bug:  # the promise is: never a traceback
        _error(f"unexpected {type(bug).__name__}: {bug}")
        return 1


def _formula_value_attached(argv: list[str]) -> list[str]:
    """'--formula', '-y*log(p)' as '--formula=-y*log(p)': argparse would read a formula
    starting with a minus sign as an option."""
    argv = list(argv)
    for i, arg in enumerate(argv[:-1]):
        if arg == "--formula":
            argv[i:i + 2] = [f"--formula={argv[i + 1]}"]
            break
    return argv


# --- train -------------------------------------------------------------------------------------

def scenario(args) -> Config:
    """The command line's settings as the app's Config (the same validation as a URL)."""
    problem = args.problem
    default_activation, default_loss = pairing.DEFAULT_PAIR[problem]
    loss_key = args.loss or (losses.CUSTOM if args.formula is not None else default_loss)
    if args.formula is not None and loss_key != losses.CUSTOM:
        raise UsageError(f"--formula is the loss of --loss custom, not of --loss {loss_key}")
    try:
        text = Config.formula if args.formula is None else config.parse_formula(args.formula)
    except ValueError as error:
        raise UsageError(f"--formula: {error}") from None
    if problem not in losses.get(loss_key).problems:
        raise UsageError(f"loss {loss_key!r} does not serve {problem} problems; choose one of: "
                         f"{', '.join(losses.for_problem(problem))}")
    dataset = args.dataset or datasets.for_problem(problem)[0]
    if problem not in datasets.get(dataset).problems:
        raise UsageError(f"dataset {dataset!r} does not serve {problem} problems; choose one "
                         f"of: {', '.join(datasets.for_problem(problem))}")
    noise = datasets.get(dataset).default_noise if args.noise is None else args.noise
    recipe = config.default_training(problem)
    chosen = {key: getattr(args, key) for key in config.TRAINING_KEYS
              if getattr(args, key) is not None}
    training = {**recipe, **chosen}
    return Config(problem=problem, dataset=dataset, n_samples=args.n_samples, noise=noise,
                  seed=args.seed, val_share=args.val_share,
                  output_activation=args.output_activation or default_activation,
                  loss=loss_key, hidden=args.hidden, hidden_activation=args.hidden_activation,
                  init_scale=args.init_scale, momentum=args.momentum, **training,
                  l2=args.l2, n_classes=args.n_classes, delta=args.delta, gamma=args.gamma,
                  tau=args.tau, alpha=args.alpha, threshold=args.threshold,
                  formula=text)


def train(args) -> int:
    """Train the scenario as the app would, print the summary, write the history if asked."""
    settings = scenario(args)
    destination, fmt = _destination(args.output, args.format)
    # The human-readable report must not mix with a history written to stdout.
    report = sys.stderr if destination == "-" else sys.stdout
    progress = None if args.quiet else _progress_printer()
    run = experiment.run(settings, progress=progress, snapshots=args.snapshots)
    history, verdict, divergence = run.history, run.pairing, run.divergence
    _print(summary(settings, run, verdict, divergence), report)
    if destination is not None:
        if fmt == "csv":
            text = history.to_csv(index=False)
        else:
            text = json.dumps({
                "config": settings.to_dict(),
                "history": _records(history),
                "divergence": divergence,
                "pairing": {"verdict": verdict.verdict, "headline": verdict.headline,
                            "reason": verdict.reason, **_answers(verdict)},
            }, indent=2, allow_nan=False, ensure_ascii=False, default=_plain) + "\n"
        if destination == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            Path(destination).write_text(text, encoding="utf-8")
            _print(f"history written to {destination} ({fmt}, {len(history)} rows)", report)
    return 0


def _destination(output: str | None, fmt: str | None) -> tuple[str | None, str | None]:
    """(where the history goes or None, its format); --format alone means stdout."""
    if output is None:
        return ("-", fmt) if fmt else (None, None)
    if fmt is None:
        if output == "-":
            return "-", "json"
        fmt = Path(output).suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise UsageError(f"cannot tell the format of {output!r}: name it .csv or .json, "
                             "or pass --format csv|json")
    if output != "-" and not Path(output).resolve().parent.is_dir():
        raise UsageError(f"cannot write {output!r}: its folder does not exist")
    return output, fmt


def _progress_printer():
    """A fit progress callback printing one line to stderr every ~10% of the epochs."""
    start = time.perf_counter()
    state = {"next": None}

    def report(epoch: int, epochs: int) -> None:
        step = max(1, math.ceil(epochs / 10))
        if state["next"] is None:
            state["next"] = step
        if epoch >= state["next"] or epoch == epochs:
            state["next"] = (epoch // step + 1) * step
            width = len(str(epochs))
            _print(f"epoch {epoch:>{width}}/{epochs} {100 * epoch // epochs:>3}%  "
                   f"{time.perf_counter() - start:.1f} s", sys.stderr)

    return report


def summary(settings: Config, run: experiment.Run, verdict: pairing.Pairing,
            divergence: dict | None) -> str:
    """The human-readable report: setup, the curve at ~10% steps, final numbers, verdict."""
    history = run.history
    hidden = ",".join(map(str, settings.hidden)) or "none"
    batch = settings.batch_size or "full"
    loss = (f"custom loss {settings.formula}" if settings.loss == losses.CUSTOM
            else settings.loss)
    lines = [
        f"{settings.dataset} ({settings.problem}): {len(run.data.X_train)} train / "
        f"{len(run.data.X_val)} validation points; {settings.output_activation} + "
        f"{loss}{_loss_settings(settings)}; hidden {hidden} {settings.hidden_activation}; "
        f"{settings.optimizer} lr {settings.lr:g}, batch {batch}, {settings.epochs} epochs",
    ]
    columns = [c for c in history.columns if c != "grad_norm"]
    if len(history):
        rows = np.unique(np.linspace(0, len(history) - 1, min(len(history), 11)).round()
                         .astype(int))
        widths = [max(len(c), 10) for c in columns]
        lines.append("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
        for row in history.iloc[rows].itertuples(index=False):
            row = row._asdict()
            cells = (_number(row[c]).rjust(w) for c, w in zip(columns, widths, strict=True))
            lines.append("  ".join(cells))
        last = history.iloc[-1]
        lines.append(f"final loss {_number(last['loss'])}, val loss "
                     f"{_number(last['val_loss']) if 'val_loss' in last else 'n/a'}")
        metric_names = [c for c in columns if c not in ("epoch", "loss", "val_loss")]
        if metric_names:
            lines.append("metrics: " + ", ".join(f"{c} {_number(last[c])}"
                                                 for c in metric_names))
    else:
        lines.append("final loss n/a (no epoch completed)")
    lines.append(f"pairing: {verdict.verdict} - {verdict.headline}")
    for number, (question, sentence) in enumerate(_answers(verdict).get("answers", {}).items(),
                                                  start=1):
        lines.append(f"  {number}. {question}: {sentence}")
    if divergence:
        lines.append(f"diverged at epoch {divergence['epoch']} ({divergence['reason']}): "
                     f"{divergence['message']}")
    return "\n".join(lines)


def _loss_settings(settings: Config) -> str:
    """' (tau 0.9, threshold 0.3)': the loss's parameters and a moved threshold, if any."""
    parts = [f"{key} {value:g}" for key, value in settings.loss_params().items()
             if isinstance(value, (int, float))]  # a typed formula is named with the loss
    if settings.decision_threshold() is not None:
        parts.append(f"threshold {settings.decision_threshold():g}")
    return f" ({', '.join(parts)})" if parts else ""


QUESTIONS = ("optimum", "defined", "gradient")
"""The pairing rule's three questions, as a typed formula's verdict answers them."""


def _answers(verdict: pairing.Pairing) -> dict:
    """{"answers": {question: sentence}} for a verdict read off the three answers, else {}."""
    answers = getattr(verdict, "answers", None)
    if answers is None:
        return {}
    return {"answers": dict(zip(QUESTIONS, answers.sentences, strict=True))}


def _number(value) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _records(history) -> list[dict]:
    """History rows as JSON-ready dicts; NaN and infinity become null."""
    records = []
    for row in history.to_dict("records"):
        clean = {}
        for name, value in row.items():
            value = value.item() if isinstance(value, np.generic) else value
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            clean[name] = value
        records.append(clean)
    return records


def _plain(value):
    """json.dumps fallback for NumPy scalars and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# --- catalogue ----------------------------------------------------------------------------------

def list_losses(problem: str | None) -> int:
    """The loss catalogue; with a problem, its losses and their pairing matrix."""
    keys = losses.for_problem(problem) if problem else list(losses.LOSSES)
    rows = [(key, losses.LOSSES[key].label, ",".join(losses.LOSSES[key].problems),
             ",".join(pairing.matched_activations(key, problem)) or "-",
             losses.LOSSES[key].likelihood or "none (not a likelihood)")
            for key in keys]
    _print(_table(("key", "label", "problems", "matched", "likelihood"), rows), sys.stdout)
    if problem:
        verdicts = pairing.matrix(problem)
        acts = activations.OUTPUT_ACTIVATIONS
        default = pairing.DEFAULT_PAIR[problem]
        width = max(map(len, keys))
        lines = ["", f"pairing for {problem} (rows: loss, columns: output activation; "
                 f"* marks the default pair)",
                 " " * width + "  " + "  ".join(acts)]
        for key in keys:
            cells = []
            for act in acts:
                mark = VERDICT_MARKS[verdicts[(act, key)].verdict]
                mark += "*" if (act, key) == default else ""
                cells.append(mark.center(len(act)))
            lines.append((key.ljust(width) + "  " + "  ".join(cells)).rstrip())
        lines.append("legend: ✓ matched, ~ works but mismatched, ✗ invalid (the loss is "
                     "undefined on the output's range, degenerate, gets no gradient at all, or "
                     "reads other targets); any other loss: train --formula TEXT")
        _print("\n".join(lines), sys.stdout)
    return 0


def list_datasets(problem: str | None) -> int:
    """The dataset catalogue, optionally only those serving a problem."""
    keys = datasets.for_problem(problem) if problem else list(datasets.DATASETS)
    rows = [(key, ",".join(datasets.DATASETS[key].problems),
             str(datasets.DATASETS[key].n_features),
             f"{datasets.DATASETS[key].default_noise:g}", datasets.DATASETS[key].description)
            for key in keys]
    _print(_table(("key", "problems", "features", "noise", "description"), rows), sys.stdout)
    return 0


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """Left-aligned columns; the last one is not padded."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)), r[-1]])
                     for r in (header, *rows))


# --- output -------------------------------------------------------------------------------------

def _print(text: str, stream) -> None:
    """Print, degrading symbols the stream cannot encode instead of crashing."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        for symbol, plain in ASCII_MARKS.items():
            text = text.replace(symbol, plain)
        text = text.encode(encoding, errors="replace").decode(encoding, errors="replace")
    print(text, file=stream, flush=True)


def _error(message: str) -> None:
    _print("error: " + " ".join(message.split()), sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
