import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import explorer
from explorer import datasets, losses, pairing
from explorer.__main__ import main, setting

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--n-samples", "60", "--hidden", "8", "--quiet"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_summary_metrics_and_pairing(capsys):
    code, out, err = run(capsys, "train", "--problem", "binary", "--dataset", "moons",
                         "--output-activation", "sigmoid", "--loss", "bce", "--epochs", "20",
                         "--n-samples", "80", "--seed", "0")
    assert code == 0
    assert "final loss" in out and "val loss" in out
    assert "accuracy" in out and "val_accuracy" in out
    assert "pairing: matched" in out and "a matched pair" in out
    assert "diverged" not in out
    progress = [line for line in err.splitlines() if line.startswith("epoch")]
    assert 2 <= len(progress) <= 11 and progress[-1].startswith("epoch 20/20")


def test_defaults_come_from_the_problem(capsys):
    code, out, _ = run(capsys, "train", "--problem", "multiclass", "--epochs", "10", *FAST)
    assert code == 0
    assert out.startswith("spiral (multiclass)")
    assert "softmax + cce" in out


def test_quiet_prints_no_progress(capsys):
    code, _, err = run(capsys, "train", "--epochs", "10", *FAST)
    assert code == 0 and err == ""


def test_csv_and_json_histories_match(capsys, tmp_path):
    common = ["train", "--problem", "binary", "--epochs", "10", *FAST]
    csv_path, json_path = tmp_path / "h.csv", tmp_path / "h.json"
    assert main([*common, "--output", str(csv_path)]) == 0
    assert main([*common, "--output", str(json_path)]) == 0
    capsys.readouterr()

    table = pd.read_csv(csv_path)
    assert list(table.columns[:2]) == ["epoch", "loss"]
    assert {"val_loss", "accuracy", "val_accuracy", "grad_norm"} <= set(table.columns)
    assert len(table) == 10 and table["epoch"].tolist() == list(range(1, 11))

    document = json.loads(json_path.read_text())
    assert set(document) == {"config", "history", "divergence", "pairing"}
    assert document["divergence"] is None
    assert document["pairing"]["verdict"] == "matched"
    assert document["config"]["loss"] == "bce" and document["config"]["epochs"] == 10
    records = pd.DataFrame(document["history"])
    assert list(records.columns) == list(table.columns)
    pd.testing.assert_frame_equal(records, table, check_dtype=False)


def test_json_to_stdout_stays_parseable(capsys):
    code, out, err = run(capsys, "train", "--epochs", "10", "--output", "-", "--format", "json",
                         "--n-samples", "60", "--hidden", "8")
    assert code == 0
    assert len(json.loads(out)["history"]) == 10
    assert "pairing: matched" in err  # the human report moved to stderr


def test_diverging_run_exits_zero_and_explains(capsys, tmp_path):
    path = tmp_path / "diverged.json"
    code, out, err = run(capsys, "train", "--problem", "binary", "--output-activation",
                         "linear", "--loss", "bce", "--epochs", "20", "--output", str(path),
                         *FAST)
    assert code == 0
    assert "pairing: invalid" in out
    assert "diverged at epoch" in out and "only defined for predictions in [0, 1]" in out
    assert "Traceback" not in err
    divergence = json.loads(path.read_text())["divergence"]
    assert divergence["epoch"] >= 1 and "message" in divergence


@pytest.mark.parametrize("argv", [
    ["train", "--problem", "nonsense"],
    ["train", "--loss", "nonsense"],
    ["train", "--dataset", "nonsense"],
    ["train", "--output-activation", "nonsense"],
    ["train", "--hidden", "16,x"],
    ["train", "--hidden", "100"],
    ["train", "--epochs", "-5"],
    ["train", "--epochs", "9"],
    ["train", "--batch-size", "x"],
    ["train", "--problem", "regression", "--dataset", "moons"],
    ["train", "--loss", "cce"],
    ["train", "--lr", "-1", "--epochs", "10", "--quiet"],
    ["train", "--n-samples", "3"],
    ["train", "--output", "history.txt"],
    ["losses", "--problem", "nonsense"],
    ["nonsense"],
    [],
])
def test_bad_arguments_give_one_error_line_and_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in err


def test_hidden_layers_parsing():
    hidden_layers = setting("hidden")
    assert hidden_layers("16,16") == (16, 16)
    assert hidden_layers(" 4, 8 ") == (4, 8)
    for empty in ("", "0", "none", "None"):
        assert hidden_layers(empty) == ()


def test_limits_are_the_apps():
    # the CLI reads the same bounds as the URL and the sidebar
    assert main(["train", "--epochs", "3001", "--quiet"]) == 2
    assert main(["train", "--hidden", "65", "--quiet"]) == 2
    assert main(["train", "--hidden", "1,1,1,1,1", "--quiet"]) == 2


def test_losses_lists_the_whole_catalogue(capsys):
    code, out, _ = run(capsys, "losses")
    assert code == 0
    keys = {line.split()[0] for line in out.splitlines()[1:]}
    assert keys == set(losses.LOSSES) and len(keys) == 16
    assert "Bernoulli" in out and "pairing for" not in out


def test_losses_for_a_problem_shows_the_matrix(capsys):
    code, out, _ = run(capsys, "losses", "--problem", "binary")
    assert code == 0
    assert "pairing for binary" in out and "legend:" in out
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["linear", "sigmoid"])
    rows = {line.split()[0]: line.split()[1:] for line in lines[start + 1:-1]}
    assert set(rows) == set(losses.for_problem("binary"))
    assert rows["bce"][:3] == ["✗", "✓*", "✗"]  # linear invalid, sigmoid matched (default)
    assert rows["mse"][0] == "~"
    assert all(len(cells) == 7 for cells in rows.values())
    # the catalogue's "matched" column is for this problem: MSE has no partner on labels
    table = {line.split()[0]: line for line in lines[1:start] if line.strip()}
    assert " linear " not in table["mse"] and " - " in table["mse"]
    # the legend does not promise NaN: one-unit softmax and sigmoid + CE never produce one
    assert "breaks with NaN" not in out


@pytest.mark.parametrize(("problem", "activation", "loss"), [
    ("binary", "softmax", "bce"), ("regression", "softmax", "mse"),
    ("multiclass", "sigmoid", "cce")])
def test_invalid_pairs_that_never_produce_nan(problem, activation, loss):
    """Invalid is not 'breaks with NaN': these train to the end with finite numbers."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = {"binary": (X[:, 0] > 0).astype(int), "regression": X[:, 0],
         "multiclass": (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)}[problem]
    _, history = explorer.fit(X, y, problem=problem, output_activation=activation, loss=loss,
                              hidden=(4,), epochs=30)
    assert pairing.check(problem, activation, loss).verdict == "invalid"
    assert history.attrs["divergence"] is None
    assert np.isfinite(history["loss"]).all()


def test_datasets_lists_every_dataset(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    keys = [line.split()[0] for line in out.splitlines()[1:]]
    assert keys == list(datasets.DATASETS)
    assert "no straight line" in out


def test_module_runs_as_a_subprocess():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "explorer", "train", "--epochs", "10", "--n-samples", "60"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "final loss" in result.stdout and "Traceback" not in result.stderr


def test_init_scale_reaches_the_training(tmp_path):
    out = tmp_path / "h.json"
    common = ["train", "--dataset", "overlap1d", "--hidden", "none", "--loss", "mse",
              "--seed", "5", "--optimizer", "sgd", "--lr", "1", "--batch-size", "400",
              "--epochs", "30", "--quiet", "--output", str(out)]
    assert main(common + ["--init-scale", "10"]) == 0
    saturated = json.loads(out.read_text())
    assert main(common) == 0
    plain = json.loads(out.read_text())
    assert saturated["config"]["init_scale"] == 10.0
    # from a saturated wrong start, sigmoid + MSE barely moves (on this seed's draw)
    assert saturated["history"][-1]["accuracy"] < 0.2 < plain["history"][-1]["accuracy"]


def test_classes_and_loss_parameters_reach_the_run(tmp_path):
    out = tmp_path / "h.json"
    assert main(["train", "--problem", "multiclass", "--n-classes", "4", "--epochs", "10",
                 "--quiet", "--output", str(out)]) == 0
    assert json.loads(out.read_text())["config"]["n_classes"] == 4
    assert main(["train", "--problem", "regression", "--dataset", "outliers", "--loss",
                 "huber", "--delta", "0.5", "--epochs", "10", "--quiet", "--output",
                 str(out)]) == 0
    assert json.loads(out.read_text())["config"]["delta"] == 0.5


def test_the_cli_reproduces_the_apps_run_for_the_same_settings(tmp_path):
    from explorer import config, experiment

    out = tmp_path / "h.json"
    assert main(["train", "--epochs", "15", "--quiet", "--output", str(out)]) == 0
    cli = pd.DataFrame(json.loads(out.read_text())["history"])
    app = experiment.run(config.DEFAULT.replace(epochs=15)).history
    np.testing.assert_allclose(cli["val_loss"], app["val_loss"])
    # each problem trains with its own default recipe unless told otherwise
    assert main(["train", "--problem", "counts", "--epochs", "10", "--quiet", "--output",
                 str(out)]) == 0
    counts = json.loads(out.read_text())["config"]
    assert (counts["optimizer"], counts["lr"], counts["batch_size"]) == ("adam", 0.01, 32)
    assert main(["train", "--lr", "0.05", "--epochs", "10", "--quiet", "--output",
                 str(out)]) == 0
    binary = json.loads(out.read_text())["config"]
    assert (binary["optimizer"], binary["lr"], binary["batch_size"]) == ("sgd", 0.05, 64)


def test_momentum_reaches_the_optimizer(tmp_path):
    out = tmp_path / "h.json"
    common = ["train", "--optimizer", "momentum", "--epochs", "10", *FAST, "--output", str(out)]
    assert main([*common, "--momentum", "0.5"]) == 0
    half = json.loads(out.read_text())
    assert main([*common, "--momentum", "0.95"]) == 0
    high = json.loads(out.read_text())
    assert half["config"]["momentum"] == 0.5 and high["config"]["momentum"] == 0.95
    assert half["history"][-1]["loss"] != high["history"][-1]["loss"]


def test_train_takes_tau_alpha_and_threshold(capsys):
    code, out, _ = run(capsys, "train", "--problem", "regression", "--dataset", "skewed",
                       "--loss", "pinball", "--tau", "0.9", "--epochs", "10", *FAST)
    assert code == 0 and "linear + pinball (tau 0.9)" in out
    code, out, _ = run(capsys, "train", "--problem", "binary", "--dataset", "imbalanced",
                       "--loss", "focal", "--alpha", "0.8", "--threshold", "0.3",
                       "--epochs", "10", *FAST)
    assert code == 0 and "sigmoid + focal (gamma 2, alpha 0.8, threshold 0.3)" in out


@pytest.mark.parametrize("flag,value", [("--tau", "1"), ("--alpha", "1.5"),
                                        ("--threshold", "0")])
def test_out_of_range_new_settings_are_refused(capsys, flag, value):
    code, _, err = run(capsys, "train", flag, value, "--epochs", "10", *FAST)
    assert code == 2 and flag.lstrip("-") in err


def test_losses_lists_the_estimate_losses(capsys):
    code, out, _ = run(capsys, "losses", "--problem", "regression")
    assert code == 0
    catalogue = out.split("pairing for regression")[0]
    rows = {line.split()[0]: line for line in catalogue.splitlines() if line.strip()}
    assert "Pinball (quantile)" in rows["pinball"]
    assert "Gaussian NLL (learned variance)" in rows["gaussian_nll"]


# --- a typed formula -------------------------------------------------------------------------

def test_a_typed_formula_trains_like_the_loss_it_spells(tmp_path):
    out = tmp_path / "h.json"
    common = ["train", "--problem", "regression", "--dataset", "outliers", "--epochs", "15",
              *FAST, "--output", str(out)]
    assert main([*common, "--formula", "abs(p - y)"]) == 0
    typed = json.loads(out.read_text())
    assert main([*common, "--loss", "mae"]) == 0
    builtin = json.loads(out.read_text())
    assert typed["config"]["loss"] == "custom" and typed["config"]["formula"] == "abs(p - y)"
    np.testing.assert_allclose([r["loss"] for r in typed["history"]],
                               [r["loss"] for r in builtin["history"]], rtol=1e-12)
    pairing = typed["pairing"]
    assert pairing["verdict"] == "matched" and set(pairing["answers"]) == {
        "optimum", "defined", "gradient"}
    assert "median" in pairing["answers"]["optimum"]
    assert "answers" not in builtin["pairing"]


def test_the_summary_names_the_formula_and_its_three_answers(capsys):
    code, out, _ = run(capsys, "train", "--loss", "custom", "--formula", "-y*log(p)",
                       "--epochs", "10", *FAST)
    assert code == 0
    assert "sigmoid + custom loss -y*log(p);" in out.splitlines()[0]
    assert "pairing: invalid - Degenerate: no minimum that depends on the targets" in out
    answers = [line for line in out.splitlines() if line[:5] in ("  1. ", "  2. ", "  3. ")]
    assert [a.split(":")[0] for a in answers] == ["  1. optimum", "  2. defined",
                                                  "  3. gradient"]
    assert "lowest at p = 1, 1, 1, 1" in answers[0]
    assert "0 at z = 8 (y = 0): it vanishes" in answers[2]


@pytest.mark.parametrize(("argv", "message"), [
    (["--formula", "__import__('os').system('id')"],
     "error: --formula: attribute access (a.b) is not allowed"),
    (["--formula", "p ^ 2"], "error: --formula: ^ is not a power here: write ** (p**2)"),
    (["--loss", "bce", "--formula", "abs(p - y)"],
     "error: --formula is the loss of --loss custom, not of --loss bce"),
])
def test_a_bad_formula_is_one_error_line(capsys, argv, message):
    code, out, err = run(capsys, "train", *argv, "--epochs", "10", *FAST)
    assert (code, out, err.strip()) == (2, "", message)


def test_the_catalogue_mentions_typed_formulas(capsys):
    code, out, _ = run(capsys, "losses", "--problem", "regression")
    assert code == 0 and out.splitlines()[-1].endswith("any other loss: train --formula TEXT")
    assert main(["losses", "--help"]) == 0
    assert "--loss custom --formula TEXT" in " ".join(capsys.readouterr().out.split())
