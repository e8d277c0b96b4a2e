"""python -m gil_advisor.runtime [options] script.py [args...] | -m module [args...]"""
import sys

from gil_advisor.runtime.cli import main

sys.exit(main())
