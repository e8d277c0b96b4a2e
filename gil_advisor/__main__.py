"""`python -m gil_advisor`: the same as the `gil-advisor` command."""
import sys

from gil_advisor import _leave_the_current_folder_off_sys_path

_leave_the_current_folder_off_sys_path()

from gil_advisor.cli import main  # noqa: E402

sys.exit(main())
