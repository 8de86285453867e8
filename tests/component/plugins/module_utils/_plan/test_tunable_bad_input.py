# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input matrix: every case fails naming the attribute, value and what is accepted, writing nothing."""

from __future__ import annotations

import pytest
from simhost import server
from simhost.control import Control
from simhost.sysroot import create

from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import TunableError, run

UKSM_CASES = [
    ({'run': 2}, 'out of range'),
    ({'run': True}, 'boolean'),
    ({'run': 'on'}, 'not a decimal'),
    ({'sleep_millisecs': 1001}, 'out of range'),
    ({'sleep_millisecs': -1}, 'out of range'),
    ({'sleep_millisecs': 1.5}, 'whole number'),
    ({'max_cpu_percentage': 101}, 'out of range'),
    ({'abundant_threshold': 100}, 'out of range'),
    ({'thrash_threshold': [1]}, 'a list'),
    ({'cpu_governor': 'turbo'}, 'not offered'),
    ({'cpu_governor': 'full [medium] low quiet '}, 'bare name'),
    ({'cpu_governor': ' full'}, 'bare name'),
    ({'cpu_ratios': '20 40 MAX/4 10000'}, 'kill uksmd'),
    ({'cpu_ratios': '20 40 MAX/4'}, 'instead of 4'),
    ({'cpu_ratios': '0 40 MAX/4 MAX/1'}, 'at least 1'),
    ({'cpu_ratios': '20 40 MAX/0 MAX/1'}, 'MAX/N needs N'),
    ({'cpu_ratios': '20 40 max/4 MAX/1'}, 'neither an integer'),
    ({'cpu_ratios': '20 5000 MAX/4 MAX/1'}, 'decreasing'),
    ({'eval_intervals': '1 2 3 4'}, 'corrupts kernel memory'),
    ({'eval_intervals': '1 2 3'}, 'instead of 4'),
    ({'pages_shared': 5}, 'read-only statistic'),
    ({'cpu_gov': 'full'}, 'did you mean cpu_governor'),
    ({'pages_to_scan': 100}, 'is a KSM attribute, not a UKSM one'),
]

KSM_CASES = [
    ({'run': 3}, 'out of range'),
    ({'run': False}, 'boolean'),
    ({'pages_to_scan': -5}, 'out of range'),
    ({'max_page_sharing': 1}, 'out of range'),
    ({'merge_across_nodes': 2}, 'out of range'),
    ({'use_zero_pages': 'perhaps'}, 'not a decimal'),
    ({'advisor_mode': 'fast'}, 'not offered'),
    ({'advisor_target_scan_time': 0}, 'out of range'),
    ({'advisor_max_cpu': 101}, 'out of range'),
    ({'advisor_mode': 'scan-time', 'pages_to_scan': 300}, 'managed by ksmd'),
    ({'merge_across_nodes': 0}, 'EBUSY'),
    ({'general_profit': 1}, 'read-only statistic'),
    ({'cpu_governor': 'full'}, 'is a UKSM attribute, not a KSM one'),
]


def _check(host, desired, fragment, variant_options=None):
    root = host.paths.root
    before = gather(root)['tunables']
    with pytest.raises(TunableError) as caught:
        run(root, 'auto', desired)
    message = str(caught.value)
    name = [key for key in desired if key in message][0]
    assert fragment in message and name in message and 'accepted:' in message
    assert 'nothing was written' in message
    assert host.writes() == []
    assert gather(root)['tunables'] == before


@pytest.fixture(scope='module')
def hosts(tmp_path_factory):
    # one mounted host per backend for the whole matrix: nothing may change them
    mounted = {}
    for variant, options in (('uksm', {}), ('ksm', {'active': True})):
        root = str(tmp_path_factory.mktemp(variant))
        create(root, variant, **options)
        server.mount(root)
        mounted[variant] = Control(root)
    yield mounted
    for host in mounted.values():
        server.umount(host.paths.root)


@pytest.mark.parametrize('desired, fragment', UKSM_CASES, ids=[str(case[0]) for case in UKSM_CASES])
def test_uksm_bad_input(hosts, desired, fragment):
    _check(hosts['uksm'], desired, fragment)


@pytest.mark.parametrize('desired, fragment', KSM_CASES, ids=[str(case[0]) for case in KSM_CASES])
def test_ksm_bad_input(hosts, desired, fragment):
    _check(hosts['ksm'], desired, fragment)


def test_run_without_uksmd_asks_for_a_reboot(make_host):
    host = make_host('uksm')
    host.set_state(uksmd_alive=False, run=0)
    _check(host, {'run': 1}, 'reboot')


def test_matrix_has_at_least_30_cases():
    assert len(UKSM_CASES) + len(KSM_CASES) >= 30
