# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pressure tuner on a tree of regular files: each way a run can end without writing (nothing to
tune, unusable tiers, no availability), the journal lines, and the launcher's options. Transitions on
simulated kernels are in tests/component/plugins/module_utils/test_tuner.py.

The kernel's side of a write is fake_sysfs.FakeHost (os.write inside transaction.py).
"""

from __future__ import annotations

import os
import typing as t

import sysroot_tree
from fake_sysfs import FakeHost

from ansible_collections.litevirt.uksm.plugins.module_utils import persist, tiers
from ansible_collections.litevirt.uksm.plugins.module_utils.tuner import PREFIX, main, tune

BASE = {'run': '1', 'pages_to_scan': '100', 'sleep_millisecs': '20'}
TIERS = {
    'ksm pressure': {'hysteresis': '5'},
    'ksm tier 0': {'available_below_percent': '30', 'pages_to_scan': '1000'},
    'ksm tier 1': {'available_below_percent': '10', 'pages_to_scan': '4000', 'sleep_millisecs': '10'},
}


def ksm_host(tmp_path: t.Any, monkeypatch: t.Any, available: t.Optional[float] = 80.0, **sections: t.Any) -> FakeHost:
    host = FakeHost(tmp_path, 'ksm', values={'run': '1\n', 'pages_to_scan': '100\n', 'sleep_millisecs': '20\n'})
    host.install(monkeypatch)
    sysroot_tree.meminfo(host.root, available_percent=available)
    policies = dict({'ksm': BASE}, **TIERS)
    policies.update(sections)
    persist.save(host.root, persist.render({name: values for name, values in policies.items() if values}))
    return host


def evaluate(root: str) -> t.Tuple[int, t.List[str]]:
    lines: t.List[str] = []
    return tune(root, lines.append, lock_timeout=1), lines


def test_a_tier_change_is_one_line_naming_old_and_new_tier_availability_and_writes(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=25)
    sysroot_tree.memory_pressure(host.root, 1.5, 0.25)
    assert evaluate(host.root) == (
        0,
        [
            'ksm base -> tier 0: 25.0 % available, below 30 %; memory stall full_avg10 0.25 %, some_avg10 1.50 %; '
            'wrote pages_to_scan 100 -> 1000'
        ],
    )
    assert host.writes == [('pages_to_scan', '1000\n')]
    assert tiers.read_state(host.root, 'ksm') == 0


def test_plentiful_memory_at_the_base_reads_and_writes_nothing(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch)
    assert evaluate(host.root) == (0, [])
    assert host.attempts == []


def test_no_base_for_this_backend_is_nothing_to_tune(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=5, ksm={})
    status, lines = evaluate(host.root)
    assert status == 0 and len(lines) == 1 and lines[0].startswith('no ksm policy in ')
    assert host.attempts == []


def test_no_interface_is_nothing_to_tune(tmp_path):
    sysroot_tree.meminfo(str(tmp_path), available_percent=5)
    assert evaluate(str(tmp_path)) == (
        0,
        [
            'nothing to tune: /sys/kernel/mm/uksm does not exist; /sys/kernel/mm/ksm does not exist; the kernel is built without KSM/UKSM or /sys is masked'
        ],
    )


def test_tier_setting_what_the_base_lacks_fails_naming_the_rule_expected_failure(tmp_path, monkeypatch):
    host = ksm_host(
        tmp_path,
        monkeypatch,
        available=5,
        **{'ksm tier 0': {'available_below_percent': '30', 'advisor_mode': 'scan-time'}, 'ksm tier 1': {}},
    )
    status, lines = evaluate(host.root)
    assert status == 1 and 'cannot be used: tier 0: sets advisor_mode, which the base settings do not set' in lines[0]
    assert host.attempts == []


def test_without_memavailable_the_tier_is_kept_and_the_run_fails_expected_failure(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=None)
    assert evaluate(host.root) == (
        1,
        ['FAILED: cannot measure available memory (no MemTotal and MemAvailable in /proc/meminfo); base kept'],
    )
    assert host.attempts == []


def test_a_policy_file_another_user_could_write_is_refused_expected_failure(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=5)
    os.chmod(persist.path_of(host.root), 0o666)
    status, lines = evaluate(host.root)
    assert status == 1 and lines[0].startswith('FAILED: refusing /etc/litevirt-uksm/policy.conf')
    assert host.attempts == []


def test_a_recorded_tier_the_policy_no_longer_has_steps_to_what_memory_calls_for(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch)
    tiers.write_state(host.root, 'ksm', 5)
    status, lines = evaluate(host.root)
    assert status == 0 and lines == ['ksm tier 5 -> base: 80.0 % available; nothing to write']
    assert tiers.read_state(host.root, 'ksm') is None


def test_launcher_prefixes_lines_and_returns_the_status(tmp_path, monkeypatch, capsys):
    host = ksm_host(tmp_path, monkeypatch, available=25)
    assert main(['--sysroot', host.root, '--lock-timeout', '1']) == 0
    assert (
        capsys.readouterr().out
        == PREFIX + 'ksm base -> tier 0: 25.0 % available, below 30 %; wrote pages_to_scan 100 -> 1000\n'
    )


def test_launcher_with_a_bad_option_exits_2_expected_failure(capsys):
    assert main(['--interval', '5']) == 2
    assert 'unrecognised argument: --interval' in capsys.readouterr().err
