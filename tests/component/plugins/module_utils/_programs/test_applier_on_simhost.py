# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot-time applier brings drifted values back, logs each change and fails cleanly."""

from __future__ import annotations

import os

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.applier import apply_policy
from ansible_collections.litevirt.uksm.tests.helpers.boot_package import (
    LAUNCHER_ENDING,
    OS_PROBE,
    install_boot_package,
    run_changed_launcher,
)

POLICY = {'uksm': {'cpu_governor': 'medium', 'cpu_ratios': '10 30 MAX/4 MAX/1', 'sleep_millisecs': '200'}}


def _persist(root, policies):
    persist.save(root, persist.render(policies))


def test_drift_is_repaired_and_logged(make_host):
    host = make_host('uksm')
    root = host.paths.root
    _persist(root, POLICY)
    lines = []
    assert apply_policy(root, lines.append) == 0
    live = gather(root)['tunables']
    assert live['cpu_governor'] == 'medium' and live['cpu_ratios'] == ['10', '30', 'MAX/4', 'MAX/1']
    assert 'uksm cpu_governor: full -> medium' in lines
    assert lines[-1].endswith('3 requested, 5 changed: cpu_governor reset max_cpu_percentage and eval_intervals')
    assert 'uksm eval_intervals: 1000 500 200 50 -> 1000 500 400 100 (reset by cpu_governor)' in lines
    lines.clear()
    assert apply_policy(root, lines.append) == 0
    assert lines == ['uksm policy applied: 3 requested, 0 changed: all already set']


def test_failure_rolls_back_and_exits_non_zero(make_host):
    host = make_host('uksm')
    root = host.paths.root
    _persist(root, POLICY)
    before = gather(root)['tunables']
    host.inject('sleep_millisecs', errno='EIO')
    lines = []
    assert apply_policy(root, lines.append) == 1
    assert lines[0].startswith('FAILED: writing sleep_millisecs') and 'EIO' in lines[0]
    assert gather(root)['tunables'] == before


def test_invalid_persisted_policy_writes_nothing(make_host):
    host = make_host('uksm')
    _persist(host.paths.root, {'uksm': {'cpu_ratios': '20 40 MAX/4 10000'}})
    lines = []
    assert apply_policy(host.paths.root, lines.append) == 1
    assert 'kill uksmd' in lines[0] and host.writes() == []


def test_no_policy_for_this_backend(make_host):
    host = make_host('ksm')
    _persist(host.paths.root, POLICY)
    lines = []
    assert apply_policy(host.paths.root, lines.append) == 0
    assert 'no ksm policy' in lines[0]


def test_lock_is_shared_with_the_module(make_host):
    host = make_host('uksm')
    root = host.paths.root
    _persist(root, POLICY)
    lines = []
    with HostLock(root):
        assert apply_policy(root, lines.append, lock_timeout=0.2) == 1
    assert 'held by another writer' in lines[0] and host.writes() == []


def test_role_readme_boot_journal_is_what_the_applier_prints(make_host):
    """The role README's boot journal: a policy of the medium governor, sleep 200 and run 1 applied at boot."""
    readme = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '..', 'roles', 'policy', 'README.md')
    with open(readme, encoding='utf-8') as handle:
        journal = handle.read().split('$ journalctl -b -u uksm-policy\n', 1)[1].split('\n```', 1)[0]
    host = make_host('uksm')
    _persist(host.paths.root, {'uksm': {'cpu_governor': 'medium', 'sleep_millisecs': '200', 'run': '1'}})
    lines = []
    assert apply_policy(host.paths.root, lines.append) == 0
    # the launcher prefixes each line with the unit's name, as the journal shows it
    assert ['uksm-policy: ' + line for line in lines] == journal.splitlines()


def test_installed_applier_applies_a_policy_at_boot_without_importing_os(make_host):
    """The whole run of the installed launcher, writes and their verification included, calls the system through
    posix: importing os would cost about a tenth of a Python start on a slow host (sysfs.py)."""
    host = make_host('uksm')
    root = host.paths.root
    install_boot_package(root)
    _persist(root, POLICY)
    probe = '\n_status = main(sys.argv[1:])\n' + OS_PROBE + 'sys.exit(_status)\n'
    shown = run_changed_launcher(root, 'applier', lambda text: text.replace(LAUNCHER_ENDING, probe), '--sysroot', root)
    assert (shown.returncode, shown.stderr) == (0, '')
    lines = shown.stdout.splitlines()
    assert 'uksm-policy: uksm cpu_governor: full -> medium' in lines
    assert lines[-2].startswith('uksm-policy: uksm policy applied: 3 requested, 5 changed')
    assert lines[-1] == '[]'
