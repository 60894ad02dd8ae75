"""The app's logic through Streamlit's AppTest: widgets by key, figures by their spec."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import activations, experiment, losses, pairing, presets
from explorer import config as cfg
from explorer.ui import compute
from tests.apptest import app, ok, specs


def test_default_page_shows_the_trained_animation():
    at = ok(app())
    assert at.session_state["problem"] == "binary"
    assert (at.session_state["output_activation"], at.session_state["loss"]) == ("sigmoid",
                                                                                  "bce")
    (spec,) = specs(at)
    assert 50 <= len(spec["frames"]) <= 101
    # the probability map is a PNG under the axes, the boundary an animated line
    assert spec["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
    assert spec["data"][0]["name"] == "boundary (output = 0.5)"
    assert {"scatter"} == {t["type"] for t in spec["data"]}
    slider = spec["layout"]["sliders"][0]
    assert len(slider["steps"]) == len(spec["frames"])
    assert [s["args"][0][0] for s in slider["steps"]] == [f["name"] for f in spec["frames"]]
    first, last = spec["frames"][0], spec["frames"][-1]
    assert first["layout"]["images"][0]["source"] != last["layout"]["images"][0]["source"]
    assert len(json.dumps(spec)) < 3_000_000
    labels = [m.label for m in at.metric]
    assert "Train loss" in labels and "Validation accuracy" in labels
    accuracy = next(m for m in at.metric if m.label == "Validation accuracy").value
    assert float(accuracy.rstrip("%")) > 90


def test_url_mirrors_the_configuration():
    at = ok(app())
    assert at.query_params["loss"] == ["bce"] or at.query_params["loss"] == "bce"
    at.slider(key="epochs").set_value(120).run()
    ok(at)
    value = at.query_params["epochs"]
    assert (value[0] if isinstance(value, list) else value) == "120"


@pytest.mark.parametrize("problem", losses.PROBLEMS)
def test_switching_problem_resets_to_the_matched_pair(problem):
    at = ok(app(problem="regression" if problem == "binary" else "binary"))
    at.selectbox(key="output_activation").set_value("tanh").run()
    at.selectbox(key="problem").set_value(problem).run()
    ok(at)
    assert (at.session_state["output_activation"],
            at.session_state["loss"]) == pairing.DEFAULT_PAIR[problem]
    assert specs(at), "the figure is shown"
    assert any("Matched" in s.value for s in at.sidebar.success)


def test_a_new_problem_brings_its_recipe_unless_the_person_chose_one():
    at = ok(app(epochs="20"))
    at.selectbox(key="problem").set_value("counts").run()
    recipe = [at.session_state[k] for k in ("optimizer", "lr", "batch_size", "epochs")]
    assert recipe == ["sgd", 0.2, 64, 20]  # epochs were chosen: nothing moves
    at = ok(app())
    at.selectbox(key="problem").set_value("counts").run()
    recipe = [at.session_state[k] for k in ("optimizer", "lr", "batch_size", "epochs")]
    assert recipe == ["adam", 0.01, 32, 300]  # plain SGD at 0.2 would blow Poisson up
    at.selectbox(key="problem").set_value("binary").run()
    recipe = [at.session_state[k] for k in ("optimizer", "lr", "batch_size", "epochs")]
    assert recipe == ["sgd", 0.2, 64, 100]
    ok(at)


def test_mismatched_pair_shows_its_verdict_and_still_trains():
    at = ok(app())
    at.selectbox(key="loss").set_value("mse").run()
    ok(at)
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "Mismatched" in warning and "saturat" in warning
    assert specs(at)[0]["frames"]


def test_invalid_pair_explains_where_it_breaks_without_exception():
    at = ok(app(output_activation="linear"))
    assert any("Invalid" in e.value for e in at.sidebar.error)
    message = " ".join(str(e.value) for e in at.main.error)
    assert "epoch 1" in message.lower() and "Binary cross-entropy" in message
    # nothing to replay: no chart, no playback bar, no fake epoch axis
    assert not specs(at)
    assert any("Nothing to replay" in i.value for i in at.main.info)


def test_overflowing_learning_rate_is_explained():
    at = ok(app(problem="regression", optimizer="sgd", lr="10", hidden="64,64"))
    message = " ".join(str(e.value) for e in at.main.error)
    assert "learning rate" in message.lower()


def test_query_params_reproduce_a_configuration():
    query = cfg.default_for("regression").replace(dataset="outliers", loss="huber", seed=7,
                                                  hidden=(8,), epochs=50).to_query()
    at = ok(app(**query))
    for key in ("problem", "dataset", "loss", "hidden"):
        assert str(at.session_state[key]) == query[key]
    assert at.session_state["seed"] == 7 and at.session_state["epochs"] == 50
    assert not at.main.warning


def test_tampered_url_falls_back_with_a_visible_notice():
    at = ok(app(problem="binary", lr="NaN", hidden="9999", loss="<img src=x>", preset="nope",
                view="Hack"))
    notices = " ".join(w.value for w in at.main.warning)
    for word in ("lr", "hidden", "loss", "preset", "view"):
        assert word in notices
    assert at.session_state["lr"] == 0.2 and at.session_state["hidden"] == "16,16"


def test_preset_link_loads_the_lesson():
    at = ok(app(preset="why_not_mse", ask="0"))  # the title waits for a question's answer
    assert at.session_state["loss"] == "mse"
    assert any("Why not MSE" in i.value for i in at.main.info)


def test_preset_picker_applies_a_scenario():
    at = ok(app())
    at.selectbox(key="preset_pick").set_value("counts_poisson").run()
    ok(at)
    assert (at.session_state["problem"], at.session_state["loss"]) == ("counts", "poisson")
    assert at.session_state["preset_pick"] is None


def test_bad_hidden_text_keeps_the_old_network_with_a_notice():
    at = ok(app())
    at.text_input(key="hidden").input("16,abc").run()
    ok(at)
    # explained right under the box, once, in words (not the query key "hidden=")
    assert any(e.value.startswith("Hidden layers: “16,abc” is not usable")
               for e in at.sidebar.error)
    assert not any("hidden=" in w.value for w in at.sidebar.warning)


def test_switching_views_does_not_retrain(monkeypatch):
    calls = []
    original = experiment.run

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(experiment, "run", counting)
    compute.RUNS.clear()
    at = ok(app(seed="123"))
    assert len(calls) == 1
    for view in ("Learn", "Train"):
        at.radio(key="view").set_value(view).run()
        ok(at)
    again = ok(app(seed="123"))  # a new session opening the same link
    assert again.session_state["seed"] == 123
    assert len(calls) == 1


def test_loss_axis_is_auto_then_linear_or_log_on_request():
    at = ok(app())
    # two moons: the loss spans decades, so the automatic axis is logarithmic
    assert specs(at)[0]["layout"]["yaxis2"]["type"] == "log"
    at.session_state["loss_axis"] = "linear"
    at.run()
    assert specs(ok(at))[0]["layout"]["yaxis2"].get("type") != "log"
    at.session_state["loss_axis"] = "log"
    at.run()
    assert specs(ok(at))[0]["layout"]["yaxis2"]["type"] == "log"


def test_learn_view_shows_the_pairing_matrix_and_preset_buttons():
    at = ok(app(view="Learn"))
    assert at.get("arrow_data_frame") or at.dataframe
    at.button(key="learn_linear_bce_breaks").click().run()
    ok(at)
    assert at.session_state["output_activation"] == "linear"


@pytest.mark.parametrize("problem", losses.PROBLEMS)
@pytest.mark.parametrize("kind", ["parameters", "random", "pca"])
def test_error_surface_view_renders_for_every_problem(problem, kind):
    at = ok(app(problem=problem, view="Error surface", epochs="40"))
    at.radio(key="surface_kind").set_value(kind).run()
    ok(at)
    surface, line = specs(at)
    assert surface["layout"]["images"][0]["source"].startswith("data:image/png")
    assert surface["data"][1]["name"] == "loss surface"
    assert len(surface["frames"]) == len(surface["layout"]["sliders"][0]["steps"]) > 10
    title = json.dumps(surface["layout"])
    honesty = {"parameters": "final weights", "random": "filter-normalized",
               "pca": "projection"}[kind]
    assert honesty in title.lower()
    assert {t["type"] for t in line["data"]} == {"scatter"}


def test_error_surface_3d_toggle_draws_a_surface():
    at = ok(app(view="Error surface", epochs="40"))
    at.radio(key="surface_mode").set_value("3d").run()
    surface = specs(ok(at))[0]
    assert surface["data"][0]["type"] == "surface"


def _status_kb(field: str) -> int:
    return next(int(line.split()[1]) for line in
                Path("/proc/self/status").read_text().splitlines() if line.startswith(field))


def test_the_pca_slice_of_a_13k_parameter_network_stays_within_400_mb():
    """Issue 16's link: the PCA plane of a 4 x 64 ten-class net (13,322 parameters) built a
    P x P identity, +1.35 GB in one click. Measured as this process's peak resident set
    (Linux: the high-water mark reset before the click)."""
    at = ok(app(view="Error surface", problem="multiclass", dataset="spiral", n_classes="10",
                hidden="64,64,64,64", epochs="10", n_samples="50"))
    measurable = Path("/proc/self/clear_refs").exists()
    if measurable:
        before = _status_kb("VmRSS:")
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    at.radio(key="surface_kind").set_value("pca").run()
    ok(at)
    if measurable:
        assert (_status_kb("VmHWM:") - before) / 1024 < 400
    surface = specs(at)[0]
    assert "projection" in json.dumps(surface["layout"]).lower()


def test_one_neuron_preset_shows_the_exact_two_parameter_picture():
    at = ok(app(preset="one_neuron_mse"))
    assert at.session_state["view"] == "Error surface"
    surface = specs(at)[0]
    assert "exact" in json.dumps(surface["layout"]).lower()
    x = surface["data"][0]["x"]
    assert x  # the grid spans well beyond the path: the plateaus are in the picture


@pytest.mark.parametrize("problem,activation,loss", [
    ("regression", "sigmoid", "mse"), ("binary", "sigmoid", "mse"),
    ("multiclass", "sigmoid", "cce"), ("counts", "softplus", "poisson")])
def test_loss_anatomy_view_renders_for_every_problem(problem, activation, loss):
    at = ok(app(problem=problem, output_activation=activation, loss=loss,
                view="Loss anatomy", epochs="40"))
    anatomy_spec, histogram = specs(at)
    # the chosen pair names the chart, the matched pair its legend entry
    names = " ".join(t.get("name", "") for t in anatomy_spec["data"])
    title = anatomy_spec["layout"]["title"]["text"].replace("<br>", " ")
    assert "(matched)" in names and activations.get(activation).label in title
    assert histogram["frames"]
    assert len(at.latex) >= 3


def test_anatomy_and_surface_explain_a_run_that_broke_at_once():
    at = ok(app(output_activation="linear", view="Error surface"))
    assert any("no path" in i.value for i in at.main.info)
    at.radio(key="view").set_value("Loss anatomy").run()
    ok(at)
    assert specs(at), "the loss curves in z are still drawn (with gaps where undefined)"


def test_changing_the_loss_keeps_the_chosen_activation_on_later_reruns():
    at = ok(app())
    at.selectbox(key="loss").set_value("mse").run()
    at.number_input(key="seed").set_value(4).run()
    at.slider(key="epochs").set_value(100).run()
    ok(at)
    assert (at.session_state["output_activation"], at.session_state["loss"]) == ("sigmoid",
                                                                                  "mse")
    at.selectbox(key="output_activation").set_value("tanh").run()
    at.number_input(key="seed").set_value(5).run()
    assert (at.session_state["output_activation"], at.session_state["loss"]) == ("tanh", "mse")


@pytest.mark.parametrize("problem", losses.PROBLEMS)
def test_compare_view_races_the_usual_rivals(problem):
    at = ok(app(problem=problem, view="Compare", epochs="30"))
    chosen = at.multiselect(key=f"compare_pairs_{problem}").value
    assert len(chosen) == 3 and chosen[0] == "|".join(pairing.DEFAULT_PAIR[problem])
    race, maps = specs(at)
    assert len({t["name"] for t in race["data"] if t.get("showlegend", True)}) == 3
    table = at.table[0].value
    assert list(table["pair"])[0].startswith(
        activations.get(pairing.DEFAULT_PAIR[problem][0]).label)


def test_compare_shows_the_saturated_mse_run_losing_to_cross_entropy():
    at = ok(app(preset="why_not_mse", view="Compare"))
    table = at.table[0].value.set_index("verdict")
    assert table.loc["matched"].iloc[0]["validation accuracy"] > 0.95
    assert table.loc["mismatched", "validation accuracy"] < 0.85


def test_dataset_and_loss_options_appear_where_they_apply():
    at = ok(app(problem="multiclass"))
    at.slider(key="n_classes").set_value(5).run()
    ok(at)
    assert max(t.get("legendgroup") == "train" for t in specs(at)[0]["data"])
    legend = [t["name"] for t in specs(at)[0]["data"] if t.get("legendgroup") == "train"]
    assert len(legend) == 5
    at = ok(app(problem="regression", dataset="outliers", loss="huber", delta="0.5"))
    assert at.slider(key="delta").value == 0.5 and at.slider(key="outlier_share").value == 0.1
    at.slider(key="delta").set_value(2.0).run()
    value = ok(at).query_params["delta"]
    assert (value[0] if isinstance(value, list) else value) == "2"
    with pytest.raises(KeyError):
        app().slider(key="delta")  # BCE has no delta: no slider


def _query(at: AppTest) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def _main_text(at: AppTest) -> str:
    parts = [*at.main.info, *at.main.warning, *at.main.caption, *at.main.markdown]
    return " ".join(str(p.value) for p in parts)


def test_header_does_not_claim_every_loss_is_a_likelihood():
    at = ok(app())
    caption = at.main.caption[0].value
    assert caption.startswith("Many standard losses are the negative log-likelihood")


def test_a_lesson_link_keeps_its_lesson_until_a_setting_changes():
    at = ok(app(preset="why_not_mse", ask="0"))  # the title waits for a question's answer
    assert any(i.value.startswith("**Lesson: Why not MSE") for i in at.main.info)
    assert _query(at)["preset"] == "why_not_mse"
    at.radio(key="view").set_value("Train").run()  # a view is not a setting
    assert _query(ok(at))["preset"] == "why_not_mse"
    assert any("**Lesson:" in i.value for i in at.main.info)

    reloaded = ok(app(**_query(at)))  # the same link in a new session
    assert any("**Lesson: Why not MSE" in i.value for i in reloaded.main.info)
    assert _query(reloaded)["preset"] == "why_not_mse"

    at.slider(key="epochs").set_value(200).run()
    ok(at)
    info = " ".join(i.value for i in at.main.info)
    assert "**Lesson:" not in info
    assert "You have changed this lesson's settings** (epochs)" in info
    assert "preset" not in _query(at)
    at.button(key="back_to_lesson").click().run()
    ok(at)
    assert at.session_state["epochs"] == presets.get("why_not_mse").config.epochs == 100
    assert any("**Lesson: Why not MSE" in i.value for i in at.main.info)
    assert _query(at)["preset"] == "why_not_mse"


def test_a_changed_loss_also_marks_the_lesson_changed():
    at = ok(app(preset="hinge"))
    at.selectbox(key="loss").set_value("bce").run()
    ok(at)
    info = " ".join(i.value for i in at.main.info)
    assert "changed this lesson's settings** (output activation, loss)" not in info
    assert "changed this lesson's settings** (loss)" in info


def test_train_loss_help_says_how_it_differs_from_validation_loss():
    at = ok(app())
    help_text = next(m for m in at.metric if m.label == "Train loss").help
    for words in ("before", "L2", "after the epoch"):
        assert words in help_text


def test_poisson_loss_explains_why_it_can_be_negative_on_the_page():
    at = ok(app(problem="counts", epochs="30"))
    assert float(next(m for m in at.metric if m.label == "Train loss").value) < 0
    assert any("log y!" in c.value for c in at.main.caption)
    assert not any("log y!" in c.value for c in ok(app(epochs="30")).main.caption)


def test_saturating_mismatch_offers_a_race_from_a_saturated_start():
    at = ok(app(loss="mse"))
    notice = " ".join(m.value for m in at.main.markdown if "mismatched" in m.value)
    assert "p(1 − p)" in notice and "Small initial weights" in notice
    at.button(key="saturated_race").click().run()
    ok(at)
    assert at.session_state["view"] == "Compare"
    assert at.multiselect(key="compare_pairs_binary").value == ["sigmoid|mse", "sigmoid|bce"]
    assert (at.session_state["init_scale"], at.session_state["optimizer"],
            at.session_state["lr"], at.session_state["hidden"]) == (10.0, "sgd", 0.5, "16")
    table = at.table[0].value.set_index("pair")
    mse = table.loc["Sigmoid + Mean squared error", "validation accuracy"]
    bce = table.loc["Sigmoid + Binary cross-entropy", "validation accuracy"]
    assert bce - mse > 0.1
    note = next(i.value for i in at.main.info if "Why a saturated start" in i.value)
    assert "p(1 − p) (at most 0.25)" in note and "× 10" in note
    assert f"Sigmoid + Binary cross-entropy {bce:.1%}" in note
    assert f"Sigmoid + Mean squared error {mse:.1%}" in note
    assert _query(at)["init_scale"] == "10" and _query(at)["view"] == "Compare"
    assert not at.get("button") or "saturated_race" not in [b.key for b in at.button]


@pytest.mark.parametrize("query", [{}, {"loss": "hinge"},
                                   {"problem": "regression", "output_activation": "sigmoid"},
                                   {"problem": "multiclass", "output_activation": "sigmoid"}])
def test_no_race_button_where_the_default_run_already_shows_the_failure(query):
    at = ok(app(epochs="30", **query))
    assert "saturated_race" not in [b.key for b in at.button]


def test_a_range_mismatch_counts_the_targets_the_output_cannot_reach():
    at = ok(app(problem="regression", output_activation="sigmoid", epochs="30"))
    run = compute.RUNS.get(compute.key(cfg.from_query(_query(at))[0]))
    y = run.data.y_train
    outside = int(((y < 0) | (y > 1)).sum())
    assert outside > 0
    assert any(f"{outside} of the {len(y)} training targets lie outside the sigmoid output's "
               "range (0, 1)" in c.value for c in at.main.caption)


def test_msle_on_negative_built_in_targets_says_so():
    at = ok(app(problem="regression", loss="msle", epochs="30"))
    run = compute.RUNS.get(compute.key(cfg.from_query(_query(at))[0]))
    negative = int((run.data.y_train < 0).sum())
    assert any(f"{negative} of the {len(run.data.y_train)} training targets are negative"
               in c.value for c in at.main.caption)


EMOJI = ("\U0001F300", "\U0001FAFF")


def _has_emoji(text: str) -> bool:
    return any(EMOJI[0] <= ch <= EMOJI[1] or "\u2600" <= ch <= "\u27BF" or ch in "\uFE0F\u25B6"
               for ch in text)


@pytest.mark.parametrize("view", ["Train", "Loss anatomy", "Compare", "Learn"])
def test_the_main_area_has_no_emoji(view):
    at = ok(app(loss="mse", view=view, epochs="30"))
    texts = [_main_text(at), *(str(e.proto) for e in at.main.info),
             *(b.label for b in at.button), *(str(m.help) for m in at.metric)]
    assert not [t for t in texts if _has_emoji(t)]
    for spec in specs(at):
        labels = [b["label"] for m in spec["layout"].get("updatemenus", [])
                  for b in m["buttons"]]
        labels += [s["label"] for m in spec["layout"].get("sliders", []) for s in m["steps"]]
        assert not [b for b in labels if _has_emoji(b)]
    bars = [h.proto.body for h in at.get("html") if "lfe-playback" in h.proto.body]
    assert not [b for b in bars if _has_emoji(b.split("<script>")[0])]


def test_anatomy_caption_compares_pairs_not_positions():
    at = ok(app(preset="why_not_mse", view="Loss anatomy"))
    caption = " ".join(c.value for c in at.main.caption)
    assert "far left" not in caption
    assert "≥ 0.9" in caption and "≤ 0.17" in caption


@pytest.mark.parametrize("loss,expected", [
    ("bce", "**Negative log-likelihood of:** Bernoulli"),
    ("hinge", "**Not a likelihood:** a margin loss"),
    ("huber", "**Negative log-likelihood of:** targets with density proportional to "
              "exp(−Huber")])
def test_the_pair_panel_calls_only_likelihoods_likelihoods(loss, expected):
    from explorer.ui import views
    assert views.likelihood_sentence(losses.get(loss)).startswith(expected)


def test_settings_drawn_on_one_view_survive_a_visit_elsewhere():
    """Streamlit drops the value of a widget a run does not draw: the loss axis, the
    surface's slice and Play when ready must come back as they were left."""
    at = ok(app(epochs="30"))
    at.session_state["loss_axis"] = "linear"
    at.toggle(key="autoplay").set_value(False).run()
    at.radio(key="view").set_value("Error surface").run()
    ok(at)
    at.radio(key="surface_kind").set_value("pca").run()
    at.radio(key="view").set_value("Calibration").run()
    ok(at)
    at.toggle(key="present").set_value(True).run()  # no loss axis, no Play toggle here
    ok(at)
    at.toggle(key="present").set_value(False).run()
    at.radio(key="view").set_value("Train").run()
    ok(at)
    assert at.session_state["loss_axis"] == "linear"
    assert at.session_state["autoplay"] is False
    assert specs(at)[0]["layout"]["yaxis2"].get("type") != "log"
    at.radio(key="view").set_value("Error surface").run()
    ok(at)
    assert at.radio(key="surface_kind").value == "pca"
