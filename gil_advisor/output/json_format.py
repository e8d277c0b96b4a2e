"""`--format json`: the report as one JSON object (schema version 1)."""
import json


def render(report, **_options) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"
