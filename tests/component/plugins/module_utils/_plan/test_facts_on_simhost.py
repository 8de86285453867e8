# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible_facts.uksm on every kind of simulated host."""

from __future__ import annotations

import os

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.tests.helpers.sysroot_tree import UKSM_TUNABLES


def test_uksm_host(make_host):
    host = make_host('uksm')
    fact = gather(host.paths.root)
    assert fact['available'] and fact['reason'] is None
    assert fact['backend'] == 'uksm' and fact['path'] == '/sys/kernel/mm/uksm'
    assert fact['tunables'] == UKSM_TUNABLES
    assert fact['choices'] == {'cpu_governor': ['full', 'medium', 'low', 'quiet']}
    assert fact['stats']['pages_shared'] == 1200 and fact['stats']['pages_sharing'] == 48000
    assert fact['stats']['full_scans'] == 5
    assert len(fact['stats']) == 8
    assert fact['zero_pages'] == 524288 * 1024 // fact['page_size']
    assert fact['savings']['bytes'] == 48000 * fact['page_size'] + 524288 * 1024
    assert fact['savings']['ratio'] == 40.0
    assert fact['daemon'] == 'uksmd' and fact['daemon_running'] is True
    assert fact['writable'] is True
    assert fact['errors'] == [] and fact['unknown_attributes'] == []
    # reading facts writes nothing
    assert host.writes() == []


def test_uksm_facts_follow_the_kernel(make_host):
    host = make_host('uksm', pages_scanned_pow2=32)
    host.write('cpu_governor', 'quiet\n')
    fact = gather(host.paths.root)
    assert fact['tunables']['cpu_governor'] == 'quiet'
    assert fact['tunables']['max_cpu_percentage'] == 1
    assert fact['tunables']['cpu_ratios'] == ['10', '20', '40', '75']
    assert fact['stats']['pages_scanned'] % (1 << 32) == 0 and fact['stats']['pages_scanned'] > 0


def test_dead_uksmd_is_reported(make_host):
    host = make_host('uksm')
    host.write('cpu_ratios', '20 40 MAX/4 10000\n')  # the kernel hazard: uksmd dies
    fact = gather(host.paths.root)
    assert fact['available'] and fact['daemon_running'] is False
    assert fact['daemon_cpu'] is None and fact['savings']['bytes_per_cpu_second'] is None


def test_daemon_cpu_follows_the_threads_cpu_time(make_host):
    host = make_host('uksm')
    fact = gather(host.paths.root)
    # 375 s of CPU over 7500 s of uptime, less the 0.62 s before the thread started
    assert fact['daemon_cpu'] == {'pid': 42, 'seconds': 375.0, 'percent_since_start': round(37500 / 7499.38, 3)}
    assert fact['savings']['bytes_per_cpu_second'] == int(fact['savings']['bytes'] / 375.0)
    host.set_state(daemon_cpu_ticks=75000, uptime_seconds=7560.0)
    later = gather(host.paths.root)['daemon_cpu']
    assert later['seconds'] == 750.0 and later['percent_since_start'] > fact['daemon_cpu']['percent_since_start']


def test_daemon_cpu_of_an_idle_ksmd_is_zero_seconds_and_no_ratio(make_host):
    fact = gather(make_host('ksm').paths.root)
    assert fact['daemon_cpu']['seconds'] == 0.0 and fact['daemon_cpu']['percent_since_start'] == 0.0
    assert fact['savings']['bytes_per_cpu_second'] is None


@pytest.mark.parametrize(
    'variant, present, absent',
    [
        ('ksm', ['advisor_mode', 'smart_scan', 'merge_across_nodes'], []),
        ('ksm-nonuma', ['advisor_mode'], ['merge_across_nodes']),
        ('ksm-old', ['max_page_sharing', 'use_zero_pages'], ['advisor_mode', 'smart_scan', 'general_profit']),
    ],
)
def test_ksm_hosts(make_host, variant, present, absent):
    host = make_host(variant)
    fact = gather(host.paths.root)
    assert fact['backend'] == 'ksm' and fact['daemon'] == 'ksmd' and fact['daemon_running']
    known = set(fact['tunables']) | set(fact['stats'])
    assert set(present) <= known
    assert not set(absent) & known
    assert fact['tunables']['run'] == 0 and fact['tunables']['sleep_millisecs'] == 20
    assert fact['savings']['ratio'] is None  # nothing shared on a fresh KSM host
    if 'advisor_mode' in fact['tunables']:
        assert fact['choices']['advisor_mode'] == ['none', 'scan-time']


def test_ksm_negative_profit_and_zero_pages(make_host):
    host = make_host('ksm', negative_profit=True)
    host.set_state(ksm_zero_pages=10)
    fact = gather(host.paths.root)
    assert fact['stats']['general_profit'] == -2520000
    assert fact['zero_pages'] == 10
    assert fact['savings']['bytes'] == (fact['stats']['pages_sharing'] + 10) * fact['page_size']


def test_host_without_uksm_or_ksm(make_host):
    host = make_host('none')
    fact = gather(host.paths.root)
    assert fact['available'] is False and fact['backend'] is None
    assert 'does not exist' in fact['reason'] and 'without KSM/UKSM' in fact['reason']
    assert fact['tunables'] == {} and fact['savings'] is None and fact['daemon_running'] is None


@pytest.mark.parametrize('variant', ['uksm-readonly', 'ksm-readonly'])
def test_read_only_sys(make_host, variant):
    host = make_host(variant)
    fact = gather(host.paths.root)
    assert fact['available'] and fact['tunables']
    assert fact['writable'] is False


def test_legacy_uksm_is_refused(make_host):
    host = make_host('uksm-legacy')
    fact = gather(host.paths.root)
    assert fact['available'] is False
    assert 'no cpu_governor' in fact['reason']


def test_unreadable_uksm(make_host):
    host = make_host('uksm-unreadable')
    fact = gather(host.paths.root)
    assert fact['available'] is False
    assert 'cannot be listed' in fact['reason'] and 'errno 13' in fact['reason']


def test_explicit_backend_that_is_missing(make_host):
    host = make_host('uksm')
    fact = gather(host.paths.root, 'ksm')
    assert fact['available'] is False and fact['reason'] == '/sys/kernel/mm/ksm does not exist'


def test_conflicting_services(make_host):
    host = make_host('ksm')
    root = host.paths.root
    os.makedirs(os.path.join(root, 'usr/lib/systemd/system'))
    os.makedirs(os.path.join(root, 'etc/systemd/system/multi-user.target.wants'))
    with open(os.path.join(root, 'usr/lib/systemd/system/ksmtuned.service'), 'w') as handle:
        handle.write('[Service]\n')
    os.symlink(
        '/usr/lib/systemd/system/ksmtuned.service',
        os.path.join(root, 'etc/systemd/system/multi-user.target.wants/ksmtuned.service'),
    )
    os.makedirs(os.path.join(root, 'proc/4242'))
    with open(os.path.join(root, 'proc/4242/comm'), 'w') as handle:
        handle.write('ksmtuned\n')
    conflicts = gather(root)['conflicts']
    assert conflicts['ksmtuned'] == {'installed': True, 'enabled': True, 'running': True, 'rewrites': 'always'}
    assert conflicts['tuned'] == {'installed': False, 'enabled': False, 'running': False, 'rewrites': 'maybe'}


def test_ksmtuned_does_not_fight_uksm(make_host):
    conflicts = gather(make_host('uksm').paths.root)['conflicts']
    assert conflicts['ksmtuned']['rewrites'] == 'never' and conflicts['ksm']['rewrites'] == 'never'
    assert conflicts['tuned']['rewrites'] == 'maybe'


def test_defaults_are_the_kernel_defaults_of_present_tunables(make_host):
    fact = gather(make_host('ksm-old').paths.root)
    assert set(fact['defaults']) == set(fact['tunables'])
    assert fact['defaults']['run'] == 0 and fact['defaults']['pages_to_scan'] == 100
    assert gather(make_host('uksm').paths.root)['defaults'] == gather(make_host('uksm').paths.root)['tunables']


def test_persisted_policy_and_drift(make_host):
    host = make_host('uksm')
    root = host.paths.root
    assert gather(root)['policy'] == {
        'file': '/etc/litevirt-uksm/policy.conf',
        'exists': False,
        'settings': {},
        'pressure': None,
        'tier': None,
        'tier_settings': None,
        'available_percent': 78.8,  # the simulated host's MemAvailable over MemTotal
        'memory_stall': None,
        'drift': [],
        'raised_by_kernel': {},
        'error': None,
        'unit': {'name': 'uksm-policy.service', 'installed': False, 'enabled': False},
    }
    # MAX/150 reads back as MAX/151 and 5 ms as one tick: neither is drift
    persist.save(
        root,
        persist.render(
            {
                'uksm': {
                    'cpu_governor': 'full',
                    'cpu_ratios': '20 40 MAX/4 MAX/1',
                    'sleep_millisecs': '100',
                    'run': '1',
                },
                'ksm': {'run': '1'},
            }
        ),
    )
    policy = gather(root)['policy']
    assert policy['exists'] and policy['drift'] == [] and policy['error'] is None
    # typed as the tunables are
    assert policy['settings']['ksm'] == {'run': 1}
    assert policy['settings']['uksm']['cpu_ratios'] == ['20', '40', 'MAX/4', 'MAX/1']
    host.write('cpu_governor', 'low')
    host.write('run', '0')
    assert gather(root)['policy']['drift'] == ['cpu_governor', 'cpu_ratios', 'run']


def test_invalid_persisted_policy_is_reported(make_host):
    root = make_host('uksm').paths.root
    persist.save(root, '[uksm]\ncpu_governor = fastest\n')
    policy = gather(root)['policy']
    assert 'cpu_governor' in policy['error'] and 'fastest' in policy['error']
    persist.save(root, '[zswap]\nenabled = 1\n')
    assert 'unknown section [zswap]' in gather(root)['policy']['error']


def test_pages_to_scan_under_the_advisor_is_not_drift(make_host):
    host = make_host('ksm')
    root = host.paths.root
    persist.save(root, persist.render({'ksm': {'pages_to_scan': '100', 'run': '1'}}))
    host.write('run', '1')
    host.write('pages_to_scan', '700')
    assert gather(root)['policy']['drift'] == ['pages_to_scan']
    host.write('advisor_mode', 'scan-time')  # ksmd now sets pages_to_scan itself
    policy = gather(root)['policy']
    assert policy['drift'] == [] and policy['error'] is None
