# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files of another user, for the tests of what the code refuses to trust."""

from __future__ import annotations

import os

import pytest

# a user that is neither root nor, when the tests run as root, the tests' own
NOBODY = 65534


def give_away(path: str, uid: int = NOBODY) -> None:
    """``path`` owned by ``uid``. Only root can give a file away: run as another user, the test is skipped
    (as that user, "another user's file" cannot be made, and a chown to oneself would prove nothing)."""
    if os.geteuid() != 0:
        pytest.skip('giving a file to another user needs root')
    os.chown(path, uid, uid)
