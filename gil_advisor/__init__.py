"""gil-advisor: find threads that cannot run in parallel because of the GIL."""

__version__ = "0.1.0"


def _leave_the_current_folder_off_sys_path() -> None:
    """For `python -m gil_advisor[.runtime]`, before anything else is imported.

    `python -m` puts the current folder first on sys.path, and that folder is usually the project
    being checked or traced: its argparse.py or json.py must never be imported by the tool itself
    (that would run the code it analyses). The entry becomes the folder this package was imported
    from, already on the path, as the console script has its own folder there; trace later gives
    that slot to the program, as Python would."""
    import os
    import sys

    if sys.path and not getattr(sys.flags, "safe_path", False) and sys.path[0] in ("", os.getcwd()):
        sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
