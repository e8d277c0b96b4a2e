import sys

from gil_advisor.cli import main

sys.exit(main())
