# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the test tooling (tests/tools) and the simulated host (tests/simhost) importable."""

from __future__ import annotations

import os
import signal
import sys
import typing as t

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _directory in ('tools', 'simhost'):
    _path = os.path.join(TESTS, _directory)
    if _path not in sys.path:
        sys.path.insert(0, _path)

from simhost import server  # noqa: E402  pylint: disable=wrong-import-position
from simhost.control import Control  # noqa: E402  pylint: disable=wrong-import-position
from simhost.sysroot import create  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def make_host(tmp_path) -> t.Iterator[t.Callable[..., Control]]:
    """Create (and mount) simulated hosts under tmp_path; every one is unmounted afterwards."""
    roots: t.List[str] = []

    def factory(variant: str, mount: bool = True, **options: t.Any) -> Control:
        root = str(tmp_path / ('host%d-%s' % (len(roots), variant)))
        create(root, variant, **options)
        roots.append(root)
        if mount:
            problem = server.fuse_problem()
            if problem:
                pytest.fail('FUSE unavailable: ' + problem)
            server.mount(root)
        return Control(root)

    yield factory
    for root in roots:
        server.umount(root)


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
