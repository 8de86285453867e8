"""Fixtures for the simulated-host tests: import path and mounted sysroots."""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Iterator, List

import pytest

SIMHOST_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "simhost"))
if SIMHOST_DIR not in sys.path:
    sys.path.insert(0, SIMHOST_DIR)

from simhost import server  # noqa: E402  pylint: disable=wrong-import-position
from simhost.control import Control  # noqa: E402  pylint: disable=wrong-import-position
from simhost.sysroot import create  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def make_host(tmp_path) -> Iterator[Callable[..., Control]]:
    """Create and mount sysroots under tmp_path; every one is unmounted afterwards."""
    roots: List[str] = []

    def factory(variant: str, mount: bool = True, **options: Any) -> Control:
        root = str(tmp_path / ("host%d-%s" % (len(roots), variant)))
        create(root, variant, **options)
        roots.append(root)
        if mount:
            problem = server.fuse_problem()
            if problem:
                pytest.skip("FUSE unavailable: " + problem)
            server.mount(root)
        return Control(root)

    yield factory
    for root in roots:
        server.umount(root)
