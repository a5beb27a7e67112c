"""tests/valgrind runs inside the lab guest only (tests/lab/test_lab.py adds it
to the "loop" run): valgrind checks the C core against a real device."""

from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("PRLAB_IN_GUEST") == "1" else ["test_valgrind.py"]
