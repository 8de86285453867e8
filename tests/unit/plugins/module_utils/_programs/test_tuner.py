# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pressure tuner on a tree of regular files: each way a run can end without writing (nothing to
tune, unusable tiers, no availability), the journal lines, and the launcher's options. Transitions on
simulated kernels are in tests/component/plugins/module_utils/test_tuner_on_simhost.py.

The kernel's side of a write is fake_sysfs.FakeHost (os.write inside transaction.py).
"""

from __future__ import annotations

import errno
import os
import tempfile
import typing as t

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._host.written_values import WrittenValues
from ansible_collections.litevirt.uksm.plugins.module_utils._plan import tiers
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.applier import apply_policy
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.tuner import PREFIX, main, tune
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.fake_sysfs import FakeHost

BASE = {'run': '1', 'pages_to_scan': '100', 'sleep_millisecs': '20'}
TIERS = {
    'ksm pressure': {'hysteresis': '5'},
    'ksm tier 0': {'available_below_percent': '30', 'pages_to_scan': '1000'},
    'ksm tier 1': {'available_below_percent': '10', 'pages_to_scan': '4000', 'sleep_millisecs': '10'},
}


def ksm_host(tmp_path: t.Any, monkeypatch: t.Any, available: float | None = 80.0, **sections: t.Any) -> FakeHost:
    host = FakeHost(tmp_path, 'ksm', values={'run': '1\n', 'pages_to_scan': '100\n', 'sleep_millisecs': '20\n'})
    host.install(monkeypatch)
    sysroot_tree.meminfo(host.root, available_percent=available)
    policies = dict({'ksm': BASE}, **TIERS)
    policies.update(sections)
    persist.save(host.root, persist.render({name: values for name, values in policies.items() if values}))
    return host


def evaluate(root: str) -> tuple[int, list[str]]:
    lines: list[str] = []
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


def test_stepping_down_waits_for_the_hysteresis_and_restores_the_base(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=8)
    assert evaluate(host.root)[1][0].startswith('ksm base -> tier 1: 8.0 % available, below 10 %')
    sysroot_tree.meminfo(host.root, available_percent=12)  # above 10 %, not past 10 + 5
    assert evaluate(host.root) == (0, [])
    sysroot_tree.meminfo(host.root, available_percent=20)
    assert evaluate(host.root) == (
        0,
        [
            'ksm tier 1 -> tier 0: 20.0 % available, at or above 15 % (10 % + hysteresis 5); '
            'wrote pages_to_scan 4000 -> 1000, sleep_millisecs 10 -> 20'
        ],
    )
    sysroot_tree.meminfo(host.root, available_percent=60)
    status, lines = evaluate(host.root)
    assert lines == [
        'ksm tier 0 -> base: 60.0 % available, at or above 35 % (30 % + hysteresis 5); wrote pages_to_scan 1000 -> 100'
    ]
    assert host.read('pages_to_scan') == '100\n' and tiers.read_state(host.root, 'ksm') is None


def test_a_failed_write_is_rolled_back_logged_and_retried_expected_failure(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=8)
    host.fail('sleep_millisecs', errno.EIO, times=1)
    status, lines = evaluate(host.root)
    assert status == 1 and lines[0].startswith(
        'FAILED: ksm base -> tier 1: 8.0 % available, below 10 %: writing sleep_millisecs=\'10\' failed: EIO'
    )
    assert 'restored: pages_to_scan=100' in lines[0] and lines[0].endswith('; the next run tries again')
    assert host.read('pages_to_scan') == '100\n' and tiers.read_state(host.root, 'ksm') is None
    assert evaluate(host.root)[1][0].startswith('ksm base -> tier 1')
    assert tiers.read_state(host.root, 'ksm') == 1


def test_drift_under_the_tier_in_force_is_written_again(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=25)
    evaluate(host.root)
    host.set('pages_to_scan', '77\n')
    assert evaluate(host.root) == (
        0,
        ['ksm tier 0 held: 25.0 % available; wrote pages_to_scan 77 -> 1000'],
    )


def test_a_value_that_does_not_parse_goes_to_the_write_path_which_reports_it_expected_failure(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch)
    host.set('pages_to_scan', 'lots\n')
    status, lines = evaluate(host.root)
    assert status == 1 and 'cannot read the current values' in lines[0] and host.attempts == []


def test_unusable_tiers_in_the_file_fail_naming_the_section_expected_failure(tmp_path, monkeypatch):
    host = ksm_host(
        tmp_path,
        monkeypatch,
        available=5,
        **{'ksm tier 0': {}, 'ksm tier 1': {'available_below_percent': '10', 'run': '1'}},
    )
    status, lines = evaluate(host.root)
    assert status == 1 and lines[0].startswith('FAILED: the ksm tiers in ') and '[ksm tier 0] is missing' in lines[0]
    assert host.attempts == []


def test_a_held_lock_fails_the_run_and_writes_nothing_expected_failure(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=5)
    with HostLock(host.root, 1):
        lines: list[str] = []
        status = tune(host.root, lines.append, lock_timeout=0.1)
    assert status == 1 and lines[0].startswith('FAILED: /run/litevirt-uksm/lock is held by another writer')
    assert host.attempts == []


def test_the_boot_applier_applies_the_tier_in_force(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch, available=25)
    evaluate(host.root)
    host.set('pages_to_scan', '100\n')
    lines: list[str] = []
    assert apply_policy(host.root, lines.append) == 0
    assert lines == [
        'ksm pages_to_scan: 100 -> 1000',
        'ksm policy applied (pressure tier 0 in force): 3 requested, 1 changed: sleep_millisecs and run already set',
    ]


@pytest.mark.parametrize(
    'state, sections',
    [
        ('ksm 0\n', {'ksm tier 0': {}, 'ksm tier 1': {}, 'ksm pressure': {}}),  # the tiers are gone
        ('ksm 1\n', {'ksm tier 1': {}}),  # a recorded tier beyond the last one
        ('ksm 0\n', {'ksm pressure': {'hysteresis': '99'}}),  # tiers the tuner would refuse
        ('', {}),  # nothing recorded
    ],
    ids=['no-tiers', 'beyond', 'unusable', 'no-state'],
)
def test_the_boot_applier_falls_back_to_the_base(tmp_path, monkeypatch, state, sections):
    host = ksm_host(tmp_path, monkeypatch, **sections)
    if state:
        sysroot_tree.put(host.root, 'run/litevirt-uksm/tier', state)
        os.chmod(os.path.join(host.root, 'run', 'litevirt-uksm'), 0o700)
    lines: list[str] = []
    assert apply_policy(host.root, lines.append) == 0
    assert lines == ['ksm policy applied: 3 requested, 0 changed: all already set']


def uksm_raised_host(tmp_path: t.Any, monkeypatch: t.Any, sleep: str) -> FakeHost:
    """A UKSM host at the base of a policy with a 12 ms sleep, which the collection wrote; uksmd shows ``sleep``."""
    host = FakeHost(tmp_path, 'uksm', values={'sleep_millisecs': sleep, 'ema_per_page_time': '8000\n'})
    host.install(monkeypatch)
    sysroot_tree.meminfo(host.root, available_percent=80.0)
    policies = {
        'uksm': {'cpu_governor': 'full', 'sleep_millisecs': '12'},
        'uksm pressure': {'hysteresis': '5'},
        'uksm tier 0': {'available_below_percent': '30', 'cpu_governor': 'medium'},
    }
    persist.save(host.root, persist.render(policies))
    WrittenValues(host.root, 'uksm').record('sleep_millisecs', 12)
    return host


def test_a_sleep_uksmd_raised_at_an_unchanged_tier_is_neither_written_nor_logged(tmp_path, monkeypatch):
    host = uksm_raised_host(tmp_path, monkeypatch, '52\n')
    assert evaluate(host.root) == (0, []) and host.attempts == []


def test_a_sleep_above_what_uksmd_can_raise_is_written_again(tmp_path, monkeypatch):
    host = uksm_raised_host(tmp_path, monkeypatch, '200\n')
    assert evaluate(host.root) == (0, ['uksm base held: 80.0 % available; wrote sleep_millisecs 200 -> 12'])


# --- the idle comparison against the planner ------------------------------------------------------

# values a policy may name and a kernel may read, per attribute: equal, unequal, unparsable, raised
IDLE_VALUES = {
    'ksm': {
        'run': ['0', '1', '2', 'on'],
        'pages_to_scan': ['100', '0100', '200', '-1', 'many'],
        'sleep_millisecs': ['20', '21', '200', '0'],
        'merge_across_nodes': ['0', '1'],
        'use_zero_pages': ['0', '1', 'yes'],
        'pages_shared': ['0', '5'],
    },
    'uksm': {
        'run': ['0', '1'],
        'sleep_millisecs': ['12', '16', '52', '100', '200'],
        'cpu_governor': ['full', 'medium', 'low', 'quiet', 'turbo'],
        'max_cpu_percentage': ['50', '95', '101'],
        'abundant_threshold': ['10', '20'],
        'thrash_threshold': ['50', '30'],
    },
}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_idle_comparison_never_holds_where_the_planner_sees_drift(data: t.Any) -> None:
    from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import detect, read_attributes
    from ansible_collections.litevirt.uksm.plugins.module_utils._plan.plan import HostState, drift
    from ansible_collections.litevirt.uksm.plugins.module_utils._programs import tuner

    backend = data.draw(st.sampled_from(sorted(IDLE_VALUES)))
    values = IDLE_VALUES[backend]
    names = data.draw(st.lists(st.sampled_from(sorted(values)), min_size=1, unique=True))
    settings_ = {name: data.draw(st.sampled_from(values[name])) for name in names}
    live = {name: data.draw(st.sampled_from(values[name])) + '\n' for name in names}
    with tempfile.TemporaryDirectory() as root, pytest.MonkeyPatch.context() as monkeypatch:
        FakeHost(root, backend).install(monkeypatch)
        for name, text in live.items():
            if name == 'cpu_governor':
                text = (
                    ' '.join('[%s]' % g if g == text.strip() else g for g in ('full', 'medium', 'low', 'quiet')) + '\n'
                )
            sysroot_tree.put(root, 'sys/kernel/mm/%s/%s' % (backend, name), text)
        detection = detect(root)
        held = tuner._equal(detection, settings_)
        event('the idle comparison holds' if held else 'the planner decides')
        if not held:
            return
        model = detection.backend
        needed = set(settings_) | set(model.attrs)
        tunables, choices, stats, errors = read_attributes(
            detection, [n for n in detection.kernel_attrs if n in needed]
        )
        drifted, problems, _raised = drift(
            model,
            detection.kernel_attrs,
            HostState(tunables, choices, stats, written=WrittenValues(root, backend)),
            settings_,
        )
        assert (drifted, problems) == ([], []), (settings_, live)
