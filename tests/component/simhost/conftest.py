"""Fixtures for the simulated-host tests: import path and mounted sysroots."""

from __future__ import annotations

import os
import sys

SIMHOST_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "simhost"))
if SIMHOST_DIR not in sys.path:
    sys.path.insert(0, SIMHOST_DIR)

# the make_host fixture lives in tests/component/conftest.py, shared with the plugin tests
