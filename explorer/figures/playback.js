// Playback bar for an animated Plotly figure: play from the current frame, pause, restart,
// step one frame back or forward, speed 0.5x / 1x / 2x, and keys (space, left, right).
// Used in the app (inserted next to a chart) and in the exported HTML file. Each bar names
// its chart with a CSS selector (data-target); the script binds every unbound bar on the
// page, so it can run again after each rerun without doubling anything.
(function () {
  const FRAME_MS = 60;
  const state = window.__lfePlayback || (window.__lfePlayback = { bars: [], played: {} });

  function graphOf(bar) {
    const holder = document.querySelector(bar.dataset.target);
    if (!holder) return null;
    return holder.classList.contains("js-plotly-plot") ? holder
      : holder.querySelector(".js-plotly-plot");
  }

  function frameNames(gd) {
    const frames = (gd._transitionData && gd._transitionData._frames) || [];
    return frames.map((f) => f.name);
  }

  function currentIndex(gd, bar) {
    const names = frameNames(gd);
    const known = names.indexOf(bar.dataset.current);
    if (known >= 0) return known;
    const sliders = gd._fullLayout && gd._fullLayout.sliders;
    return sliders && sliders.length ? sliders[0].active || 0 : names.length - 1;
  }

  // an animation interrupted by another one rejects its promise: that is expected here
  function animate(gd, frames, opts) {
    const done = window.Plotly.animate(gd, frames, opts);
    if (done && done.catch) done.catch(() => {});
  }

  function options(bar, duration) {
    const redraw = bar.dataset.redraw === "1";
    return { mode: "immediate", frame: { duration: duration, redraw: redraw },
             transition: { duration: 0 } };
  }

  function show(bar) {
    const button = bar.querySelector("[data-act=toggle]");
    if (button) button.textContent = bar.dataset.playing === "1" ? "Pause" : "Play";
    bar.querySelectorAll("[data-speed]").forEach((b) => {
      b.setAttribute("aria-pressed", b.dataset.speed === bar.dataset.speed ? "true" : "false");
    });
  }

  function goTo(bar, index) {
    const gd = graphOf(bar);
    if (!gd || !window.Plotly) return;
    const names = frameNames(gd);
    if (!names.length) return;
    index = Math.max(0, Math.min(names.length - 1, index));
    pause(bar);
    bar.dataset.current = names[index];
    animate(gd, [names[index]], options(bar, 0));
  }

  function play(bar, fromStart) {
    const gd = graphOf(bar);
    if (!gd || !window.Plotly) return;
    const names = frameNames(gd);
    let start = fromStart ? 0 : currentIndex(gd, bar) + 1;
    if (start >= names.length) start = 0; // at the end: play again from the start
    const speed = parseFloat(bar.dataset.speed || "1");
    bar.dataset.playing = "1";
    show(bar);
    animate(gd, names.slice(start), options(bar, FRAME_MS / speed));
  }

  function pause(bar) {
    const gd = graphOf(bar);
    if (gd && window.Plotly && bar.dataset.playing === "1") {
      animate(gd, [null], options(bar, 0));
    }
    bar.dataset.playing = "0";
    show(bar);
  }

  function act(bar, what) {
    const gd = graphOf(bar);
    if (!gd) return;
    state.active = bar;
    if (what === "toggle") {
      if (bar.dataset.playing === "1") pause(bar); else play(bar, false);
    } else if (what === "restart") {
      play(bar, true);
    } else if (what === "back") {
      goTo(bar, currentIndex(gd, bar) - 1);
    } else if (what === "forward") {
      goTo(bar, currentIndex(gd, bar) + 1);
    }
  }

  function listen(bar, gd) {
    if (gd.__lfeListening === bar.dataset.run) return;
    gd.__lfeListening = bar.dataset.run;
    gd.on("plotly_animatingframe", (event) => {
      bar.dataset.current = event.name;
      bar.querySelector("[data-role=frame]").textContent = event.name;
    });
    gd.on("plotly_sliderchange", (event) => {
      if (event && event.step && event.step.args) {
        bar.dataset.current = event.step.args[0][0];
        bar.querySelector("[data-role=frame]").textContent = bar.dataset.current;
      }
    });
    gd.on("plotly_animated", () => { bar.dataset.playing = "0"; show(bar); });
  }

  function bind(bar) {
    if (bar.dataset.bound === "1") return;
    bar.dataset.bound = "1";
    bar.dataset.speed = bar.dataset.speed || "1";
    bar.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      if (button.dataset.speed) {
        const wasPlaying = bar.dataset.playing === "1";
        if (wasPlaying) pause(bar);
        bar.dataset.speed = button.dataset.speed;
        show(bar);
        if (wasPlaying) play(bar, false);
        return;
      }
      act(bar, button.dataset.act);
    });
    state.bars.push(bar);
    let tries = 0;
    let lastSize = "";
    let steady = 0;
    const wait = setInterval(() => {
      const gd = graphOf(bar);
      tries += 1;
      // wait until the chart has its final size: Streamlit may resize it once after the
      // first draw, and an animation started before that would play on a stale layout
      const size = gd && gd._fullLayout ? `${gd._fullLayout.width}x${gd._fullLayout.height}` : "";
      steady = size && size === lastSize ? steady + 1 : 0;
      lastSize = size;
      if (gd && frameNames(gd).length && window.Plotly && steady >= 3) {
        clearInterval(wait);
        listen(bar, gd);
        const names = frameNames(gd);
        bar.dataset.current = names[currentIndex(gd, bar)];
        bar.querySelector("[data-role=frame]").textContent = bar.dataset.current;
        bar.dataset.ready = "1";
        if (bar.dataset.autoplay === "1" && !state.played[bar.dataset.run]) {
          state.played[bar.dataset.run] = true;
          play(bar, true);
        }
      } else if (tries > 150) {
        clearInterval(wait);
      }
    }, 100);
  }

  document.querySelectorAll(".lfe-playback").forEach(bind);

  if (!state.keys) {
    state.keys = true;
    document.addEventListener("keydown", (event) => {
      const target = event.target;
      const typing = target && (target.isContentEditable
        || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
      if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
      const bars = Array.from(document.querySelectorAll(".lfe-playback[data-ready='1']"));
      if (!bars.length) return;
      const bar = bars.includes(state.active) ? state.active : bars[0];
      const what = { " ": "toggle", ArrowLeft: "back", ArrowRight: "forward" }[event.key];
      if (!what) return;
      event.preventDefault();
      act(bar, what);
    });
  }
})();
