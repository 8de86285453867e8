# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Component tests: the collection's code against simulated hosts mounted with FUSE, as root.

Every test that mounts a host carries the ``fuse`` marker (added here from its fixtures), so
``pytest -m 'not fuse' tests/component`` runs what needs neither /dev/fuse nor a mount.
"""

from __future__ import annotations

import os
import sys
import typing as t

import pytest

# the simulator is a program of its own (python -m simhost), imported as its top-level package
SIMHOST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'simhost')
if SIMHOST not in sys.path:
    sys.path.insert(0, SIMHOST)

from simhost import server  # noqa: E402  pylint: disable=wrong-import-position
from simhost.control import Control  # noqa: E402  pylint: disable=wrong-import-position
from simhost.sysroot import create  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.litevirt.uksm.tests.helpers.patience import load_hypothesis_profile  # noqa: E402  pylint: disable=wrong-import-position

load_hypothesis_profile()

# fixtures that mount a simulated host
MOUNTING = ('make_host', 'hosts')


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line('markers', 'fuse: mounts a simulated host with FUSE (needs /dev/fuse and root)')


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, 'fixturenames', ()) for name in MOUNTING):
            item.add_marker(pytest.mark.fuse)


@pytest.fixture
def make_host(tmp_path) -> t.Iterator[t.Callable[..., Control]]:
    """Create (and mount) simulated hosts under tmp_path; every one is unmounted afterwards."""
    roots: list[str] = []

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
