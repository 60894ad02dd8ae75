"""Every text a person or a link can send has a length limit: each text box has
``max_chars``, and a link's value longer than its setting's limit is refused before it is
parsed, with the usual notice (a 10 MB hidden-layers value once cost the server 315 MB)."""

from __future__ import annotations

import ast
import tracemalloc
from pathlib import Path

import pytest

from explorer import activations, datasets, formula, losses, optimizers
from explorer import config as cfg
from explorer.network import MAX_LAYERS, MAX_UNITS
from tests.apptest import app, ok

ROOT = Path(__file__).resolve().parents[1]
UI_FILES = sorted([ROOT / "app.py", *(ROOT / "explorer" / "ui").glob("*.py")])


def text_boxes(path: Path):
    """(line, keywords) of every text_input / text_area call in a file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("text_input", "text_area")):
            yield node.lineno, {k.arg for k in node.keywords}


def test_every_text_box_has_a_length_limit():
    boxes = [(path.name, line) for path in UI_FILES for line, keywords in text_boxes(path)
             if "max_chars" not in keywords]
    assert boxes == []
    found = {path.name for path in UI_FILES for _ in text_boxes(path)}
    assert {"sidebar.py", "custom.py"} <= found  # the scan sees the hidden-layers and formula boxes


def test_the_scan_would_catch_a_box_without_one(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f(sb):\n    sb.text_area('Notes', key='notes')\n")
    assert list(text_boxes(sneaky)) == [(2, {"key"})]


def test_the_formula_limit_is_the_parsers():
    assert cfg.FIELD["formula"].max_chars == formula.MAX_LENGTH


def longest_valid_texts() -> dict[str, list[str]]:
    """Independently of the limits: the longest texts each setting must accept."""
    numbers = {f.key: [f.dump(f.lo), f.dump(f.hi), f.dump(f.lo + (f.hi - f.lo) / 3)]
               for f in cfg.FIELDS if f.lo is not None}
    sizes = ", ".join([str(MAX_UNITS)] * MAX_LAYERS)
    return {
        **numbers,
        "problem": list(losses.PROBLEMS), "dataset": [*datasets.DATASETS, cfg.UPLOAD],
        "output_activation": list(activations.OUTPUT_ACTIVATIONS),
        "hidden_activation": list(activations.HIDDEN_ACTIVATIONS),
        "optimizer": list(optimizers.OPTIMIZERS), "loss": [*losses.LOSSES, losses.CUSTOM],
        "hidden": [sizes, sizes.replace(" ", "")],
        "formula": [("(p - y)**2 + " * 20)[:200].rstrip(" +")],
    }


def test_every_valid_value_fits_its_limit():
    texts = longest_valid_texts()
    assert set(texts) == set(cfg.FIELD_KEYS)
    for key, values in texts.items():
        field = cfg.FIELD[key]
        for text in values:
            assert len(text) <= field.max_chars, (key, text)
    # and the ones the app accepts do come through a link
    config, notices = cfg.from_query({"hidden": texts["hidden"][0], "lr": texts["lr"][2]})
    assert notices == [] and config.hidden == (MAX_UNITS,) * MAX_LAYERS


@pytest.mark.parametrize("key", cfg.FIELD_KEYS)
def test_a_value_longer_than_its_limit_is_refused_unread(key):
    field = cfg.FIELD[key]
    just_over = "1" * (field.max_chars + 1)
    config, notices = cfg.from_query({key: just_over})
    assert getattr(config, key) == getattr(cfg.DEFAULT, key)
    assert any(n.startswith(f"Ignored {key}='111") for n in notices), notices

    huge = "1," * 5_000_000  # 10 MB
    tracemalloc.start()
    try:
        config, notices = cfg.from_query({key: huge})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert getattr(config, key) == getattr(cfg.DEFAULT, key)
    assert any(n.startswith(f"Ignored {key}='1,1,") for n in notices), notices
    assert peak < 1_000_000, f"{peak / 1e6:.0f} MB to refuse a 10 MB {key}"


def test_a_link_with_a_huge_hidden_value_gets_the_usual_notice_and_a_bounded_box():
    at = ok(app(hidden="16," * 100_000))
    notices = " ".join(w.value for w in at.main.warning).replace("\\", "")
    assert "Ignored hidden='16,16,16," in notices
    box = at.sidebar.text_input(key="hidden")
    assert box.value == "16,16" and box.proto.max_chars == cfg.HIDDEN_MAX_CHARS
