"""Console chart smoothness: Explore drawing N series × M points in headless Chromium.

    python -m crisp.bench.console_chart [--series 100] [--points 1000] [--json]

Starts ``crisp storage`` and ``crisp console`` as a user runs them, writes ``series``
hosts × ``points`` timestamps (10 s apart) of one measurement, logs in as a superuser
and opens Explore on the mean by host at a 10 s interval over exactly that range, so
the chart holds every series and point. Then, in the page, with ``performance.now()``:

* load: navigation start → the chart's data handed to uPlot, and → the next frame
  after it (what a user waits for), plus the /api/query/ request alone;
* redraw: uPlot's redraw with path rebuild, a legend toggle (hide and show a series)
  and a zoom (set the x scale, then back), each until uPlot's draw has run;
* hover: the mouse swept across the plot, every frame's time recorded by
  ``requestAnimationFrame``: frames per second and the slowest frames, and the cost of
  one cursor update (``setCursor``, which moves the cursor and rewrites the legend).

Headless Debian Chromium (``/usr/bin/chromium``) through Playwright, as the e2e tests;
run it under ``flock /tmp/crisp-bench.lock``. No GPU: canvas drawing is software.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from crisp.bench.servers import free_port, running_server

DATABASE = "chartbench"
MEASUREMENT = "chart_bench"
STEP_S = 10
USER, PASSWORD = "bench", "bench-password-not-secret"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
LINES_PER_WRITE = 20_000
TIMEOUT_MS = 120_000

# Before any page script: note when Explore hands its chart over (window.crispChart is
# set right after `new uPlot`) and when the next frame after that starts.
INIT_SCRIPT = """
(() => {
  let chart;
  Object.defineProperty(window, "crispChart", {
    configurable: true,
    get() { return chart; },
    set(value) {
      chart = value;
      window.__chartSetAt = performance.now();
      requestAnimationFrame(() => { window.__chartFrameAt = performance.now(); });
    },
  });
})();
"""

# Times in ms of uPlot work that ends in a draw: uPlot draws in a microtask it queues,
# so awaiting a microtask queued after it waits for the draw.
REDRAW_SCRIPT = """
async (reps) => {
  const u = window.crispChart.uplot;
  const drawn = () => new Promise((resolve) => queueMicrotask(resolve));
  const timed = async (action) => {
    const t0 = performance.now();
    action();
    await drawn();
    return performance.now() - t0;
  };
  const xs = u.data[0];
  const out = { redraw: [], toggle: [], zoom: [], cursor: [] };
  for (let i = 0; i < reps; i++) {
    out.redraw.push(await timed(() => u.redraw(true, true)));
    const k = 1 + (i % (u.series.length - 1));
    out.toggle.push(await timed(() => u.setSeries(k, { show: false })));
    out.toggle.push(await timed(() => u.setSeries(k, { show: true })));
    const a = xs[Math.floor(xs.length / 4)], b = xs[Math.floor(xs.length / 2)];
    out.zoom.push(await timed(() => u.setScale("x", { min: a, max: b })));
    out.zoom.push(await timed(() => u.setScale("x", { min: xs[0], max: xs[xs.length - 1] })));
  }
  const width = u.over.clientWidth, height = u.over.clientHeight;
  for (let i = 0; i < reps * 20; i++) {
    const left = (i * 37) % width, top = (i * 53) % height;
    out.cursor.push(await timed(() => u.setCursor({ left, top })));
  }
  return out;
}
"""

FRAMES_START = """
() => {
  window.__frames = [];
  window.__recording = true;
  const tick = (t) => {
    window.__frames.push(t);
    if (window.__recording) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""

FRAMES_STOP = "() => { window.__recording = false; return window.__frames; }"


@dataclass
class ChartReport:
    series: int
    points: int
    legend_entries: int
    chart_points: int
    query_ms: float
    to_chart_ms: float
    to_frame_ms: float
    redraw_ms: list[float] = field(default_factory=list)
    toggle_ms: list[float] = field(default_factory=list)
    zoom_ms: list[float] = field(default_factory=list)
    cursor_ms: list[float] = field(default_factory=list)
    hover_fps: float = 0.0
    hover_frame_p95_ms: float = 0.0
    hover_frame_max_ms: float = 0.0
    hover_seconds: float = 0.0


def line_protocol(series: int, points: int, start_s: int) -> Iterator[str]:
    """``series`` hosts × ``points`` timestamps, STEP_S apart from ``start_s``: a
    different wave per host so the lines do not overlap."""
    for h in range(series):
        for p in range(points):
            value = 100 + h + 20 * ((p * (h % 7 + 1)) % 50) / 50
            yield f"{MEASUREMENT},host=h{h:03d} value={value:.2f} {start_s + p * STEP_S}"


def aligned_start(points: int) -> int:
    """A start (s) on a STEP_S boundary, so each point is one bucket, ending an hour ago."""
    return int(time.time()) // STEP_S * STEP_S - points * STEP_S - 3600


def write_points(storage_url: str, series: int, points: int, start_s: int) -> None:
    httpx.post(f"{storage_url}/query", data={"q": f"CREATE DATABASE {DATABASE}"}, timeout=30)
    batch: list[str] = []
    for line in line_protocol(series, points, start_s):
        batch.append(line)
        if len(batch) == LINES_PER_WRITE:
            _write(storage_url, batch)
            batch = []
    if batch:
        _write(storage_url, batch)


def _write(storage_url: str, lines: list[str]) -> None:
    response = httpx.post(
        f"{storage_url}/write",
        params={"db": DATABASE, "precision": "s"},
        content="\n".join(lines) + "\n",
        timeout=60,
    )
    response.raise_for_status()


def crisp_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "crisp", *args]


@contextmanager
def running_console(root: Path, storage_url: str) -> Iterator[str]:
    """``crisp console`` over ``storage_url`` with a superuser USER; its URL."""
    data_dir = root / "console"
    env = {
        **os.environ,
        "DJANGO_SUPERUSER_USERNAME": USER,
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "DJANGO_SUPERUSER_EMAIL": "bench@example.invalid",
    }
    subprocess.run(
        crisp_command("manage", "--data-dir", str(data_dir), "migrate", "--noinput"),
        check=True, capture_output=True, env=env, timeout=300,
    )  # fmt: skip
    subprocess.run(
        crisp_command("manage", "--data-dir", str(data_dir), "createsuperuser", "--noinput"),
        check=True, capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "console.log").open("wb")
    process = subprocess.Popen(
        crisp_command(
            "console", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}",
            "--metrics-url", storage_url, "--log-level", "warning",
        ),
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/login/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"crisp console did not start; see {root / 'console.log'}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def explore_url(console_url: str, points: int, start_s: int) -> str:
    """Explore, mean by host at STEP_S over exactly the written range: every point."""
    from urllib.parse import urlencode

    from crisp.query.timefmt import format_rfc3339

    state = {
        "database": DATABASE,
        "measurement": MEASUREMENT,
        "field": "value",
        "aggregate": "mean",
        "start": format_rfc3339(start_s * 10**9),
        "end": format_rfc3339((start_s + points * STEP_S) * 10**9),
        "interval": f"{STEP_S}s",
        "group_by": ["host"],
        "filters": [],
    }
    return f"{console_url}/explore/?" + urlencode({"q": json.dumps(state)})


def measure_page(page: Any, url: str, series: int, reps: int, hover_moves: int) -> ChartReport:
    """Open ``url`` (logged in) and measure load, redraws and hover on its chart."""
    page.goto(url)
    page.wait_for_function(
        f"document.querySelector('#chart')?.dataset.series === '{series}'", timeout=TIMEOUT_MS
    )
    page.wait_for_function("window.__chartFrameAt !== undefined", timeout=TIMEOUT_MS)
    loaded: dict[str, Any] = page.evaluate(
        """() => {
            const q = performance.getEntriesByType("resource")
                .filter((e) => e.name.includes("/api/query/"));
            return {
                setAt: window.__chartSetAt, frameAt: window.__chartFrameAt,
                query: q.length ? q[q.length - 1].responseEnd - q[q.length - 1].startTime : null,
                legend: document.querySelectorAll('#chart .u-legend .u-series').length - 1,
                points: Number(document.querySelector('#chart').dataset.points),
            };
        }"""
    )
    progress(f"chart drawn {loaded['setAt']:.0f} ms after navigation; timing redraws")
    timings: dict[str, list[float]] = page.evaluate(REDRAW_SCRIPT, reps)
    progress(f"redraws timed; hovering ({hover_moves} mouse moves)")
    hover = sweep(page, hover_moves)
    progress(f"hover: {hover['hover_fps']:.1f} frames/s")
    return ChartReport(
        series=series,
        points=loaded["points"] // max(series, 1),
        legend_entries=loaded["legend"],
        chart_points=loaded["points"],
        query_ms=float(loaded["query"] or 0.0),
        to_chart_ms=float(loaded["setAt"]),
        to_frame_ms=float(loaded["frameAt"]),
        redraw_ms=timings["redraw"],
        toggle_ms=timings["toggle"],
        zoom_ms=timings["zoom"],
        cursor_ms=timings["cursor"],
        **hover,
    )


def progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def sweep(page: Any, moves: int) -> dict[str, float]:
    """Move the mouse back and forth across the plot, recording every frame."""
    box = page.locator("#chart .u-over").bounding_box()
    assert box is not None, "the chart has no plot area"
    y_top, y_bottom = box["y"] + 5, box["y"] + box["height"] - 5
    page.mouse.move(box["x"] + 1, y_top)
    page.evaluate(FRAMES_START)
    started = time.perf_counter()
    for i in range(moves):
        fraction = (i % 100) / 99 if (i // 100) % 2 == 0 else 1 - (i % 100) / 99
        x = box["x"] + 1 + fraction * (box["width"] - 2)
        y = y_top + (y_bottom - y_top) * ((i * 7) % 100) / 99
        page.mouse.move(x, y)
    elapsed = time.perf_counter() - started
    frames: list[float] = page.evaluate(FRAMES_STOP)
    gaps = [b - a for a, b in itertools.pairwise(frames)]
    span_s = (frames[-1] - frames[0]) / 1000 if len(frames) > 1 else elapsed
    return {
        "hover_fps": (len(frames) - 1) / span_s if span_s > 0 else 0.0,
        "hover_frame_p95_ms": percentile(gaps, 0.95),
        "hover_frame_max_ms": max(gaps, default=0.0),
        "hover_seconds": elapsed,
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def log_in(page: Any, console_url: str) -> None:
    page.goto(f"{console_url}/login/")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url, timeout=TIMEOUT_MS)


@contextmanager
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def browser_page(chromium: str) -> Iterator[Any]:
    """One page of a fresh headless Chromium, with the chart timing hooks."""
    with browser(chromium) as launched:
        yield new_page(launched)


def new_page(launched: Any, explore_js: Path | None = None) -> Any:
    """A page in a new context (no cookies, no cache); ``explore_js`` replaces the
    console's explore.js, to measure a variant side by side."""
    context = launched.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT_SCRIPT)
    if explore_js is not None:
        body = explore_js.read_text()
        context.route(
            "**/static/console/explore.js",
            lambda route: route.fulfill(body=body, content_type="text/javascript"),
        )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def run(
    series: int,
    points: int,
    loads: int,
    reps: int,
    hover_moves: int,
    baseline_js: Path | None = None,
) -> dict[str, list[ChartReport]]:
    """Reports per variant: "console" (the console's own explore.js) and, with
    ``baseline_js``, "baseline", the loads alternating between the two."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    variants: list[tuple[str, Path | None]] = [("console", None)]
    if baseline_js is not None:
        variants.insert(0, ("baseline", baseline_js))
    reports: dict[str, list[ChartReport]] = {name: [] for name, _ in variants}
    with tempfile.TemporaryDirectory(prefix="crisp-chart-bench-") as tmp:
        root = Path(tmp)
        with running_server("crisp", root / "storage") as storage:
            start_s = aligned_start(points)
            write_points(storage.url, series, points, start_s)
            progress(f"wrote {series} series × {points} points; starting the console")
            with running_console(root, storage.url) as console, browser(chromium) as launched:
                url = explore_url(console, points, start_s)
                for load in range(loads):
                    for name, script in variants:
                        progress(f"load {load + 1}/{loads}: {name}")
                        page = new_page(launched, script)
                        try:
                            log_in(page, console)
                            reports[name].append(measure_page(page, url, series, reps, hover_moves))
                        finally:
                            page.context.close()
    return reports


def summary(reports: list[ChartReport]) -> dict[str, Any]:
    """Medians over the page loads (each list flattened first)."""

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 2) if values else 0.0

    def flat(name: str) -> list[float]:
        return [v for r in reports for v in getattr(r, name)]

    first = reports[0]
    return {
        "series": first.series,
        "points_per_series": first.points,
        "legend_entries": first.legend_entries,
        "loads": len(reports),
        "query_ms": med([r.query_ms for r in reports]),
        "navigation_to_chart_ms": med([r.to_chart_ms for r in reports]),
        "navigation_to_first_frame_ms": med([r.to_frame_ms for r in reports]),
        "redraw_ms_median": med(flat("redraw_ms")),
        "redraw_ms_p95": round(percentile(flat("redraw_ms"), 0.95), 2),
        "legend_toggle_ms_median": med(flat("toggle_ms")),
        "zoom_ms_median": med(flat("zoom_ms")),
        "cursor_update_ms_median": med(flat("cursor_ms")),
        "cursor_update_ms_p95": round(percentile(flat("cursor_ms"), 0.95), 2),
        "hover_fps_median": med([r.hover_fps for r in reports]),
        "hover_frame_p95_ms": med([r.hover_frame_p95_ms for r in reports]),
        "hover_frame_max_ms": round(max(r.hover_frame_max_ms for r in reports), 2),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=3, help="page loads measured per variant")
    parser.add_argument("--reps", type=int, default=10, help="redraws of each kind per load")
    parser.add_argument("--hover-moves", type=int, default=200)
    parser.add_argument(
        "--baseline-js",
        type=Path,
        help="another explore.js (e.g. from git show HEAD:…) measured in alternation",
    )
    parser.add_argument("--json", action="store_true", help="every measurement as JSON")
    args = parser.parse_args(argv)
    reports = run(
        args.series, args.points, args.loads, args.reps, args.hover_moves, args.baseline_js
    )
    summaries = {name: summary(runs) for name, runs in reports.items()}
    if args.json:
        loads = {name: [asdict(r) for r in runs] for name, runs in reports.items()}
        print(json.dumps({"summary": summaries, "loads": loads}))
    else:
        names = list(summaries)
        print(f"{'':32} " + " ".join(f"{name:>12}" for name in names))
        for key in summaries[names[0]]:
            if key == "machine":
                continue
            print(f"{key:32} " + " ".join(f"{summaries[n][key]!s:>12}" for n in names))
        print(f"machine: {summaries[names[0]]['machine']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
