"""Report formats: each module has render(report) -> str."""
FORMATS = ("text", "json", "sarif", "github")


def render(report, fmt: str, **options) -> str:
    if fmt == "text":
        from gil_advisor.output.text import render as r
    elif fmt == "json":
        from gil_advisor.output.json_format import render as r
    elif fmt == "sarif":
        from gil_advisor.output.sarif import render as r
    elif fmt == "github":
        from gil_advisor.output.github import render as r
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return r(report, **options)
