# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible_facts.uksm on every kind of simulated host."""

from __future__ import annotations

import os
import threading

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.hostinfo import page_size
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import Detection, SysrootError, check_sysroot
from ansible_collections.litevirt.uksm.plugins.module_utils._plan import facts
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather, savings, writable
from ansible_collections.litevirt.uksm.plugins.module_utils.byte_sizes import human_bytes
from ansible_collections.litevirt.uksm.plugins.modules import uksm_facts
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.sysroot_tree import UKSM_TUNABLES
from ansible_collections.litevirt.uksm.tests.helpers.tree_snapshot import snapshot


def test_missing_sysroot_is_not_a_failure(tmp_path):
    fact = gather(str(tmp_path / 'nothing-here'))
    assert fact['available'] is False


@pytest.mark.parametrize('sysroot', ['', 'relative/path', '/tmp/\x00x'])
def test_bad_sysroot(sysroot):
    with pytest.raises(SysrootError):
        check_sysroot(sysroot)


def test_sysroot_is_normalised():
    assert check_sysroot('/srv//hosts/../hosts/hv01/') == '/srv/hosts/hv01'


# -- the whole fact on plain file trees (tests/helpers/sysroot_tree.py) ----------------------------


NO_POLICY = {
    'file': '/etc/litevirt-uksm/policy.conf',
    'exists': False,
    'settings': {},
    'pressure': None,
    'tier': None,
    'tier_settings': None,
    'available_percent': None,
    'memory_stall': None,
    'drift': [],
    'raised_by_kernel': {},
    'error': None,
    'unit': {'name': 'uksm-policy.service', 'installed': False, 'enabled': False},
}


def _uksm_host(root, **files):
    sysroot_tree.uksm(root, **files)
    sysroot_tree.meminfo(root, zero_kib=524288)
    sysroot_tree.process(root, 17, 'uksmd')
    return root


def test_uksm_fact_on_a_file_tree(tmp_path):
    root = _uksm_host(str(tmp_path))
    fact = gather(root)
    page = page_size()
    assert fact['available'] is True and fact['reason'] is None
    assert fact['backend'] == 'uksm' and fact['path'] == '/sys/kernel/mm/uksm' and fact['sysroot'] == root
    assert fact['tunables'] == UKSM_TUNABLES
    assert fact['choices'] == {'cpu_governor': ['full', 'medium', 'low', 'quiet']}
    assert fact['stats'] == {
        'pages_shared': 1200,
        'pages_sharing': 48000,
        'pages_unshared': 3500,
        'full_scans': 5,
        'pages_scanned': 2621440,
        'ema_per_page_time': 624,
        'hash_strength': 44,
        'sleep_times': 1875,
    }
    assert fact['page_size'] == page and isinstance(page, int)
    # UKSM reports zero pages in /proc/meminfo, in KiB
    assert fact['zero_pages'] == 524288 * 1024 // page
    assert fact['savings'] == {
        'bytes': 48000 * page + 524288 * 1024,
        'human': human_bytes(48000 * page + 524288 * 1024),
        'ratio': 40.0,
        # no /proc/<pid>/stat in this tree: the cost is unknown, not zero
        'bytes_per_cpu_second': None,
    }
    assert fact['daemon'] == 'uksmd' and fact['daemon_running'] is True and fact['daemon_cpu'] is None
    assert fact['writable'] is True
    assert fact['errors'] == [] and fact['unknown_attributes'] == []
    # the defaults of the tunables present, in write order; a fresh kernel holds them all
    assert fact['defaults'] == UKSM_TUNABLES
    assert list(fact['defaults']) == [
        'cpu_governor',
        'max_cpu_percentage',
        'cpu_ratios',
        'eval_intervals',
        'abundant_threshold',
        'thrash_threshold',
        'sleep_millisecs',
        'run',
    ]
    assert fact['lock'] == {'path': '/run/litevirt-uksm/lock', 'holder': None}
    assert fact['policy'] == NO_POLICY
    assert {name: state['rewrites'] for name, state in fact['conflicts'].items()} == {
        'ksmtuned': 'never',
        'ksm': 'never',
        'tuned': 'maybe',
    }


def test_reading_the_fact_writes_nothing(tmp_path):
    root = _uksm_host(str(tmp_path))
    before = snapshot(root)
    gather(root)
    assert snapshot(root) == before  # not even the lock directory


def test_uksm_without_a_zero_page_count_saves_only_the_shared_pages(tmp_path):
    root = str(tmp_path)
    sysroot_tree.uksm(root)
    sysroot_tree.meminfo(root)  # an older UKSM kernel: no KsmZeroPages line
    fact = gather(root)
    assert fact['zero_pages'] is None
    assert fact['savings']['bytes'] == 48000 * fact['page_size']
    assert fact['daemon_running'] is False  # no uksmd in /proc


def test_ksm_fact_takes_zero_pages_and_profit_from_sysfs(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm(root, run=1, pages_shared=100, pages_sharing=250, ksm_zero_pages=10, general_profit='-2520000\n')
    sysroot_tree.process(root, 31, 'ksmd')
    fact = gather(root)
    page = fact['page_size']
    assert fact['backend'] == 'ksm' and fact['path'] == '/sys/kernel/mm/ksm'
    assert fact['daemon'] == 'ksmd' and fact['daemon_running'] is True
    assert fact['zero_pages'] == 10 and fact['stats']['ksm_zero_pages'] == 10
    assert fact['stats']['general_profit'] == -2520000
    assert fact['savings'] == {
        'bytes': 260 * page,
        'human': human_bytes(260 * page),
        'ratio': 2.5,
        'bytes_per_cpu_second': None,
    }
    assert fact['tunables']['advisor_mode'] == 'none' and fact['tunables']['run'] == 1
    assert fact['choices'] == {'advisor_mode': ['none', 'scan-time']}
    assert fact['defaults']['run'] == 0 and fact['defaults']['pages_to_scan'] == 100
    assert {name: state['rewrites'] for name, state in fact['conflicts'].items()} == {
        'ksmtuned': 'always',
        'ksm': 'always',
        'tuned': 'maybe',
    }


def test_old_ksm_fact_has_no_zero_pages_and_defaults_for_present_tunables_only(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm_old(root)
    fact = gather(root)
    assert fact['zero_pages'] is None and fact['savings'] == {
        'bytes': 0,
        'human': '0 B',
        'ratio': None,
        'bytes_per_cpu_second': None,
    }
    assert set(fact['defaults']) == set(fact['tunables'])
    assert 'advisor_mode' not in fact['tunables'] and 'smart_scan' not in fact['defaults']
    assert fact['choices'] == {}


def test_host_without_an_interface_still_reports_the_policy_and_conflicts(tmp_path):
    root = str(tmp_path)
    persist.save(root, persist.render({'uksm': {'run': '1'}}))
    fact = gather(root)
    assert fact['available'] is False and fact['backend'] is None and fact['path'] is None
    assert 'the kernel is built without KSM/UKSM' in fact['reason']
    assert fact['tunables'] == {} and fact['stats'] == {} and fact['choices'] == {}
    assert fact['savings'] is None and fact['zero_pages'] is None
    assert fact['daemon'] is None and fact['daemon_running'] is None and fact['writable'] is False
    assert fact['policy']['exists'] is True and fact['policy']['settings'] == {'uksm': {'run': 1}}
    assert fact['policy']['drift'] == [] and fact['policy']['error'] is None
    assert all(state['rewrites'] == 'never' for state in fact['conflicts'].values())


def test_explicit_backend_is_used(tmp_path):
    root = _uksm_host(str(tmp_path))
    sysroot_tree.ksm(root)
    assert gather(root, 'ksm')['backend'] == 'ksm'
    fact = gather(root, 'uksm')
    assert fact['backend'] == 'uksm'
    assert gather(str(tmp_path / 'empty'), 'ksm')['reason'] == '/sys/kernel/mm/ksm does not exist'


def test_unreadable_attributes_and_unknown_files_are_reported_not_raised(tmp_path):
    root = str(tmp_path)
    directory = sysroot_tree.uksm(root, pages_shared=None, run='on\n', new_knob='1\n')
    os.mkdir(os.path.join(directory, 'pages_shared'))
    fact = gather(root)
    assert fact['available'] is True
    assert fact['errors'] == [
        "run: expected an unsigned integer, read 'on\\n'",
        'pages_shared: cannot read: Is a directory (errno 21)',
    ]
    assert fact['unknown_attributes'] == ['new_knob']
    assert 'run' not in fact['tunables'] and 'run' not in fact['defaults']
    # nothing is shared as far as the facts know: no ratio without pages_shared
    assert fact['savings']['ratio'] is None


def test_read_only_interface_is_not_writable(tmp_path, monkeypatch):
    root = _uksm_host(str(tmp_path))
    asked = []

    def access(path, mode):
        asked.append((path, mode))
        return False  # as on a read-only /sys (root passes permission bits, so they cannot show it)

    monkeypatch.setattr(facts.posix, 'access', access)
    fact = gather(root)
    assert fact['writable'] is False and fact['tunables'] == UKSM_TUNABLES
    assert asked == [(os.path.join(root, 'sys/kernel/mm/uksm/cpu_governor'), os.W_OK)]


def test_a_writer_holding_the_lock_past_the_wait_is_named_and_the_host_read_anyway(tmp_path):
    root = _uksm_host(str(tmp_path))
    with HostLock(root, timeout=1):
        fact = gather(root, lock_wait=0.1)
        assert fact['lock'] == {'path': '/run/litevirt-uksm/lock', 'holder': os.getpid()}
        assert fact['tunables'] == UKSM_TUNABLES
    assert gather(root)['lock']['holder'] is None


def test_the_wait_the_documentation_states_is_the_codes():
    assert ' '.join(uksm_facts.RETURN.split()).count('(%g seconds, or the' % facts.LOCK_WAIT) == 1


def test_facts_wait_for_a_writer_halfway_through_and_read_what_it_wrote(tmp_path):
    """The tuner steps down: the base's values first, the tier after them. Read in between, the base's
    values were compared with the tier's and read as drift (stop 38's molecule run)."""
    root = _uksm_host(str(tmp_path), run='0\n')
    tiers = {'uksm pressure': {'hysteresis': '5'}, 'uksm tier 0': {'available_below_percent': '30', 'run': '0'}}
    persist.save(root, persist.render(dict({'uksm': {'run': '1'}}, **tiers)))
    read: list[dict] = []
    with HostLock(root, timeout=1):
        sysroot_tree.put(root, 'run/litevirt-uksm/tier', 'uksm 0\n')
        assert gather(root, lock_wait=0)['policy']['tier'] == 0  # tier 0 in force, as the kernel holds it
        sysroot_tree.put(root, 'sys/kernel/mm/uksm/run', '1\n')  # halfway: the base's value is written
        reader = threading.Thread(target=lambda: read.append(gather(root)))
        reader.start()
        reader.join(0.3)
        assert reader.is_alive(), 'facts read the host while a writer held the lock'
        os.unlink(os.path.join(root, 'run/litevirt-uksm/tier'))  # the base is in force
    reader.join(10)
    policy = read[0]['policy']
    assert (policy['tier'], policy['drift'], read[0]['lock']['holder']) == (None, [], None)


def test_conflicting_services_are_found_from_unit_files_and_proc(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm(root)
    sysroot_tree.unit_file(root, 'usr/lib/systemd/system/ksmtuned.service')
    sysroot_tree.enable(root, 'usr/lib/systemd/system/ksmtuned.service', 'multi-user.target')
    sysroot_tree.process(root, 4242, 'ksmtuned')
    sysroot_tree.unit_file(root, 'lib/systemd/system/ksm.service')
    sysroot_tree.put(root, 'run/systemd/units/invocation:tuned.service', '')  # active, unit file elsewhere
    conflicts = gather(root)['conflicts']
    assert conflicts == {
        'ksmtuned': {'installed': True, 'enabled': True, 'running': True, 'rewrites': 'always'},
        'ksm': {'installed': True, 'enabled': False, 'running': False, 'rewrites': 'always'},
        'tuned': {'installed': False, 'enabled': False, 'running': True, 'rewrites': 'maybe'},
    }


# -- the persisted policy in the fact -------------------------------------------------------------


def test_persisted_policy_held_by_the_kernel_has_no_drift(tmp_path):
    root = _uksm_host(str(tmp_path))
    persist.save(root, persist.render({'uksm': {'cpu_governor': 'full', 'sleep_millisecs': '100'}}))
    sysroot_tree.unit_file(root, 'etc/systemd/system/uksm-policy.service')
    sysroot_tree.enable(root, 'etc/systemd/system/uksm-policy.service', 'sysinit.target')
    assert gather(root)['policy'] == dict(
        NO_POLICY,
        exists=True,
        settings={'uksm': {'cpu_governor': 'full', 'sleep_millisecs': 100}},
        unit={'name': 'uksm-policy.service', 'installed': True, 'enabled': True},
    )


def test_persisted_policy_the_kernel_does_not_hold_is_drift_in_write_order(tmp_path):
    root = _uksm_host(str(tmp_path), cpu_governor='full medium [low] quiet \n', run='0\n')
    persist.save(root, persist.render({'uksm': {'run': '1', 'sleep_millisecs': '100', 'cpu_governor': 'full'}}))
    policy = gather(root)['policy']
    assert policy['drift'] == ['cpu_governor', 'run'] and policy['error'] is None


def test_persisted_policy_of_the_other_backend_is_not_compared(tmp_path):
    root = _uksm_host(str(tmp_path))
    persist.save(root, persist.render({'ksm': {'run': '1'}}))
    policy = gather(root)['policy']
    assert policy['exists'] is True and policy['settings'] == {'ksm': {'run': 1}}
    assert policy['drift'] == [] and policy['error'] is None


def test_persisted_policy_that_does_not_apply_is_an_error_beside_the_drift(tmp_path):
    root = _uksm_host(str(tmp_path))
    persist.save(root, '[uksm]\ncpu_governor = fastest\nsleep_millisecs = 200\n')
    policy = gather(root)['policy']
    assert policy['exists'] is True and policy['drift'] == ['sleep_millisecs']
    assert policy['error'] == (
        "the persisted uksm policy does not apply here: cpu_governor: 'fastest' is not offered by this "
        'kernel; accepted: one of full, medium, low, quiet, as a bare name'
    )


@pytest.mark.parametrize(
    'make, error',
    [
        (
            lambda root: persist.save(root, 'cpu_governor = full\n'),
            'cannot read /etc/litevirt-uksm/policy.conf: line 1: expected "name = value" inside a [uksm] or '
            '[ksm] section',
        ),
        (
            lambda root: os.makedirs(os.path.join(root, 'etc/litevirt-uksm/policy.conf')),
            'cannot read /etc/litevirt-uksm/policy.conf: refusing /etc/litevirt-uksm/policy.conf: it is a '
            'directory, not a regular file',
        ),
        (
            lambda root: sysroot_tree.put(root, 'etc/litevirt-uksm/policy.conf', b'[uksm]\nrun = \xff\n'),
            'cannot read /etc/litevirt-uksm/policy.conf: not UTF-8 text (byte 0xff at offset 13)',
        ),
    ],
)
def test_policy_file_that_cannot_be_read_is_an_error_not_a_failure(tmp_path, make, error):
    root = _uksm_host(str(tmp_path))
    make(root)
    fact = gather(root)
    assert fact['available'] is True
    assert fact['policy'] == dict(NO_POLICY, error=error)


# -- savings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    'stats, zero_bytes, expected',
    [
        ({'pages_sharing': 300, 'pages_shared': 100}, None, {'bytes': 300 * 4096, 'ratio': 3.0}),
        ({'pages_sharing': 2, 'pages_shared': 3}, 8192, {'bytes': 2 * 4096 + 8192, 'ratio': 0.67}),
        ({'pages_sharing': 0, 'pages_shared': 0}, 0, {'bytes': 0, 'ratio': None}),
        ({'pages_shared': 5}, None, {'bytes': 0, 'ratio': None}),
        ({}, -4096, {'bytes': 0, 'ratio': None}),  # a negative zero-page count never lowers the savings
    ],
)
def test_savings(stats, zero_bytes, expected):
    result = savings(stats, zero_bytes, 4096)
    assert result == dict(expected, human=human_bytes(expected['bytes']), bytes_per_cpu_second=None)
    assert isinstance(result['bytes'], int) and not isinstance(result['bytes'], bool)


@pytest.mark.parametrize(
    'cpu, expected',
    [
        ({'pid': 48, 'seconds': 4.0, 'percent_since_start': 1.0}, 300 * 4096 // 4),
        ({'pid': 48, 'seconds': 0.0, 'percent_since_start': 0.0}, None),  # nothing spent: no ratio, no division
        (None, None),  # no thread
    ],
)
def test_savings_per_cpu_second(cpu, expected):
    result = savings({'pages_sharing': 300, 'pages_shared': 100}, None, 4096, cpu)
    assert result['bytes_per_cpu_second'] == expected
    assert expected is None or isinstance(result['bytes_per_cpu_second'], int)


def test_an_unavailable_interface_is_not_writable():
    assert writable(Detection(reason='none')) is False
