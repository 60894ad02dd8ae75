"""What the outputs estimate, in real Chromium: the Calibration view plays, and one click
draws the 80 % band with its coverage."""

import re

import pytest

from tests.e2e.helpers import (
    click_pause,
    click_play,
    current_key,
    no_exception,
    screenshot,
    wait_idle,
)

pytestmark = pytest.mark.e2e

FIND = ("suffix => Array.from(document.querySelectorAll('.js-plotly-plot')).find(g =>"
        " g.layout && String(g.layout.meta || '').endsWith(suffix))")


def wait_for_chart(page, suffix: str, animated: bool = False, timeout: float = 90_000):
    """Wait until the figure whose layout.meta ends with ``suffix`` is on the page."""
    check = (f"suffix => {{ const g = ({FIND})(suffix); return !!g"
             + (" && g._transitionData && g._transitionData._frames.length > 0" if animated
                else "") + "; }")
    page.wait_for_function(check, arg=suffix, timeout=timeout)


def chart_eval(page, suffix: str, body: str):
    """Evaluate ``body`` (a JS expression in ``g``) on the figure found by its meta suffix."""
    return page.evaluate(f"suffix => {{ const g = ({FIND})(suffix); return {body}; }}", suffix)


def test_calibration_view_plays_over_training(server, page, artifacts):
    page.goto(server + "/?preset=overconfident&autoplay=0&ask=0")
    wait_idle(page, chart=False)
    suffix = current_key(page) + ":calibration"
    wait_for_chart(page, suffix, animated=True)
    no_exception(page)
    assert page.get_by_text("Lesson: A long run grows overconfident").first.is_visible()
    frames = chart_eval(page, suffix, "g._transitionData._frames.length")
    assert frames >= 50
    traces = chart_eval(page, suffix, "g.querySelectorAll('.scatterlayer .trace').length")
    chart_eval(page, suffix, "(window.__played = [], g.on('plotly_animatingframe',"
                             " e => window.__played.push(e.name)), true)")
    click_play(page, ".st-key-calibration_chart .js-plotly-plot")
    ece_path = ("(() => { const i = g.data.findIndex(t => t.name === 'ECE (validation)');"
                " const p = g.querySelectorAll('.scatterlayer .trace')[i]"
                ".querySelector('.js-line'); return p ? (p.getAttribute('d') || '') : ''; })()")
    lengths = []
    for k in range(4):
        page.wait_for_function(f"() => window.__played.length >= {5 + 10 * k}")
        lengths.append(len(chart_eval(page, suffix, ece_path)))
        # every trace stays on the page while playing (an empty scatter would drop them)
        assert chart_eval(page, suffix,
                          "g.querySelectorAll('.scatterlayer .trace').length") == traces
        bars = chart_eval(page, suffix, "Array.from(g.querySelectorAll('.scatterlayer "
                                        ".trace .js-fill')).filter(p => (p.getAttribute('d')"
                                        " || '').length > 10).length")
        assert bars >= 2, "the observed bars and the bin counts are drawn"
    assert lengths[-1] > lengths[0], "the ECE curve grows with the epochs as it plays"
    played = [int(name) for name in page.evaluate("() => window.__played")]
    assert played == sorted(played) and played[0] == 0
    label = chart_eval(page, suffix, "Array.from(g.querySelectorAll('.slider-container text'))"
                                     ".map(t => t.textContent).join(' ')")
    assert re.search(r"Epoch \d+", label)
    click_pause(page, ".st-key-calibration_chart .js-plotly-plot")
    screenshot(page, artifacts / "estimates-01-calibration-playing.png")


def test_one_click_draws_the_80_percent_band_with_its_coverage(server, page, artifacts):
    page.goto(server + "/?preset=skewed_estimates&ask=0")
    wait_idle(page)
    no_exception(page)
    key = current_key(page)
    wait_for_chart(page, key + ":estimates:10")
    assert not page.get_by_text("inside the 80 % band").count()
    page.get_by_text("80 % band", exact=True).click()
    wait_for_chart(page, key + ":estimates:11")
    legend = chart_eval(page, key + ":estimates:11",
                        "Array.from(g.querySelectorAll('.legendtext')).map(t => t.textContent)")
    assert "80 % band: pinball τ = 0.1 to 0.9" in legend
    coverage = page.get_by_test_id("stMetric").filter(has_text="inside the 80 % band")
    coverage.first.wait_for()
    text = coverage.first.inner_text()
    assert "nominal 80.0%" in text
    value = float(re.search(r"(\d+\.\d)%\s*$", text.strip()).group(1))
    assert 60.0 <= value <= 95.0, text
    coverage.first.scroll_into_view_if_needed()
    screenshot(page, artifacts / "estimates-02-band.png")
