"""Advice the app gives is right, and a button applies it (AppTest)."""

from __future__ import annotations

from tests.apptest import app, ok
from tests.test_app_upload import GOOD, upload

LINK_NOTICE = "This link was made with an uploaded CSV"


def _all_text(at) -> str:
    return " ".join(str(e.value) for kind in ("warning", "info", "error")
                    for e in getattr(at, kind))


def test_a_session_holding_its_upload_is_not_told_the_link_lost_the_file():
    at = upload(GOOD)
    at.number_input(key="seed").set_value(2).run()
    ok(at)
    assert LINK_NOTICE not in _all_text(at)
    # the URL moves without this session writing it (Back, Forward, or a rerun that
    # overtook the URL the page last wrote): the scenario reloads, the file is still here
    at.query_params["seed"] = "5"
    ok(at.run())
    assert at.session_state["seed"] == 5, "the scenario was reloaded from the URL"
    assert LINK_NOTICE not in _all_text(at)
    assert at.get("plotly_chart"), "and it trains on the file it holds"


def test_a_fresh_link_to_an_upload_is_told_to_upload_again():
    at = ok(app(dataset="upload"))
    assert LINK_NOTICE in _all_text(at)


def _click(at, label_start: str):
    matches = [b for b in at.button if b.label.startswith(label_start)]
    assert matches, [b.label for b in at.button]
    matches[0].click().run()
    return ok(at)


def test_linear_bce_advises_an_output_not_a_learning_rate_and_applies_it():
    at = ok(app(output_activation="linear", epochs="20"))
    message = " ".join(str(e.value) for e in at.main.error)
    assert "learning rate" not in message.lower()  # no learning rate fixes the range
    assert "learning rate" not in " ".join(i.value for i in at.main.info).lower()
    assert "sigmoid" in message
    _click(at, "Use a sigmoid output")
    assert at.session_state["output_activation"] == "sigmoid"
    assert at.session_state["loss"] == "bce"
    assert not at.main.error and at.get("plotly_chart")


def test_an_overflowing_learning_rate_offers_a_lower_one_and_adam():
    at = ok(app(problem="regression", optimizer="sgd", lr="10", hidden="64,64", epochs="20"))
    labels = [b.label for b in at.button]
    assert "Learning rate 1" in labels and "Use Adam" in labels
    _click(at, "Learning rate 1")
    assert at.session_state["lr"] == 1.0 and at.session_state["optimizer"] == "sgd"
    at = ok(app(problem="regression", optimizer="sgd", lr="10", hidden="64,64", epochs="20"))
    _click(at, "Use Adam")
    assert at.session_state["optimizer"] == "adam" and at.session_state["lr"] == 10.0


def test_a_mismatched_pair_offers_the_nearest_matched_pair_in_the_sidebar():
    at = ok(app(loss="mse", epochs="10"))  # sigmoid + MSE: keep the output, take BCE
    _click(at, "Use Sigmoid + Binary cross-entropy")
    assert (at.session_state["output_activation"], at.session_state["loss"]) == ("sigmoid",
                                                                                  "bce")
    at = ok(app(output_activation="linear", loss="hinge", epochs="10"))
    assert not [b for b in at.button if b.label.startswith("Use ")], "matched: no advice"
    at = ok(app(problem="counts", output_activation="linear", epochs="10"))
    _click(at, "Use Exponential + Poisson")
    assert (at.session_state["output_activation"], at.session_state["loss"]) == ("exp",
                                                                                  "poisson")


def test_a_continuous_target_under_binary_offers_regression_in_one_click():
    rows = "x,price\n" + "\n".join(f"{i * 0.1:.2f},{3 + i * 0.37 % 5:.3f}" for i in range(80))
    at = upload(rows.encode(), problem="binary")
    refusal = " ".join(e.value for e in at.sidebar.error)
    assert "choose regression" in refusal and "multi-class" not in refusal
    _click(at, "Switch to regression")
    assert at.session_state["problem"] == "regression"
    assert at.session_state["dataset"] == "upload", "the same file, read for regression"
    assert not at.sidebar.error and at.get("plotly_chart")


def test_negative_targets_under_msle_offer_mse_in_one_click():
    rows = "x,y\n" + "\n".join(f"{i * 0.1:.2f},{i * 0.05 - 1:.3f}" for i in range(80))
    at = upload(rows.encode(), problem="regression", loss="msle")
    _click(at, "Use MSE")
    assert at.session_state["loss"] == "mse" and at.get("plotly_chart")


def test_an_unexpected_upload_error_offers_a_built_in_dataset(monkeypatch):
    from explorer import tabular

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(tabular, "prepare", broken)
    at = upload(GOOD + b"\n\n")  # bytes no other test reads (the reader is cached)
    assert "choose a built-in dataset" in " ".join(e.value for e in at.sidebar.error).replace(
        "\\", "")
    _click(at, "Use a built-in dataset")
    assert at.session_state["dataset"] == "moons" and at.get("plotly_chart")
