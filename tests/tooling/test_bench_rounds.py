# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/bench/bench.py: each round runs what its case says it measures (no playbook is run here)."""

from __future__ import annotations

import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bench')
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench  # noqa: E402  pylint: disable=wrong-import-position


class Recorder(bench.Runner):
    """A runner that records each play and whether the applier's package was in place while it ran."""

    def __init__(self, aside: list, failing: str = '', move_applier=None) -> None:
        super().__init__('inventory.yml', {}, move_applier or bench.rename_packages(aside))
        self.aside = aside
        self.calls: list = []
        self.failing = failing

    def play(self, case: str, playbook: str, extra: dict = None, timed: bool = True) -> float:
        installed = [os.path.isdir(os.path.join(sysroot, bench.PACKAGE_DIR)) for sysroot in self.aside]
        self.calls.append((case, playbook, extra, installed))
        if case == self.failing:
            raise RuntimeError('%s failed' % playbook)
        return 0.0


def hosts_with_applier(tmp_path, count: int = 2) -> list:
    sysroots = [str(tmp_path / ('hv%d' % number)) for number in range(count)]
    for sysroot in sysroots:
        os.makedirs(os.path.join(sysroot, bench.PACKAGE_DIR, '__pycache__'))
    return sysroots


@pytest.mark.parametrize(
    'cases',
    [['ping', 'tunable', 'tunable_bare', 'shell'], ['ping', 'tunable'], ['tunable_bare', 'facts', 'shell']],
)
def test_every_writing_run_writes_the_other_set_than_the_run_before(cases) -> None:
    runner = Recorder([])
    runner.rounds(3, cases)
    sets = [extra['bench_set'] for _case, _playbook, extra, _installed in runner.calls if extra]
    # a new simulated host holds set 1: the first run writes set 0, and each run after the other set
    assert sets == [number % 2 for number in range(len(sets))]
    assert len(sets) == 3 * len([case for case in cases if case in bench.WRITING_CASES])


def test_bare_cases_run_the_same_playbook_with_the_applier_moved_aside(tmp_path) -> None:
    sysroots = hosts_with_applier(tmp_path)
    runner = Recorder(sysroots)
    runner.rounds(1, ['ping', 'facts', 'facts_bare', 'tunable', 'tunable_bare'])
    assert [(case, playbook, installed) for case, playbook, _extra, installed in runner.calls] == [
        ('ping', 'ping.yml', [True, True]),
        ('facts', 'facts.yml', [True, True]),
        ('facts_bare', 'facts.yml', [False, False]),
        ('tunable', 'tunable.yml', [True, True]),
        ('tunable_bare', 'tunable.yml', [False, False]),
    ]
    assert all(os.path.isdir(os.path.join(sysroot, bench.PACKAGE_DIR, '__pycache__')) for sysroot in sysroots)
    assert sorted(os.listdir(os.path.dirname(os.path.join(sysroots[0], bench.PACKAGE_DIR)))) == ['uksm_policy']


def test_a_bare_case_that_fails_still_puts_the_applier_back(tmp_path) -> None:
    sysroots = hosts_with_applier(tmp_path)
    runner = Recorder(sysroots, failing='facts_bare')
    with pytest.raises(RuntimeError, match='facts.yml failed'):
        runner.rounds(1, ['facts_bare'])
    assert all(os.path.isdir(os.path.join(sysroot, bench.PACKAGE_DIR, '__pycache__')) for sysroot in sysroots)


def test_on_the_guest_the_bare_cases_move_the_package_aside_over_ssh(monkeypatch) -> None:
    commands = []
    monkeypatch.setattr(bench.subprocess, 'run', lambda argv, **_options: commands.append(argv))
    guest = ['vm.sh', 'ssh', 'bench-guest', '2252']
    runner = Recorder([], move_applier=bench.guest_mover(guest))
    runner.rounds(1, ['facts', 'tunable_bare'])
    package = '/' + bench.PACKAGE_DIR
    assert commands == [
        guest + ['mv', '-T', package, package + bench.ASIDE],
        guest + ['mv', '-T', package + bench.ASIDE, package],
    ]
    assert [case for case, _playbook, _extra, _installed in runner.calls] == ['facts', 'tunable_bare']


def test_a_bare_case_without_a_way_to_move_the_applier_fails() -> None:
    runner = bench.Runner('inventory.yml', {})
    with pytest.raises(RuntimeError, match='facts_bare needs a way to move the applier aside'):
        runner.rounds(1, ['facts_bare'])


def test_simulated_reboot_resets_the_kernel_and_empties_the_collections_run_directory(tmp_path, monkeypatch):
    sysroot = str(tmp_path / 'hv0')
    run = os.path.join(sysroot, bench.LOCK_DIR)
    os.makedirs(run)
    for name in ('lock', 'written', 'tier'):
        with open(os.path.join(run, name), 'w', encoding='ascii') as handle:
            handle.write('x\n')
    calls = []
    monkeypatch.setattr(bench, 'simhost', lambda *args: calls.append(args))
    bench.reboot(sysroot)
    # /run is a tmpfs on a real host: after a reboot the applier finds no lock, no record, no tier
    assert calls == [('reboot', sysroot)] and not os.path.exists(run)
    assert os.path.isdir(os.path.join(sysroot, 'run'))
