# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the project's own tooling, not of the collection: the gates' scripts (tests/tools), the pins of
requirements.txt, the noxfile's plain output and scripts/setup-host.sh. Run by the nox session ``tooling``
(``make tooling``), with the tools' virtual environment; the scripts they test are importable."""

from __future__ import annotations

import os
import sys

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools')
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
