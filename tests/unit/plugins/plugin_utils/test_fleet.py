# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's rows and totals, from hand-written facts and from gather() on simulated hosts."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils.facts import human_bytes
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import COLUMNS, summarize, to_csv

from fleet_facts import NO_INTERFACE, fact


def by_host(summary: dict) -> dict:
    return {row['host']: row for row in summary['hosts']}


def test_totals_of_hand_written_facts():
    summary = summarize(
        {
            'hv-b': fact('uksm', 3 << 30, 'full'),
            'hv-a': fact(
                'uksm', 1 << 20, 'medium', drift=['sleep_millisecs'], settings={'uksm': {'sleep_millisecs': '200'}}
            ),
            'hv-c': fact('ksm', 4096),
            'hv-d': fact('ksm', 0),
            'hv-e': fact(None),
            'hv-f': None,
        }
    )
    assert summary['totals'] == {
        'hosts': 6,
        'saved_bytes': (3 << 30) + (1 << 20) + 4096,
        'saved_human': human_bytes((3 << 30) + (1 << 20) + 4096),
        'by_backend': {'ksm': 2, 'uksm': 2},
        'by_governor': {'full': 1, 'medium': 1},
        'drifted': 1,
        'without_interface': 1,
        'unreachable': 1,
        'failed': 0,
        'with_savings': 3,
    }
    assert [row['host'] for row in summary['hosts']] == ['hv-a', 'hv-b', 'hv-c', 'hv-d', 'hv-e', 'hv-f']
    assert all(tuple(row) == COLUMNS for row in summary['hosts'])
    assert summary['drifted_hosts'] == ['hv-a']
    assert summary['without_interface_hosts'] == ['hv-e'] and summary['unreachable_hosts'] == ['hv-f']
    rows = by_host(summary)
    assert rows['hv-a']['drift'] == ['sleep_millisecs'] and rows['hv-a']['policy_persisted'] is True
    assert rows['hv-a']['unit_enabled'] is True and rows['hv-b']['unit_enabled'] is False
    assert rows['hv-b']['saved_human'] == '3.0 GiB' and rows['hv-b']['ratio'] == 40.0
    assert rows['hv-c']['governor'] is None  # KSM has no governor
    assert rows['hv-e']['status'] == 'unavailable' and rows['hv-e']['reason'] == NO_INTERFACE
    assert rows['hv-e']['saved_bytes'] is None and rows['hv-e']['daemon_running'] is None
    assert rows['hv-f']['status'] == 'unreachable' and rows['hv-f']['available'] is None


def test_drift_is_read_from_the_fact_never_recomputed():
    # the persisted settings differ from the tunables, but policy.drift (plan.drift) says no drift
    same_looking = fact('uksm', 1, 'full', settings={'uksm': {'cpu_governor': 'low'}})
    # and the reverse: drift reported although the settings look like the tunables
    reported = fact('uksm', 1, 'full', drift=['cpu_governor'], settings={'uksm': {'cpu_governor': 'full'}})
    summary = summarize({'quiet': same_looking, 'loud': reported})
    assert summary['drifted_hosts'] == ['loud'] and summary['totals']['drifted'] == 1


def test_registered_results_unreachable_and_failed():
    summary = summarize(
        {
            'ok': {'changed': False, 'failed': False, 'ansible_facts': {'uksm': fact('ksm', 8192)}},
            'down': {
                'unreachable': True,
                'changed': False,
                'msg': 'Task failed: Failed to connect to the host via ssh: Connection refused',
            },
            # failed_when: false keeps the module's message but clears failed
            'broken': {
                'changed': False,
                'failed': False,
                'failed_when_result': False,
                'msg': 'sysroot must be an absolute path',
            },
        }
    )
    rows = by_host(summary)
    assert rows['ok']['status'] == 'ok' and rows['ok']['saved_bytes'] == 8192
    assert rows['down']['status'] == 'unreachable'
    assert rows['down']['reason'] == 'Failed to connect to the host via ssh: Connection refused'
    assert rows['broken']['status'] == 'failed' and rows['broken']['reason'] == 'sysroot must be an absolute path'
    assert summary['totals']['unreachable'] == 1 and summary['totals']['failed'] == 1
    assert summary['failed_hosts'] == ['broken'] and summary['totals']['hosts'] == 3


def test_uksm_host_without_governor_and_dead_daemon():
    rows = by_host(summarize({'legacy': fact('uksm', 4096), 'dead': fact('uksm', 4096, 'low', running=False)}))
    assert rows['dead']['daemon_running'] is False
    assert summarize({'legacy': fact('uksm', 4096)})['totals']['by_governor'] == {'unknown': 1}


def test_empty_fleet():
    summary = summarize({})
    assert summary['hosts'] == [] and summary['totals']['hosts'] == 0
    assert summary['totals']['saved_bytes'] == 0 and summary['totals']['saved_human'] == '0 B'
    assert to_csv(summary) == ','.join(COLUMNS) + '\n'


@pytest.mark.parametrize('value', [[], 'hv01', 3])
def test_bad_input(value):
    with pytest.raises(TypeError):
        summarize(value)
    with pytest.raises(TypeError):
        summarize({'hv01': value})


facts = st.one_of(
    st.none(),
    st.builds(
        fact,
        backend=st.sampled_from(['uksm', 'ksm', None]),
        saved=st.integers(0, 1 << 50),
        governor=st.sampled_from([None, 'full', 'medium', 'low', 'quiet']),
        drift=st.lists(st.sampled_from(['run', 'sleep_millisecs', 'cpu_governor']), unique=True, max_size=3),
        running=st.booleans(),
    ),
)


@given(st.dictionaries(st.text(min_size=1, max_size=12), facts, max_size=12))
def test_totals_add_up(hosts):
    summary = summarize(hosts)
    totals = summary['totals']
    reached = [f for f in hosts.values() if f is not None]
    assert totals['hosts'] == len(hosts) == len(summary['hosts'])
    assert totals['saved_bytes'] == sum(f['savings']['bytes'] for f in reached if f['available'])
    assert totals['hosts'] == sum(totals['by_backend'].values()) + totals['without_interface'] + totals['unreachable']
    assert sum(totals['by_governor'].values()) == totals['by_backend'].get('uksm', 0)
    assert totals['drifted'] == sum(1 for f in reached if f['policy']['drift'])
    assert totals['with_savings'] == sum(1 for f in reached if f['available'] and f['savings']['bytes'] > 0)


def test_csv_round_trips():
    summary = summarize(
        {
            'hv,"quoted"\nname': fact('uksm', 12288, 'full', drift=['run', 'sleep_millisecs']),
            'hv-plain': fact(None),
            'hv-down': None,
        }
    )
    records = list(csv.DictReader(io.StringIO(to_csv(summary))))
    assert [tuple(record) for record in records] == [COLUMNS] * 3
    rows = by_host(summary)
    assert {record['host'] for record in records} == set(rows)
    for record in records:
        row = rows[record['host']]
        assert record['status'] == row['status']
        assert record['drift'].split() == row['drift']
        assert record['saved_bytes'] == ('' if row['saved_bytes'] is None else str(row['saved_bytes']))
        assert record['available'] == {True: 'true', False: 'false', None: ''}[row['available']]
        assert record['reason'] == (row['reason'] or '')
