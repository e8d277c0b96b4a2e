"""python -m gil_advisor.runtime [options] script.py [args...] | -m module [args...]"""
import sys

from gil_advisor import _leave_the_current_folder_off_sys_path

_leave_the_current_folder_off_sys_path()

from gil_advisor.runtime.cli import main  # noqa: E402

sys.exit(main())
