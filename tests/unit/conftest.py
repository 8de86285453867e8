# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the test tooling (tests/tools) and the simulated host (tests/simhost) importable."""

from __future__ import annotations

import os
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _directory in ('tools', 'simhost'):
    _path = os.path.join(TESTS, _directory)
    if _path not in sys.path:
        sys.path.insert(0, _path)
