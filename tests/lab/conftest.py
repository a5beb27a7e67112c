"""tests/lab/suite runs inside the lab guest only (test_lab.py starts it there)."""

from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("PRLAB_IN_GUEST") == "1" else ["suite"]
