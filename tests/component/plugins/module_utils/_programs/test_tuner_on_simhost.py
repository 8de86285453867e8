# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pressure tuner on simulated kernels: every transition, hysteresis, failures, the lock, and
what facts and the boot applier make of the tier in force."""

from __future__ import annotations

import os
import threading
import time

import pytest
import yaml

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tiers import read_state
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import run, tier_policy_of
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.applier import apply_policy
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.tuner import tune

# MemTotal of the simulated hosts, in kB
TOTAL_KB = 16303540
UKSM_BASE = {'cpu_governor': 'quiet', 'run': 1}
UKSM_TIERS = [
    {'available_below_percent': 30, 'settings': {'cpu_governor': 'medium'}},
    {'available_below_percent': 10, 'settings': {'cpu_governor': 'full', 'max_cpu_percentage': 95}},
]
KSM_BASE = {'run': 1, 'pages_to_scan': 100, 'sleep_millisecs': 20}
KSM_TIERS = [
    {'available_below_percent': 30, 'settings': {'pages_to_scan': 1000}},
    {'available_below_percent': 10, 'settings': {'pages_to_scan': 4000, 'sleep_millisecs': 10}},
]


def _available(host, percent):
    host.set_state(mem_available_kb=int(TOTAL_KB * percent / 100))


def _host(make_host, variant, base, tiers, available=80):
    host = make_host(variant)
    _available(host, available)
    run(host.paths.root, 'auto', base, persist_policy=True, pressure_tiers=tier_policy_of(tiers, 5))
    host.clear_log()
    return host


def _tune(host):
    lines = []
    status = tune(host.paths.root, lines.append, lock_timeout=2)
    return status, lines


def test_uksm_steps_up_at_once_and_down_only_past_the_hysteresis(make_host):
    host = _host(make_host, 'uksm', UKSM_BASE, UKSM_TIERS)
    root = host.paths.root
    assert gather(root)['tunables']['cpu_governor'] == 'quiet'
    _available(host, 25)
    status, lines = _tune(host)
    assert status == 0
    assert len(lines) == 1 and lines[0].startswith('uksm base -> tier 0: 25.0 % available, below 30 %; wrote ')
    assert 'cpu_governor quiet -> medium' in lines[0]
    assert read_state(root, 'uksm') == 0
    _available(host, 5)
    status, lines = _tune(host)
    assert lines[0].startswith('uksm tier 0 -> tier 1: 5.0 % available, below 10 %')
    assert gather(root)['tunables']['max_cpu_percentage'] == 95
    # back above 10 % but not past 10 + 5: tier 1 holds and nothing is written
    _available(host, 14)
    host.clear_log()
    assert _tune(host) == (0, [])
    assert host.writes() == [] and read_state(root, 'uksm') == 1
    # past 30 + 5 at once: both steps down in one run, back to exactly the base
    _available(host, 40)
    status, lines = _tune(host)
    assert lines[0].startswith('uksm tier 1 -> base: 40.0 % available, at or above 35 % (30 % + hysteresis 5)')
    fact = gather(root)
    assert fact['tunables']['cpu_governor'] == 'quiet' and fact['policy']['tier'] is None
    assert fact['policy']['drift'] == [] and read_state(root, 'uksm') is None


def test_ksm_tiers_restore_the_base_values_on_the_way_down(make_host):
    host = _host(make_host, 'ksm', KSM_BASE, KSM_TIERS)
    root = host.paths.root
    _available(host, 8)
    status, lines = _tune(host)
    assert status == 0 and lines[0].startswith('ksm base -> tier 1: 8.0 % available, below 10 %')
    live = gather(root)['tunables']
    assert (live['pages_to_scan'], live['sleep_millisecs']) == (4000, 10)
    _available(host, 20)
    status, lines = _tune(host)
    assert lines[0].startswith('ksm tier 1 -> tier 0: 20.0 % available, at or above 15 %')
    live = gather(root)['tunables']
    assert (live['pages_to_scan'], live['sleep_millisecs']) == (1000, 20)
    _available(host, 90)
    _tune(host)
    live = gather(root)['tunables']
    assert (live['pages_to_scan'], live['sleep_millisecs'], live['run']) == (100, 20, 1)


def test_idle_evaluation_writes_nothing_and_logs_nothing(make_host):
    host = _host(make_host, 'uksm', UKSM_BASE, UKSM_TIERS)
    for _round in range(3):
        assert _tune(host) == (0, [])
    assert host.writes() == []


def test_drift_under_a_held_tier_is_repaired_and_logged(make_host):
    host = _host(make_host, 'uksm', UKSM_BASE, UKSM_TIERS, available=25)
    root = host.paths.root
    assert read_state(root, 'uksm') == 0  # the module applied and recorded the tier available memory asks for
    fact = gather(root)
    assert fact['policy']['tier'] == 0 and fact['policy']['drift'] == []
    assert fact['policy']['tier_settings'] == {'cpu_governor': 'medium'}
    host.write('cpu_governor', 'full\n')
    assert gather(root)['policy']['drift'] == ['cpu_governor']
    status, lines = _tune(host)
    assert status == 0 and lines[0].startswith('uksm tier 0 held: 25.0 % available; wrote cpu_governor full -> medium')


def test_kernel_error_during_a_tier_change_is_rolled_back_and_retried_next_run(make_host):
    host = _host(make_host, 'ksm', KSM_BASE, KSM_TIERS)
    root = host.paths.root
    _available(host, 5)
    host.inject('sleep_millisecs', errno='EIO')
    status, lines = _tune(host)
    assert status == 1 and lines[0].startswith(
        'FAILED: ksm base -> tier 1: 5.0 % available, below 10 %: writing sleep_millisecs'
    )
    assert 'EIO' in lines[0] and 'restored: pages_to_scan=100' in lines[0] and 'the next run tries again' in lines[0]
    assert gather(root)['tunables']['pages_to_scan'] == 100 and read_state(root, 'ksm') is None
    host.clear_faults()
    status, lines = _tune(host)
    assert status == 0 and lines[0].startswith('ksm base -> tier 1')
    assert read_state(root, 'ksm') == 1


def test_held_lock_fails_the_run_naming_the_holder_and_writes_nothing(make_host):
    host = _host(make_host, 'uksm', UKSM_BASE, UKSM_TIERS)
    _available(host, 5)
    with HostLock(host.paths.root, 1):
        lines = []
        status = tune(host.paths.root, lines.append, lock_timeout=0.2)
    assert status == 1 and 'is held by another writer' in lines[0]
    assert host.writes() == []


def test_tuner_waits_for_a_writer_and_then_applies(make_host):
    host = _host(make_host, 'uksm', UKSM_BASE, UKSM_TIERS)
    _available(host, 5)
    lock = HostLock(host.paths.root, 1)
    lock.__enter__()
    timer = threading.Timer(0.3, lock.__exit__, (None, None, None))
    timer.start()
    try:
        status, lines = _tune(host)
    finally:
        timer.join()
    assert status == 0 and lines[0].startswith('uksm base -> tier 1')


def test_facts_read_while_the_tuner_steps_up_and_down_never_see_drift(make_host):
    """The tuner writes a tier's values first and records the tier after them; facts read between the
    two would compare one tier's values with another's. Read under the lock, every read is whole."""
    host = _host(make_host, 'ksm', KSM_BASE, KSM_TIERS)
    root = host.paths.root
    reads = []
    stepping = threading.Event()
    stepping.set()

    def read_all_along():
        while stepping.is_set():
            policy = gather(root)['policy']
            reads.append((policy['tier'], policy['drift']))
            # readers come and go (facts, the metrics every minute); one that never let go would
            # keep the writer out: it polls for a free lock
            time.sleep(0.02)

    reader = threading.Thread(target=read_all_along)
    reader.start()
    try:
        for _step in range(8):
            for percent in (5, 80):  # to tier 1, then back to the base
                _available(host, percent)
                status, lines = _tune(host)
                assert status == 0, lines
                # at least one whole read at this level, and more reads across the next step
                seen = len(reads)
                deadline = time.monotonic() + 10
                while len(reads) < seen + 2 and time.monotonic() < deadline:
                    time.sleep(0.01)
    finally:
        stepping.clear()
        reader.join(30)
    assert {tier for tier, _drift in reads} == {None, 1}, 'the reads did not see both levels'
    assert [read for read in reads if read[1]] == []


def test_tier_naming_an_attribute_this_kernel_lacks_is_refused_before_any_write(make_host):
    """A 4.19 KSM kernel has no smart_scan: a tier that sets it can never be written there."""
    host = make_host('ksm-old')
    with pytest.raises(Exception) as caught:
        run(
            host.paths.root,
            'auto',
            dict(KSM_BASE, smart_scan=0),
            persist_policy=True,
            pressure_tiers=tier_policy_of([{'available_below_percent': 30, 'settings': {'smart_scan': 1}}], 5),
        )
    assert 'smart_scan' in str(caught.value) and 'does not exist on this kernel' in str(caught.value)
    assert host.writes() == []


def test_tiers_in_the_file_for_an_attribute_the_kernel_lacks_fail_the_run_with_nothing_written(make_host):
    host = make_host('ksm-old')
    persist.save(
        host.paths.root,
        persist.render(
            {
                'ksm': {'run': '1', 'smart_scan': '0'},
                'ksm tier 0': {'available_below_percent': '30', 'smart_scan': '1'},
            }
        ),
    )
    _available(host, 5)
    status, lines = _tune(host)
    assert status == 1 and 'smart_scan' in lines[0] and 'does not exist on this kernel' in lines[0]
    assert host.writes() == [] and read_state(host.paths.root, 'ksm') is None


def test_boot_applier_repairs_the_tier_in_force_not_the_base(make_host):
    host = _host(make_host, 'uksm', UKSM_BASE, UKSM_TIERS, available=25)
    root = host.paths.root
    host.write('cpu_governor', 'full\n')
    lines = []
    assert apply_policy(root, lines.append) == 0
    assert 'uksm cpu_governor: full -> medium' in lines
    assert lines[-1].startswith('uksm policy applied (pressure tier 0 in force)')


def test_removing_the_tiers_returns_to_the_base(make_host):
    host = _host(make_host, 'uksm', UKSM_BASE, UKSM_TIERS, available=25)
    root = host.paths.root
    result = run(root, 'auto', UKSM_BASE, persist_policy=True, pressure_tiers=tier_policy_of([], 5))
    assert result['pressure']['tier'] is None
    assert gather(root)['tunables']['cpu_governor'] == 'quiet' and read_state(root, 'uksm') is None
    assert 'tier' not in persist.load(root)[1]


def _readme_example() -> tuple[dict, list, str]:
    """The README's pressure-tier example: the role's base and tiers for UKSM, and its journal line."""
    readme = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '..', 'README.md')
    with open(readme, encoding='utf-8') as handle:
        text = handle.read().split('### Pressure tiers', 1)[1].split('\n### ', 1)[0]
    journal = text.split('$ journalctl -u uksm-pressure\n', 1)[1].split('\n```', 1)[0]
    play = yaml.safe_load(text.split('```yaml\n', 1)[1].split('\n```', 1)[0])
    role_vars = play[0]['roles'][0]['vars']
    tiers = [
        {'available_below_percent': tier['available_below_percent'], 'settings': tier['uksm_settings']}
        for tier in role_vars['uksm_policy_pressure_tiers']
    ]
    return role_vars['uksm_policy_uksm_settings'], tiers, journal


def _journal_of(make_host, base: dict, tiers: list, journal: str) -> list[str]:
    """What the tuner prints at each availability the journal lines show (the launcher prefixes each
    line with the unit's name, as the journal shows it)."""
    host = _host(make_host, 'uksm', base, tiers)
    printed = []
    for line in journal.splitlines():
        _available(host, float(line.split(': ')[2].split(' %')[0]))
        status, lines = _tune(host)
        assert status == 0
        printed += ['uksm-pressure: ' + line for line in lines]
    return printed


def test_readme_journal_line_is_what_the_tuner_prints_for_the_readmes_policy(make_host):
    base, tiers, journal = _readme_example()
    assert (base, tiers) == (UKSM_BASE, UKSM_TIERS)  # the example this module's tests run
    assert _journal_of(make_host, base, tiers, journal) == journal.splitlines()


def test_role_readme_journal_lines_are_what_the_tuner_prints(make_host):
    readme = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '..', 'roles', 'policy', 'README.md')
    with open(readme, encoding='utf-8') as handle:
        block = handle.read().split('$ journalctl -u uksm-pressure\n', 1)[1].split('\n  ```', 1)[0]
    journal = '\n'.join(line.strip() for line in block.splitlines())
    assert _journal_of(make_host, UKSM_BASE, UKSM_TIERS, journal) == journal.splitlines()
