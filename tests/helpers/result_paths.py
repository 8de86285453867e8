# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The paths of a module, each a function that produces the module's real result on that path.

A path runs the module's ``main()`` in-process (module_run) on a fake host in a fresh directory: a
plain file tree, with fake_sysfs standing for the kernel's side of a write (its faults give the errno
paths) and offline_systemctl for systemctl. It checks that the run took the path it is named after,
and returns the result as the module built it. ``result_of`` runs each path once for every test
that looks at its result. The result_paths_<module> files register the paths of each module.
"""

from __future__ import annotations

import os
import tempfile
import typing as t

import pytest

from ansible_collections.litevirt.uksm.tests.helpers.fake_sysfs import FakeHost
from ansible_collections.litevirt.uksm.tests.helpers.offline_systemctl import OfflineSystemctl

Result = dict[str, t.Any]


def name_of(module: t.Any) -> str:
    return module.__name__.rsplit('.', 1)[1]


class Scene(t.NamedTuple):
    """What a path runs in: a fresh directory and a monkeypatch undone after the run."""

    tmp: str
    monkeypatch: pytest.MonkeyPatch

    def root(self, name: str = 'hv01') -> str:
        path = os.path.join(self.tmp, name)
        os.makedirs(path, exist_ok=True)
        return path

    def fake_host(self, backend: str = 'ksm', **options: t.Any) -> FakeHost:
        """A host whose kernel is fake_sysfs (writes take effect, faults can be injected)."""
        return FakeHost(self.root(), backend, **options).install(self.monkeypatch)

    def systemctl(self, **options: t.Any) -> OfflineSystemctl:
        return OfflineSystemctl(**options).install(self.monkeypatch)


class Path(t.NamedTuple):
    module: t.Any
    name: str
    produce: t.Callable[[Scene], Result]

    @property
    def id(self) -> str:
        return '%s: %s' % (name_of(self.module), self.name)


PATHS: list[Path] = []
_RESULTS: dict[str, Result] = {}


def path(module: t.Any, name: str) -> t.Callable[[t.Callable[[Scene], Result]], t.Callable[[Scene], Result]]:
    """Register a function that produces the result of ``module`` on one path (and checks it is that path)."""

    def register(produce: t.Callable[[Scene], Result]) -> t.Callable[[Scene], Result]:
        PATHS.append(Path(module, name, produce))
        return produce

    return register


def result_of(case: Path) -> Result:
    """The path's result, produced once for every test that looks at it."""
    if case.id not in _RESULTS:
        with tempfile.TemporaryDirectory(prefix='return-keys-') as tmp, pytest.MonkeyPatch.context() as monkeypatch:
            _RESULTS[case.id] = case.produce(Scene(tmp, monkeypatch))
    return _RESULTS[case.id]
