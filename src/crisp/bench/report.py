"""Compare results as JSON, a Markdown table and a PNG chart, and into BENCHMARKS.md."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from crisp.bench.compare import CompareConfig, TargetReport, reports_document, write_json
from crisp.bench.timespec import NS_PER_S

TARGET_COLORS = {"crisp": "#5a9e5a", "influxdb": "#3b6ea8", "victoriametrics": "#d98c2b"}
BEGIN = "<!-- crisp bench compare: begin -->"
END = "<!-- crisp bench compare: end -->"
VERSION_COMMANDS = {
    "influxdb": ["influxd", "version"],
    # Debian's build prints no version of its own; its package knows it.
    "victoriametrics": ["dpkg-query", "-W", "-f", "VictoriaMetrics ${Version}", "victoria-metrics"],
}


def machine_description() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def server_version(target: str) -> str:
    command = VERSION_COMMANDS.get(target)
    if command is None:
        from crisp import __version__

        return f"crisp {__version__}"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def _cell(value: float | int | None, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, fmt)


def markdown_table(config: CompareConfig, reports: Sequence[TargetReport]) -> str:
    ran = [r for r in reports if r.skipped is None]
    spec = config.spec
    lines = [
        f"Data: {spec.use_case}, {spec.hosts} hosts, {spec.duration_ns / NS_PER_S / 3600:g} h "
        f"at {spec.interval_ns / NS_PER_S:g} s, seed {spec.seed}; {config.batch}-line "
        f"requests over {config.connections} connections; queries"
        f"{'' if config.queries == 'builtin' else f' ({config.queries})'}: median of "
        f"{config.runs} runs. Machine: {machine_description()}. "
        f"Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
    ]
    for report in reports:
        if report.skipped:
            lines.append(f"- **{report.target} skipped**: {report.skipped}")
    if ran:
        if len(ran) < len(reports):
            lines.append("")
        lines += [
            "| | " + " | ".join(f"{r.target} ({server_version(r.target)})" for r in ran) + " |",
            "|---|" + "---|" * len(ran),
        ]
        rows: list[tuple[str, Callable[[TargetReport], str]]] = [
            (
                "ingest, field values/s",
                lambda r: _cell(r.load.values_per_s if r.load else None, ",.0f"),
            ),
            ("request latency p50 / p99, ms", lambda r: _latency(r, paced=False)),
            (
                f"ack latency p50 / p99 at {config.ack_rate:,.0f} values/s, "
                f"{config.paced_batch}-line requests, ms",
                lambda r: _latency(r, paced=True),
            ),
            ("load errors", lambda r: str(r.load.errors_by_status or "none") if r.load else "–"),
            (
                "client CPU / server CPU during load, s",
                lambda r: (
                    f"{_cell(r.load.client_cpu_s if r.load else None, '.2f')} / "
                    f"{_cell(r.server_cpu_s, '.2f')}"
                ),
            ),
            # CPU per value varies far less than values/s when other work shares the cores.
            ("server CPU per million values ingested, s", _cpu_per_million),
            (
                "bytes per value on disk, settled / after stop",
                lambda r: (
                    f"{_cell(r.bytes_per_value(r.disk_bytes_settled), '.2f')} / "
                    f"{_cell(r.bytes_per_value(r.disk_bytes_stopped), '.2f')}"
                ),
            ),
            ("peak RSS, MB", lambda r: _cell(r.peak_rss_bytes and r.peak_rss_bytes / 1e6, ".0f")),
        ]
        names = [q.name for q in ran[0].queries]
        for index, name in enumerate(names):
            description = ran[0].queries[index].description
            rows.append((f"{name} {description}, median ms", _query_cell(index)))
        lines += [f"| {label} | " + " | ".join(cell(r) for r in ran) + " |" for label, cell in rows]
    return "\n".join(lines) + "\n"


def _latency(report: TargetReport, paced: bool) -> str:
    result = report.paced if paced else report.load
    if result is None:
        return "–"
    summary = result.ack_latency if paced else result.latency
    if summary is None:
        return "–"
    return f"{_cell(summary.p50_ms, '.1f')} / {_cell(summary.p99_ms, '.1f')}"


def _cpu_per_million(report: TargetReport) -> str:
    if report.load is None or report.server_cpu_s is None or report.load.values == 0:
        return "–"
    return _cell(report.server_cpu_s / report.load.values * 1e6, ".2f")


def _query_cell(index: int) -> Callable[[TargetReport], str]:
    def cell(report: TargetReport) -> str:
        if index >= len(report.queries):
            return "–"
        timing = report.queries[index]
        if timing.error:
            return "error"
        if timing.skipped:
            return "n/a"
        return _cell(timing.timing.median_ms, ".1f")

    return cell


def write_chart(reports: Sequence[TargetReport], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    ran = [r for r in reports if r.skipped is None]
    colors = [TARGET_COLORS.get(r.target, "#777777") for r in ran]
    figure, axes = plt.subplots(1, 4, figsize=(14, 3.4))
    names = [r.target for r in ran]
    panels = [
        ("ingest, M values/s", [(r.load.values_per_s / 1e6 if r.load else 0.0) for r in ran]),
        (
            "bytes/value on disk (settled)",
            [r.bytes_per_value(r.disk_bytes_settled) or 0.0 for r in ran],
        ),
        ("peak RSS, MB", [(r.peak_rss_bytes or 0) / 1e6 for r in ran]),
    ]
    for axis, (title, values) in zip(axes[:3], panels, strict=True):
        axis.bar(names, values, color=colors)
        axis.set_title(title, fontsize=10)
        axis.tick_params(axis="x", labelsize=8)
    query_axis = axes[3]
    query_names = [q.name for q in ran[0].queries] if ran else []
    width = 0.8 / max(1, len(ran))
    for offset, report in enumerate(ran):
        medians = [
            q.timing.median_ms if q.error is None and q.skipped is None else 0.0
            for q in report.queries
        ]
        positions = [i + offset * width for i in range(len(medians))]
        query_axis.bar(positions, medians, width=width, label=report.target, color=colors[offset])
    query_axis.set_xticks([i + width * (len(ran) - 1) / 2 for i in range(len(query_names))])
    query_axis.set_xticklabels(query_names)
    query_axis.set_yscale("log")
    query_axis.set_title("query median, ms (log)", fontsize=10)
    if ran:
        query_axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def replace_section(document: str, section: str) -> str:
    """Puts ``section`` between the markers, appending them when they are missing."""
    block = f"{BEGIN}\n{section}{END}"
    if BEGIN in document and END in document:
        head, rest = document.split(BEGIN, 1)
        return head + block + rest.split(END, 1)[1]
    return document.rstrip("\n") + "\n\n" + block + "\n"


def write_outputs(
    config: CompareConfig, reports: Sequence[TargetReport], out_dir: Path, report: Path | None
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "compare.json", reports_document(config, reports))
    table = markdown_table(config, reports)
    (out_dir / "compare.md").write_text(table)
    chart = out_dir / "compare.png"
    write_chart(reports, chart)
    print(f"wrote {out_dir / 'compare.json'}, {out_dir / 'compare.md'}, {chart}")
    if report is not None:
        link = os.path.relpath(chart, report.parent)
        section = f"{table}\n![compare chart]({link})\n"
        existing = report.read_text() if report.exists() else "# Benchmarks\n"
        report.write_text(replace_section(existing, section))
        print(f"updated {report}")
