"""The runtime tracer: runs a program, watches its threads, and checks static findings.

Layout: `cli` (options, the run), `static_pass` (check on the program's import closure),
`findings_file` (validated --findings), `runner` (the program as __main__), `session` (start/stop,
fork safety), `backends/` (how worker entries are seen: sys.monitoring, sampling, profile hook),
`sampler` (per-thread /proc figures, stacks and the GIL probe), `verdict` (thresholds and
decisions), `report` (JSON and terminal output).
"""
