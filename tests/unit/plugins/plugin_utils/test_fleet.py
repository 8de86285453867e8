# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's rows and totals, from hand-written facts: what sharing saves and what it costs."""

from __future__ import annotations

import csv
import io
import math
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils.byte_sizes import human_bytes
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import COLUMNS, STATUSES, summarize, to_csv
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.fleet_facts import NO_INTERFACE, any_fact, fact


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
        # none of these hand-written hosts reports the CPU time of its thread
        'cpu_hosts': 0,
        'cpu_seconds': None,
        'bytes_per_cpu_second': None,
        # nor a pressure tier in force
        'by_tier': {'base': 4},
    }
    # no host has a bytes-per-CPU-second figure: those with an interface, then without, then unreachable
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
def test_bad_input_fails_with_type_error(value):
    with pytest.raises(TypeError):
        summarize(value)
    with pytest.raises(TypeError):
        summarize({'hv01': value})


MiB = 1 << 20
# what sharing returns for what it costs, host by host; bytes per CPU second in the comments
COSTED = {
    'hv-full': fact('uksm', 200 * MiB, 'full', cpu=3600.0, percent=100.0),  # 58254: a whole core for 200 MiB
    'hv-medium': fact('uksm', 700 * MiB, 'medium', cpu=120.5, percent=1.25),  # 6091245
    'hv-ksm': fact('ksm', 16 * MiB, cpu=2.0, percent=0.004),  # 8388608
    'hv-idle': fact('ksm', 0, cpu=1.5, percent=0.002),  # 0: a measurement, not a missing figure
    'hv-zero': fact('ksm', 4096, cpu=0.0, percent=0.0),  # no CPU spent yet: no figure
    'hv-old': fact('uksm', 1 << 30, 'low', legacy=True),  # an older collection: neither key
    'hv-stopped': fact('uksm', 64 * MiB, 'full', running=False),  # uksmd died: daemon_cpu null
    'hv-plain': fact(None),
    'hv-down': None,
    'hv-broken': {'changed': False, 'failed': False, 'msg': 'sysroot must be an absolute path'},
}


def test_cost_columns_of_each_host():
    rows = by_host(summarize(COSTED))
    assert rows['hv-full']['cpu_seconds'] == 3600.0 and rows['hv-full']['cpu_percent_since_start'] == 100.0
    assert rows['hv-full']['bytes_per_cpu_second'] == 200 * MiB // 3600
    assert rows['hv-idle']['bytes_per_cpu_second'] == 0 and rows['hv-idle']['cpu_seconds'] == 1.5
    assert rows['hv-zero']['cpu_seconds'] == 0.0 and rows['hv-zero']['bytes_per_cpu_second'] is None
    # a missing key reads as null, as a thread that is not running does: never a 0
    for host in ('hv-old', 'hv-stopped', 'hv-plain', 'hv-down', 'hv-broken'):
        assert rows[host]['cpu_seconds'] is None, host
        assert rows[host]['cpu_percent_since_start'] is None, host
        assert rows[host]['bytes_per_cpu_second'] is None, host
    assert rows['hv-old']['saved_bytes'] == 1 << 30 and rows['hv-stopped']['daemon_running'] is False


def test_facts_gathered_from_plain_trees_feed_the_cost_columns(tmp_path):
    # the contract with uksm_facts: daemon_cpu and savings.bytes_per_cpu_second as gather() returns them
    clock = os.sysconf('SC_CLK_TCK')
    costly = str(tmp_path / 'costly')
    sysroot_tree.uksm(costly)
    sysroot_tree.meminfo(costly)
    sysroot_tree.process(costly, 17, 'uksmd')
    sysroot_tree.thread_cpu(costly, 17, 'uksmd', 300 * clock, 600 * clock, 100 * clock, '1000.00 1.00')
    unread = str(tmp_path / 'unread')  # uksmd runs, its /proc/<pid>/stat is missing
    sysroot_tree.uksm(unread)
    sysroot_tree.meminfo(unread)
    sysroot_tree.process(unread, 17, 'uksmd')
    gathered = {'costly': gather(costly), 'unread': gather(unread)}
    assert gathered['costly']['daemon_cpu']['seconds'] == 900.0 and gathered['unread']['daemon_cpu'] is None
    summary = summarize(gathered)
    rows = by_host(summary)
    cpu = gathered['costly']['daemon_cpu']
    assert rows['costly']['cpu_seconds'] == cpu['seconds'] == 900.0
    assert rows['costly']['cpu_percent_since_start'] == cpu['percent_since_start'] == 100.0
    assert rows['costly']['bytes_per_cpu_second'] == gathered['costly']['savings']['bytes_per_cpu_second'] > 0
    assert rows['unread']['cpu_seconds'] is None and rows['unread']['bytes_per_cpu_second'] is None
    assert [row['host'] for row in summary['hosts']] == ['costly', 'unread']
    assert summary['totals']['cpu_hosts'] == 1 and summary['totals']['cpu_seconds'] == 900.0
    assert summary['totals']['bytes_per_cpu_second'] == int(gathered['costly']['savings']['bytes'] / 900.0)


def test_figure_is_read_from_the_fact_never_recomputed():
    # the fact says 1000 bytes per CPU second, although bytes over seconds would give 2 MiB
    odd = fact('ksm', 4 * MiB, cpu=2.0)
    odd['savings']['bytes_per_cpu_second'] = 1000
    assert summarize({'odd': odd})['hosts'][0]['bytes_per_cpu_second'] == 1000


def test_malformed_daemon_cpu_reads_as_not_reported():
    weird = fact('uksm', MiB, 'full', cpu=1.0)
    weird['daemon_cpu'] = 'running'
    half = fact('uksm', MiB, 'full', cpu=1.0)
    half['daemon_cpu'] = {'pid': 48, 'seconds': None, 'percent_since_start': None}
    summary = summarize({'weird': weird, 'half': half})
    assert all(row['cpu_seconds'] is None and row['bytes_per_cpu_second'] is None for row in summary['hosts'])
    assert summary['totals']['cpu_hosts'] == 0 and summary['totals']['cpu_seconds'] is None


def test_hosts_are_sorted_by_what_sharing_returns_for_what_it_costs():
    summary = summarize(COSTED)
    assert [row['host'] for row in summary['hosts']] == [
        # highest bytes per CPU second first
        'hv-ksm',
        'hv-medium',
        'hv-full',
        'hv-idle',
        # then without a figure: with an interface, without, unreachable, failed; each by name
        'hv-old',
        'hv-stopped',
        'hv-zero',
        'hv-plain',
        'hv-down',
        'hv-broken',
    ]
    # the lists of names stay sorted by name
    assert summary['unreachable_hosts'] == ['hv-down'] and summary['failed_hosts'] == ['hv-broken']


def test_equal_figures_are_ordered_by_name_whatever_the_input_order():
    same = {name: fact('ksm', 10 * MiB, cpu=10.0) for name in ('hv-c', 'hv-a', 'hv-b')}
    forward = summarize(same)
    backward = summarize(dict(reversed(list(same.items()))))
    assert [row['host'] for row in forward['hosts']] == ['hv-a', 'hv-b', 'hv-c']
    assert forward == backward


def test_cost_totals_count_only_hosts_that_report_both():
    totals = summarize(COSTED)['totals']
    costed = [COSTED[host] for host in ('hv-full', 'hv-medium', 'hv-ksm', 'hv-idle', 'hv-zero')]
    assert totals['cpu_hosts'] == 5
    assert totals['cpu_seconds'] == 3600.0 + 120.5 + 2.0 + 1.5 + 0.0 == 3724.0
    # what those hosts save over what they spend: the old and the stopped host's memory is left out
    assert totals['bytes_per_cpu_second'] == int(sum(f['savings']['bytes'] for f in costed) / 3724.0)
    assert totals['saved_bytes'] == sum(f['savings']['bytes'] for f in costed) + (1 << 30) + 64 * MiB


def test_cost_totals_are_null_when_no_host_reports_cpu_time():
    for fleet in ({}, {'hv-old': fact('uksm', MiB, 'full', legacy=True)}, {'hv-plain': fact(None), 'down': None}):
        totals = summarize(fleet)['totals']
        assert totals['cpu_hosts'] == 0 and totals['cpu_seconds'] is None
        assert totals['bytes_per_cpu_second'] is None


def test_no_cpu_spent_gives_no_fleet_figure_rather_than_a_division_by_zero():
    totals = summarize({'a': fact('ksm', 4096, cpu=0.0), 'b': fact('uksm', MiB, 'full', cpu=0.0)})['totals']
    assert totals['cpu_hosts'] == 2 and totals['cpu_seconds'] == 0.0
    assert totals['bytes_per_cpu_second'] is None


def test_cpu_seconds_total_is_rounded_to_hundredths():
    fleet = {'hv-%d' % i: fact('ksm', MiB, cpu=0.1) for i in range(3)}
    assert summarize(fleet)['totals']['cpu_seconds'] == 0.3  # not 0.30000000000000004


def test_csv_appends_the_cost_and_pressure_columns_after_the_existing_ones():
    header, *lines = to_csv(summarize(COSTED)).splitlines()
    # the columns before each change keep their positions; the cost columns, then the pressure columns come last
    assert (
        header.split(',')
        == [
            'host',
            'status',
            'available',
            'backend',
            'governor',
            'saved_bytes',
            'saved_human',
            'ratio',
            'drift',
            'policy_persisted',
            'policy_error',
            'unit_enabled',
            'daemon_running',
            'reason',
            'cpu_seconds',
            'cpu_percent_since_start',
            'bytes_per_cpu_second',
            'tier',
            'available_percent',
            'tier_available_below_percent',
        ]
        == list(COLUMNS)
    )
    records = {record['host']: record for record in csv.DictReader(io.StringIO(to_csv(summarize(COSTED))))}
    assert len(lines) == len(records) == len(COSTED)
    cost = ('cpu_seconds', 'cpu_percent_since_start', 'bytes_per_cpu_second')
    assert [records['hv-full'][key] for key in cost] == ['3600.0', '100.0', str(200 * MiB // 3600)]
    assert [records['hv-idle'][key] for key in cost] == ['1.5', '0.002', '0']
    assert [records['hv-zero'][key] for key in cost] == ['0.0', '0.0', '']
    for host in ('hv-old', 'hv-stopped', 'hv-down'):
        assert [records[host][key] for key in cost] == ['', '', ''], host
    # the CSV's lines are in the report's order
    assert [line.split(',')[0] for line in lines][:4] == ['hv-ksm', 'hv-medium', 'hv-full', 'hv-idle']


@given(st.dictionaries(st.text(min_size=1, max_size=12), any_fact(), max_size=12))
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
    tiers = [f['policy'].get('tier') for f in reached if f['available']]
    assert totals['by_tier'] == {
        name: count
        for name, count in (('base', tiers.count(None)), *(('tier %d' % n, tiers.count(n)) for n in range(2)))
        if count
    }
    costed = [f for f in reached if f['available'] and f.get('daemon_cpu')]
    seconds = sum(f['daemon_cpu']['seconds'] for f in costed)
    assert totals['cpu_hosts'] == len(costed)
    assert (totals['cpu_seconds'] is None) == (not costed)
    if costed:
        assert math.isclose(totals['cpu_seconds'], seconds, abs_tol=0.006)
    # never a division by zero: no figure unless CPU time was spent
    if seconds > 0:
        # (the sums may add up in another order: one byte either way)
        expected = int(sum(f['savings']['bytes'] for f in costed) / seconds)
        assert abs(totals['bytes_per_cpu_second'] - expected) <= 1
    else:
        assert totals['bytes_per_cpu_second'] is None


@given(
    st.dictionaries(st.text(min_size=1, max_size=12), st.one_of(any_fact(), st.just({'msg': 'failed'})), max_size=12)
)
def test_order_is_a_permutation_by_figure_then_status_then_name(hosts):
    rows = summarize(hosts)['hosts']
    assert sorted(row['host'] for row in rows) == sorted(hosts)
    figures = [row['bytes_per_cpu_second'] for row in rows]
    measured = [figure for figure in figures if figure is not None]
    # every host with a figure comes before every host without one, highest figure first
    assert figures[: len(measured)] == measured == sorted(measured, reverse=True)
    rest = [(STATUSES.index(row['status']), row['host']) for row in rows[len(measured) :]]
    assert rest == sorted(rest)


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


# memory pressure: the tier in force and the memory available, host by host
PRESSED = {
    'hv-base': fact('uksm', MiB, 'quiet', thresholds=(30, 10), available_percent=62.5),
    'hv-tier0': fact('uksm', MiB, 'medium', tier=0, thresholds=(30, 10), available_percent=24.0),
    'hv-tier1': fact('uksm', MiB, 'full', tier=1, thresholds=(30, 10), available_percent=8.5),
    'hv-other': fact('ksm', MiB, tier=0, thresholds=(20,), available_percent=15.0),  # other thresholds
    'hv-untiered': fact('ksm', MiB, available_percent=71.2),  # no tiers at all
    'hv-old': fact('uksm', MiB, 'low', legacy=True),  # a collection before pressure tiers
    'hv-plain': fact(None, available_percent=90.0),  # no interface: no tier, availability still measured
    'hv-down': None,
}


def test_pressure_columns_of_each_host():
    rows = by_host(summarize(PRESSED))

    def pressure(host):
        return [rows[host][key] for key in ('tier', 'available_percent', 'tier_available_below_percent')]

    assert pressure('hv-base') == [None, 62.5, None]
    assert pressure('hv-tier0') == [0, 24.0, 30]
    assert pressure('hv-tier1') == [1, 8.5, 10]
    assert pressure('hv-other') == [0, 15.0, 20]
    assert pressure('hv-untiered') == [None, 71.2, None]
    # facts without the keys read as the base, availability unknown: never an error
    assert pressure('hv-old') == [None, None, None]
    assert pressure('hv-plain') == [None, 90.0, None]
    assert pressure('hv-down') == [None, None, None]


def test_hosts_are_counted_per_tier_by_index():
    summary = summarize(PRESSED)
    # hosts with an interface only, as by_backend; tier 0 of hv-other has another threshold, same index
    assert summary['totals']['by_tier'] == {'base': 3, 'tier 0': 2, 'tier 1': 1}
    assert sum(summary['totals']['by_tier'].values()) == sum(summary['totals']['by_backend'].values())
    assert summarize({})['totals']['by_tier'] == {}


@pytest.mark.parametrize(
    'tier, pressure',
    [
        (True, {'tiers': [{'available_below_percent': 30}]}),  # a bool is no index
        (-1, {'tiers': [{'available_below_percent': 30}]}),
        ('0', {'tiers': [{'available_below_percent': 30}]}),
    ],
)
def test_malformed_tier_reads_as_the_base(tier, pressure):
    gathered = fact('uksm', MiB, 'full')
    gathered['policy'].update(tier=tier, pressure=pressure)
    row = summarize({'hv': gathered})['hosts'][0]
    assert row['tier'] is None and row['tier_available_below_percent'] is None


@pytest.mark.parametrize('pressure', [None, {}, {'tiers': []}, {'tiers': ['x']}, 'tiers', {'tiers': [{}]}])
def test_tier_without_its_threshold_keeps_the_index(pressure):
    gathered = fact('uksm', MiB, 'full')
    gathered['policy'].update(tier=0, pressure=pressure)
    row = summarize({'hv': gathered})['hosts'][0]
    assert row['tier'] == 0 and row['tier_available_below_percent'] is None


@pytest.mark.parametrize('value', [True, '27.3', [27.3]])
def test_malformed_availability_reads_as_unknown(value):
    gathered = fact('uksm', MiB, 'full')
    gathered['policy']['available_percent'] = value
    assert summarize({'hv': gathered})['hosts'][0]['available_percent'] is None


def test_csv_pressure_columns():
    records = {record['host']: record for record in csv.DictReader(io.StringIO(to_csv(summarize(PRESSED))))}
    pressure = ('tier', 'available_percent', 'tier_available_below_percent')
    assert [records['hv-tier1'][key] for key in pressure] == ['1', '8.5', '10']
    assert [records['hv-base'][key] for key in pressure] == ['', '62.5', '']
    assert [records['hv-old'][key] for key in pressure] == ['', '', '']
    assert list(records['hv-tier1'])[-3:] == list(pressure)
