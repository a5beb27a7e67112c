"""``python -m pr_native``: the ``pr-native`` command line (pr_native.cli)."""

import sys

from .cli import main

sys.exit(main())
