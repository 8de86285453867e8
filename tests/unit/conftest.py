# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests: plain tmp_path trees, no FUSE, no root needed. The helpers are the package tests/helpers;
the docs generator of tests/tools and the simulator's kernel model (tests/simhost) are put on the path.

Run as another user than root, the /proc trees the tests write are that user's: the processes that count
as root's are that user's then (hostinfo.PROCESS_OWNER_UID). Giving a file to another user needs root:
run by anyone else, ``owners.give_away`` (tests/helpers) records the new owner, and the collection's one
ownership lookup (safefiles.owner_of) answers from that record, so every test runs as any user."""

from __future__ import annotations

import os
import signal
import sys
import typing as t

import pytest

from ansible_collections.litevirt.uksm.tests.helpers import owners
from ansible_collections.litevirt.uksm.tests.helpers.patience import load_hypothesis_profile

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# programs, not packages of the collection: the docs generator (test_generated_docs) and the simulator, whose
# kernel model the fake hosts of tests/helpers/fake_sysfs.py use
for _program in (os.path.join(TESTS, 'tools'), os.path.join(TESTS, 'simhost')):
    if _program not in sys.path:
        sys.path.insert(0, _program)

load_hypothesis_profile()


@pytest.fixture(autouse=True)
def files_given_away_belong_to_their_new_owner(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[None]:
    from ansible_collections.litevirt.uksm.plugins.module_utils._host import hostinfo, safefiles  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(safefiles, 'owner_of', owners.owner_of)
    monkeypatch.setattr(hostinfo, 'owner_of', owners.owner_of)
    yield
    owners.forget_given()


@pytest.fixture(autouse=True)
def processes_of_the_test_user_count_as_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.litevirt.uksm.plugins.module_utils._host import hostinfo  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(hostinfo, 'PROCESS_OWNER_UID', os.geteuid())


class Hang(Exception):
    """An operation blocked (on a FIFO, say) for longer than the alarm allowed."""


@pytest.fixture
def no_hang() -> t.Iterator[None]:
    """Fail, rather than stall the suite, when an operation of the test blocks for 5 s."""

    def expired(_signum: int, _frame: t.Any) -> None:
        raise Hang('blocked for more than 5 s')

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
