"""`gil-advisor trace --html report.html`: one self-contained page (no network, no CDN).

A per-thread timeline drawn as inline SVG (running / waiting for the GIL / blocked in I/O),
the findings with their verdicts and figures (confirmed and runtime-only first; findings in
files the run never imported folded away), and the host facts. Laid out for a 1400 px window:
long names wrap, badges and figures do not. Every value from the report is escaped.
"""
from __future__ import annotations

import html
import json
import math
from typing import Any, Optional

from gil_advisor.output.helpers import display_path, figure, percentages
from gil_advisor.runtime.model import SHARE_LABELS, CheckedFinding, RuntimeFinding, TraceReport
from gil_advisor.runtime.timeline import LABELS

COLOURS = {"run": "#2e7d32", "gil": "#c62828", "lock": "#ef6c00", "io": "#1565c0", "unknown": "#9e9e9e"}
RUNTIME_ONLY = ("runtime only", "#ad1457")
ROW, LABEL_W, WIDTH, AXIS_PAD = 22, 220, 1000, 24
HOST_LABELS = {
    "platform": "platform", "machine": "machine", "python": "Python", "implementation": "implementation",
    "free_threaded_build": "free-threaded build", "gil_enabled": "GIL enabled",
    "switch_interval_s": "switch interval", "usable_cores": "usable cores",
    "loadavg_at_start": "load average at start", "proc_available": "/proc available",
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
main{max-width:1300px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;width:100%;margin:4px 0;font-size:13px}
td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f5f5f5;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.name{overflow-wrap:anywhere}
table.findings{table-layout:fixed} table.findings th{white-space:normal}
.verdict{color:#fff;border-radius:3px;padding:1px 6px;font-weight:600;white-space:nowrap;display:inline-block;line-height:1.5}
#host th{width:14em}
.legend span{display:inline-block;margin-right:14px} .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
code{background:#f3f3f3;padding:0 3px;border-radius:3px} .muted{color:#666}
.why{overflow-wrap:anywhere} .why small{display:block;color:#555;margin-top:2px}
details{margin:8px 0} summary{cursor:pointer;color:#444}
svg{max-width:100%;height:auto} svg text{font:12px system-ui,sans-serif}
"""


def _e(x: Any) -> str:
    """Escaped text; lone surrogates (undecodable names) shown as escapes, never lost."""
    text = "" if x is None else str(x)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(text)


def _fig(x: Any, unit: str = "") -> str:
    return _e(figure(x, unit) if isinstance(x, (int, float)) or x is None else x)


def _nice_step(wall: float) -> float:
    """A round tick step giving about five ticks: 0.1, 0.2, 0.25, 0.5, 1, 2 ... seconds."""
    raw = wall / 5
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def timeline_svg(report: TraceReport) -> str:
    threads = report.threads
    last = max((seg[1] for t in threads for seg in t.timeline), default=0.0)
    wall = max(report.process.wall_s or 0.0, last, 1e-6)
    height = ROW * len(threads) + 30
    plot_w = WIDTH - LABEL_W - AXIS_PAD
    scale = plot_w / wall
    out = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="thread timeline">'
    ]
    for i, t in enumerate(threads):
        y = i * ROW + 4
        label = _e(t.label)
        out.append(f'<g class="thread" data-tid="{_e(t.tid)}">')
        out.append(f'<text x="0" y="{y + 13}">{_e(t.label[:30])}</text>')
        out.append(f'<rect x="{LABEL_W}" y="{y}" width="{plot_w}" height="{ROW - 6}" fill="#f4f4f4"/>')
        for start, end, state in t.timeline:
            x = LABEL_W + start * scale
            w = max((end - start) * scale, 0.5)
            out.append(
                f'<rect class="seg {_e(state)}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 6}" '
                f'fill="{COLOURS.get(state, "#999")}">'
                f"<title>{label}: {_e(LABELS.get(state, state))} {start:.3f}–{end:.3f} s</title></rect>"
            )
        out.append("</g>")
    axis_y = ROW * len(threads) + 18
    step = _nice_step(wall)
    k = 0
    while k * step <= wall + 1e-9:
        t = k * step
        x = LABEL_W + t * scale
        # The first label starts at the axis, the last ends inside the picture: both stay whole.
        anchor = "start" if k == 0 else ("end" if x > WIDTH - AXIS_PAD - 6 else "middle")
        out.append(f'<text x="{x:.0f}" y="{axis_y}" class="muted axis" text-anchor="{anchor}">{figure(t)} s</text>')
        k += 1
    out.append("</svg>")
    return "".join(out)


def _where(path: Any, line: Any, tooltip: str = "") -> str:
    shown = display_path(path) if isinstance(path, str) else path
    title = f' title="{_e(tooltip)}"' if tooltip else ""
    return f'<td class="name"{title}>{_e(shown)}:{_e(line)}</td>'


def _badge(label: str, colour: str) -> str:
    return f'<span class="verdict" style="background:{colour}">{_e(label)}</span>'


def _speedup(sp) -> str:
    if sp is None:
        return "–"
    text = f"~{figure(sp.worker)}×"
    if sp.dominated_by:
        text += " (pickling dominates)"
    return _e(text)


def _checked_row(c: CheckedFinding) -> str:
    f, m = c.finding, c.measured
    measured = m is not None and m.calls > 0
    sp = m.projected_speedup if measured and c.verdict.value == "confirmed" else None
    why = _e(c.reason)
    if sp is not None and sp.dominated_by:
        why += f"<small>{_e(sp.dominated_by)}</small>"
    evidence = "\n".join(
        f"{display_path(e.location.path) if isinstance(e.location.path, str) else e.location.path}:{e.location.line}: "
        f"{e.kind}: {e.description}"
        for e in f.evidence
    )
    return (
        f'<tr class="finding" data-verdict="{_e(c.verdict.value)}">'
        f'<td title="{_e(f.message)}"><code>{_e(f.code)}</code></td>'
        f"{_where(f.location.path, f.location.line, evidence)}"
        f'<td class="name"><code>{_e(f.worker)}</code></td>'
        f"<td>{_badge(c.verdict.label, c.verdict.colour)}</td>"
        f"<td class=num>{_fig(m.threads if measured else None)}</td>"
        f"<td class=num>{_fig(m.wall_s if measured else None, ' s')}</td>"
        f"<td class=num>{_fig(m.cpu_s if measured else None, ' s')}</td>"
        f"<td class=num>{_pct(m.shares.waiting_for_gil if measured else None)}</td>"
        f"<td class=num>{_fig(m.parallelism if measured else None)} / {_fig(m.parallelism_possible if measured else None)}</td>"
        f"<td class=num>{_speedup(sp)}</td>"
        f'<td class="why">{why}</td>'
        "</tr>"
    )


def _runtime_row(r: RuntimeFinding) -> str:
    sp = r.projected_speedup
    why = _e(r.message)
    if r.hot_locations:
        h = r.hot_locations[0]
        why += f"<small>hottest line {_e(display_path(h.path))}:{_e(h.line)} ({_pct(h.share)})</small>"
    if r.remedies:
        why += f"<small>try: {_e(r.remedies[0].title)}</small>"
    if sp is not None and sp.dominated_by:
        why += f"<small>{_e(sp.dominated_by)}</small>"
    m = r.measured
    return (
        '<tr class="finding" data-verdict="runtime-only">'
        f"<td><code>{_e(r.code)}</code></td>"
        f"{_where(r.entry.path, r.entry.line)}"
        f'<td class="name"><code>{_e(r.entry.function)}</code></td>'
        f"<td>{_badge(*RUNTIME_ONLY)}</td>"
        f"<td class=num>{_fig(r.threads)}</td>"
        "<td class=num>–</td>"
        f"<td class=num>{_fig(m.cpu_s, ' s')}</td>"
        f"<td class=num>{_pct(m.shares.waiting_for_gil)}</td>"
        "<td class=num>–</td>"
        f"<td class=num>{_speedup(sp)}</td>"
        f'<td class="why">{why}</td>'
        "</tr>"
    )


def _pct(x: Optional[float]) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


SCRIPT = """<script>
// Measured by the browser, for people reading the page source and for the browser test.
document.body.dataset.threadsDrawn = document.querySelectorAll("#timeline g.thread").length;
document.body.dataset.scrollWidth = document.documentElement.scrollWidth;
document.body.dataset.badgesWrapped = Array.prototype.filter.call(document.querySelectorAll(".verdict"), function (b) {
  return b.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(b).fontSize);
}).length;
(function () {
  var svg = document.getElementById("timeline"), labels = svg.querySelectorAll("text.axis");
  var last = labels[labels.length - 1].getBBox();
  document.body.dataset.lastAxisLabelWhole = (last.x >= 0 && last.x + last.width <= svg.viewBox.baseVal.width) ? "yes" : "no";
})();
</script>"""

# Fixed layout: the table takes the page's width and long names wrap inside their column.
COLUMNS = (
    "<colgroup><col style=\"width:5.5em\"><col style=\"width:13%\"><col style=\"width:14%\">"
    "<col style=\"width:11em\"><col style=\"width:4.5em\"><col style=\"width:5.5em\">"
    "<col style=\"width:5.5em\"><col style=\"width:4.5em\"><col style=\"width:6.5em\">"
    "<col style=\"width:7em\"><col></colgroup>"
)
HEAD = COLUMNS + (
    "<tr><th>code</th><th>where</th><th>worker</th><th>verdict</th><th class=num>threads</th>"
    "<th class=num>wall in worker</th><th class=num>CPU in worker</th><th class=num>GIL wait</th>"
    "<th class=num>CPUs used / possible</th><th class=num>processes (estimate)</th><th>why</th></tr>"
)


def _findings_section(report: TraceReport) -> str:
    shown = [f for f in report.ranked() if not (isinstance(f, CheckedFinding) and f.unreached)]
    folded = [f for f in report.findings if f.unreached]
    rows = [_runtime_row(f) if isinstance(f, RuntimeFinding) else _checked_row(f) for f in shown]
    body = "".join(rows) or '<tr><td colspan=11 class=muted>no findings</td></tr>'
    out = f'<table id="findings" class="findings">{HEAD}{body}</table>'
    if folded:
        files = len({f.finding.location.path for f in folded})
        out += (
            f'<details id="unreached"><summary>{len(folded)} finding(s) in {files} file(s) the run never '
            f'imported</summary><table class="findings">{HEAD}{"".join(_checked_row(f) for f in folded)}</table></details>'
        )
    return out


def _thread_shares(t) -> str:
    items = [(k, v) for k, v in t.shares.items() if v]
    pcts = percentages([v for _, v in items])
    return ", ".join(f"{SHARE_LABELS[k]} {p}%" for (k, _), p in zip(items, pcts) if p)


def _host_value(v: Any) -> str:
    if isinstance(v, float):
        return figure(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return "–" if v is None else str(v)


def render_html(report: TraceReport) -> str:
    proc = report.process
    backend = report.backend
    probe = proc.gil_probe
    thread_rows = "".join(
        f'<tr><td class="name">{_e(t.name)}</td><td class=num>{_e(t.tid)}</td>'
        f"<td class=num>{_fig(t.lifetime_s, ' s')}</td><td class=num>{_fig(t.cpu_s, ' s')}</td>"
        f"<td class=num>{_fig(t.waiting_for_cpu_s, ' s')}</td><td>{_e(_thread_shares(t))}</td></tr>"
        for t in report.threads
    )
    legend = "".join(f'<span><i style="background:{c}"></i>{_e(LABELS[k])}</span>' for k, c in COLOURS.items())
    host_rows = "".join(
        f"<tr><th>{_e(HOST_LABELS.get(k, k.replace('_', ' ')))}</th><td>{_e(_host_value(v))}</td></tr>"
        for k, v in report.host.items()
    )
    name = _e(proc.target.name)
    incomplete = "" if report.complete else "; <b>report incomplete</b>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>gil-advisor trace: {name}</title><style>{CSS}</style></head>
<body><main>
<h1>gil-advisor trace: <code>{name}</code></h1>
<p class="muted">backend <b>{_e(backend.get('name'))}</b> ({_e(backend.get('reason'))}); exit code {_e(proc.exit_code)};
wall {_fig(proc.wall_s, ' s')}, CPU {_fig(proc.cpu_s, ' s')}, {_fig(proc.parallelism)} of {_e(proc.usable_cores)} usable cores busy;
GIL probe median {_fig(probe.median_ms, ' ms')} (p99 {_fig(probe.p99_ms, ' ms')}){incomplete}</p>
<h2>Findings</h2>
{_findings_section(report)}
<h2>Threads over time</h2>
<div class="legend">{legend}</div>
{timeline_svg(report)}
<h2>Threads</h2>
<table id="threads"><tr><th>name</th><th class=num>tid</th><th class=num>lifetime</th><th class=num>CPU</th><th class=num>waiting for a CPU</th><th>share of its life</th></tr>{thread_rows}</table>
<h2>Host</h2><table id="host">{host_rows}</table>
</main>
{SCRIPT}
</body></html>
"""
