# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the _host tests: the hostile sysroot of safefiles' and safewrites' tests, root's umask."""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.litevirt.uksm.tests.helpers.hostile_sysroot import World


@pytest.fixture
def world(tmp_path: t.Any) -> World:
    """A fresh sysroot with its outside tree under the test's tmp_path."""
    return World(str(tmp_path))


@pytest.fixture
def umask() -> t.Iterator[None]:
    """The umask root has on a host (022), whatever the test runner's is."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)
