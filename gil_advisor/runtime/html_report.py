"""`gil-advisor trace --html report.html`: one self-contained page (no network, no CDN).

A per-thread timeline drawn as inline SVG (running / waiting for the GIL / blocked in I/O),
the findings with their verdicts and figures, and the host facts.
"""
from __future__ import annotations

import html
import json
from typing import Any

from gil_advisor.runtime.timeline import LABELS

COLOURS = {"run": "#2e7d32", "gil": "#c62828", "lock": "#ef6c00", "io": "#1565c0", "unknown": "#9e9e9e"}
VERDICT_COLOURS = {"confirmed": "#c62828", "refuted": "#2e7d32", "not-exercised": "#757575"}
ROW, LABEL_W, WIDTH = 22, 220, 900

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;width:100%;margin:4px 0;font-size:13px} #findings td:last-child{min-width:260px} td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5} .num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{color:#fff;border-radius:3px;padding:1px 6px;font-weight:600}
.legend span{display:inline-block;margin-right:14px} .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
code{background:#f3f3f3;padding:0 3px;border-radius:3px} .muted{color:#666}
svg text{font:12px system-ui,sans-serif}
"""


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3g}{unit}"
    return f"{x}{unit}"


def timeline_svg(report: dict) -> str:
    threads = report.get("threads", [])
    last = max((seg[1] for t in threads for seg in t.get("timeline", [])), default=0.0)
    wall = max(report.get("process", {}).get("wall_s") or 0.0, last, 1e-6)
    height = ROW * len(threads) + 30
    scale = (WIDTH - LABEL_W - 10) / wall
    out = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img" aria-label="thread timeline">']
    for i, t in enumerate(threads):
        y = i * ROW + 4
        name = t.get("name") or f"thread {t['tid']}"
        label = f"{name}{' (main)' if t.get('main') else ''}"
        out.append(f'<g class="thread" data-tid="{t["tid"]}">')
        out.append(f'<text x="0" y="{y + 13}">{_e(label[:32])}</text>')
        out.append(f'<rect x="{LABEL_W}" y="{y}" width="{WIDTH - LABEL_W - 10}" height="{ROW - 6}" fill="#f4f4f4"/>')
        for start, end, state in t.get("timeline", []):
            x = LABEL_W + start * scale
            w = max((end - start) * scale, 0.5)
            out.append(
                f'<rect class="seg {state}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 6}" fill="{COLOURS.get(state, "#999")}">'
                f"<title>{_e(label)}: {_e(LABELS.get(state, state))} {start:.3f}s–{end:.3f}s</title></rect>"
            )
        out.append("</g>")
    axis_y = ROW * len(threads) + 18
    for k in range(6):
        x = LABEL_W + k * (WIDTH - LABEL_W - 10) / 5
        out.append(f'<text x="{x:.0f}" y="{axis_y}" class="muted">{wall * k / 5:.2f}s</text>')
    out.append("</svg>")
    return "".join(out)


def render_html(report: dict) -> str:
    proc = report.get("process", {})
    host = report.get("host", {})
    backend = report.get("backend", {})
    target = proc.get("target", {})
    probe = proc.get("gil_probe", {})
    rows = []
    for f in report.get("findings", []):
        m = f.get("measured", {})
        v = f.get("verdict", "")
        rows.append(
            "<tr>"
            f"<td><code>{_e(f['code'])}</code></td>"
            f"<td>{_e(f['path'])}:{f['line']}</td>"
            f"<td><code>{_e(f['worker'])}</code></td>"
            f'<td><span class="verdict" style="background:{VERDICT_COLOURS.get(v, "#555")}">{_e(v)}</span></td>'
            f"<td class=num>{_fmt(m.get('threads'))}</td>"
            f"<td class=num>{_fmt(m.get('wall_s'), ' s')}</td>"
            f"<td class=num>{_fmt(m.get('cpu_s'), ' s')}</td>"
            f"<td class=num>{_fmt((m.get('shares') or {}).get('waiting_for_gil'))}</td>"
            f"<td class=num>{_fmt(m.get('parallelism'))} / {_fmt(m.get('parallelism_possible'))}</td>"
            f"<td class=num>{_fmt((m.get('projected_speedup') or {}).get('worker'), '×')}</td>"
            f"<td>{_e(m.get('reason'))}</td>"
            "</tr>"
        )
    thread_rows = []
    for t in report.get("threads", []):
        sh = t.get("shares", {})
        thread_rows.append(
            f"<tr><td>{_e(t.get('name'))}</td><td class=num>{t['tid']}</td><td class=num>{_fmt(t.get('lifetime_s'), ' s')}</td>"
            f"<td class=num>{_fmt(t.get('cpu_s'), ' s')}</td><td class=num>{_fmt(t.get('waiting_for_cpu_s'), ' s')}</td>"
            f"<td>{_e(', '.join(f'{k} {v:.0%}' for k, v in sh.items() if isinstance(v, (int, float)) and v))}</td></tr>"
        )
    legend = "".join(f'<span><i style="background:{c}"></i>{_e(LABELS[k])}</span>' for k, c in COLOURS.items())
    host_rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(json.dumps(v) if isinstance(v, (dict, list)) else v)}</td></tr>" for k, v in host.items())
    complete = report.get("complete", True)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>gil-advisor trace: {_e(target.get('name'))}</title><style>{CSS}</style></head>
<body>
<h1>gil-advisor trace: <code>{_e(target.get('name'))}</code></h1>
<p class="muted">backend <b>{_e(backend.get('name'))}</b> ({_e(backend.get('reason'))}); exit code {_e(proc.get('exit_code'))};
wall {_fmt(proc.get('wall_s'), ' s')}, CPU {_fmt(proc.get('cpu_s'), ' s')}, parallelism {_fmt(proc.get('parallelism'))} of {_e(proc.get('usable_cores'))} usable cores;
GIL probe median {_fmt(probe.get('median_ms'), ' ms')} (p99 {_fmt(probe.get('p99_ms'), ' ms')}){'' if complete else '; <b>report incomplete</b>'}</p>
<h2>Threads over time</h2>
<div class="legend">{legend}</div>
{timeline_svg(report)}
<h2>Findings</h2>
<table id="findings"><tr><th>code</th><th>where</th><th>worker</th><th>verdict</th><th>threads</th><th>wall in worker</th><th>CPU in worker</th><th>GIL wait share</th><th>parallelism achieved / possible</th><th>projected speedup with processes</th><th>why</th></tr>
{''.join(rows) or '<tr><td colspan=11 class=muted>no static findings</td></tr>'}</table>
<h2>Threads</h2>
<table id="threads"><tr><th>name</th><th>tid</th><th>lifetime</th><th>CPU</th><th>waiting for a CPU</th><th>share of life</th></tr>{''.join(thread_rows)}</table>
<h2>Host</h2><table id="host">{host_rows}</table>
<script>
// Count what was drawn, for people reading the page source and for the browser test.
document.body.dataset.threadsDrawn = document.querySelectorAll("#timeline g.thread").length;
</script>
</body></html>
"""
