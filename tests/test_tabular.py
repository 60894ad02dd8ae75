"""Uploaded CSVs: parsing, checks with actionable messages, and the prepared (X, y)."""

import numpy as np
import pandas as pd
import pytest

from explorer import config as cfg
from explorer import experiment, tabular


def csv(rows: list[str]) -> bytes:
    return "\n".join(rows).encode()


GOOD = csv(["a,b,label,amount"] + [f"{i},{(i * 7) % 11},{'yes' if i % 3 else 'no'},{i % 5}"
                                     for i in range(60)])


def test_reads_comma_semicolon_and_tab_separated_files():
    for sep in (",", ";", "\t"):
        frame = tabular.read_csv(GOOD.replace(b",", sep.encode()))
        assert list(frame.columns) == ["a", "b", "label", "amount"] and len(frame) == 60


def test_reads_latin_1_and_a_byte_order_mark():
    text = "temp,état\n" + "\n".join(f"{i},{i % 2}" for i in range(20))
    assert list(tabular.read_csv(text.encode("latin-1")).columns) == ["temp", "état"]
    assert list(tabular.read_csv(b"\xef\xbb\xbf" + text.encode()).columns)[0] == "temp"


@pytest.mark.parametrize("data,message", [
    (b"", "empty"), (b"   \n  ", "empty"), (b"PK\x03\x04\x00\x00binary", "ZIP archive"),
    (b"\x00\x01\x02 x,y", "binary"),
    (b"only\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11", "two columns"),
    (b"a,b\n1,2\n3,4", "at least 10"),
    (b'a,b\n"1,2\n3,4\n' * 5, "Could not read"),
    (b"a ,a\n" + b"1,2\n" * 12, "same name"),
])
def test_malformed_files_get_a_clear_message(data, message):
    with pytest.raises(ValueError, match=message):
        tabular.read_csv(data)


def test_numeric_columns_accept_numbers_written_as_text():
    frame = pd.DataFrame({"x": ["1", "2.5", "3"] * 5, "name": ["a", "b", "c"] * 5})
    assert tabular.numeric_columns(frame) == ["x"]


def test_binary_target_is_mapped_to_0_1_in_sorted_order_and_features_standardized():
    table = tabular.prepare(tabular.read_csv(GOOD), ["a", "b"], "label", "binary")
    assert table.class_names == ("no", "yes")
    assert set(np.unique(table.y)) == {0, 1} and table.y[0] == 0  # row 0 is "no"
    np.testing.assert_allclose(table.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(table.X.std(axis=0), 1)
    assert any("Classes: 0 = no, 1 = yes" in n for n in table.notes)


def test_numeric_class_labels_sort_as_numbers():
    frame = pd.DataFrame({"x": np.arange(30.0), "k": [10, 9, 2] * 10})
    table = tabular.prepare(frame, ["x"], "k", "multiclass")
    assert table.class_names == ("2", "9", "10")


@pytest.mark.parametrize("features,target,problem,message", [
    ([], "label", "binary", "one or two"),
    (["a", "b", "amount"], "label", "binary", "one or two"),
    (["a"], "a", "binary", "cannot also be a feature"),
    (["label"], "a", "regression", "not numeric"),
    (["a"], "label", "regression", "not numeric"),
    (["a"], "b", "binary", "exactly 2"),
    (["a"], "nope", "binary", "No column"),
])
def test_bad_column_choices_get_a_clear_message(features, target, problem, message):
    with pytest.raises(ValueError, match=message):
        tabular.prepare(tabular.read_csv(GOOD), features, target, problem)


def test_counts_must_be_whole_and_non_negative():
    frame = pd.DataFrame({"x": np.arange(20.0), "n": [1.5, 2] * 10})
    with pytest.raises(ValueError, match="whole numbers"):
        tabular.prepare(frame, ["x"], "n", "counts")
    table = tabular.prepare(frame.assign(n=np.arange(20) % 4), ["x"], "n", "counts")
    assert table.y.dtype == float and table.y.max() == 3


def test_missing_rows_are_dropped_and_large_files_sampled():
    frame = pd.DataFrame({"x": np.arange(100.0), "y": np.arange(100.0) * 2})
    frame.loc[[3, 7], "x"] = np.nan
    table = tabular.prepare(frame, ["x"], "y", "regression", max_rows=50)
    assert len(table.X) == 50
    assert any("Dropped 2 rows" in n for n in table.notes)
    assert any("sample of 50 of the 98" in n for n in table.notes)
    np.testing.assert_allclose(table.y.std(), 1)  # regression targets standardized


def test_constant_feature_is_refused():
    frame = pd.DataFrame({"x": np.ones(20), "y": np.arange(20.0)})
    with pytest.raises(ValueError, match="same value"):
        tabular.prepare(frame, ["x"], "y", "regression")


def test_a_prepared_table_trains_end_to_end():
    table = tabular.prepare(tabular.read_csv(GOOD), ["a", "b"], "label", "binary")
    config = cfg.DEFAULT.replace(dataset=cfg.UPLOAD, epochs=20)
    run = experiment.run(config, table=table)
    assert run.data.feature_names == ("a", "b") and run.data.class_names == ("no", "yes")
    assert len(run.data.X_train) + len(run.data.X_val) == 60
    assert len(run.history) == 20


def test_an_upload_scenario_without_its_table_says_so():
    with pytest.raises(ValueError, match="upload it again"):
        experiment.run(cfg.DEFAULT.replace(dataset=cfg.UPLOAD))


def test_digest_depends_on_data_and_choice():
    d = tabular.digest(GOOD, ["a"], "label", "binary")
    assert d == tabular.digest(GOOD, ["a"], "label", "binary")
    assert d != tabular.digest(GOOD, ["b"], "label", "binary")
    assert d != tabular.digest(GOOD + b"\n", ["a"], "label", "binary")


POSITIVE = pd.DataFrame({"x": np.arange(40.0), "y": np.geomspace(1.0, 5000.0, 40)})


def test_msle_keeps_non_negative_targets_in_their_own_units():
    table = tabular.prepare(POSITIVE, ["x"], "y", "regression", loss="msle")
    np.testing.assert_array_equal(table.y, POSITIVE["y"].to_numpy())
    assert not table.target_standardized
    assert any("own units" in n for n in table.notes)
    # the same file for MSE is standardized as before
    standard = tabular.prepare(POSITIVE, ["x"], "y", "regression", loss="mse")
    assert standard.target_standardized
    np.testing.assert_allclose(standard.y.std(), 1)
    assert (standard.y < 0).sum() > 10  # what MSLE would have clipped


def test_msle_on_a_target_with_negative_values_is_refused_not_clipped():
    frame = POSITIVE.assign(y=np.linspace(-3.0, 10.0, 40))
    with pytest.raises(ValueError, match=r"needs targets ≥ 0, but 9 of the 40"):
        tabular.prepare(frame, ["x"], "y", "regression", loss="msle")


def test_an_msle_run_on_an_upload_sees_the_raw_targets():
    table = tabular.prepare(POSITIVE, ["x"], "y", "regression", loss="msle")
    config = cfg.default_for("regression").replace(dataset=cfg.UPLOAD, loss="msle",
                                                   output_activation="softplus", epochs=5)
    run = experiment.run(config, table=table)
    seen = np.sort(np.concatenate([run.data.y_train, run.data.y_val]))
    np.testing.assert_array_equal(seen, POSITIVE["y"].to_numpy())


def test_digest_follows_how_the_target_was_prepared():
    mse = tabular.digest(GOOD, ["a"], "amount", "regression", "mse")
    assert mse == tabular.digest(GOOD, ["a"], "amount", "regression", "mae")
    assert mse != tabular.digest(GOOD, ["a"], "amount", "regression", "msle")


def _refusal(frame, target, problem, loss=None) -> tabular.Refusal:
    with pytest.raises(tabular.Refusal) as caught:
        tabular.prepare(frame, ["x"], target, problem, loss=loss)
    return caught.value


def test_a_continuous_target_under_binary_is_pointed_to_regression():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"x": rng.normal(size=60), "price": rng.normal(10, 3, size=60)})
    refusal = _refusal(data, "price", "binary")
    assert "choose regression" in str(refusal) and "multi-class" not in str(refusal)
    assert refusal.fix.changes == {"problem": "regression"}


def test_a_few_categories_under_binary_are_pointed_to_multiclass():
    data = pd.DataFrame({"x": np.arange(60.0), "kind": ["a", "b", "c"] * 20})
    refusal = _refusal(data, "kind", "binary")
    assert "choose multi-class" in str(refusal)
    assert refusal.fix.changes == {"problem": "multiclass"}


def test_fractional_counts_and_negative_msle_targets_carry_their_fix():
    data = pd.DataFrame({"x": np.arange(60.0), "y": np.linspace(-1, 1, 60)})
    assert _refusal(data, "y", "counts").fix.changes == {"problem": "regression"}
    assert _refusal(data, "y", "regression", loss="msle").fix.changes == {"loss": "mse"}
