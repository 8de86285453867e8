# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout summary: one row per host, batches in order, JUnit that CI systems can read."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.litevirt.uksm.plugins.plugin_utils.rollout import junit, summarize

CHANGE = {'name': 'sleep_millisecs', 'before': 100, 'after': 200}


def _fleet():
    preflight = {'available': True, 'backend': 'uksm', 'reason': '', 'drift': []}
    return {
        'canary': {
            'rollout_preflight': preflight,
            'rollout_result': {'status': 'changed', 'changes': [CHANGE], 'batch': ['canary'], 'reason': ''},
        },
        'a': {
            'rollout_preflight': dict(preflight, drift=['run']),
            'rollout_result': {'status': 'ok', 'changes': [], 'batch': ['a', 'b'], 'reason': ''},
        },
        'b': {
            'rollout_preflight': preflight,
            'rollout_result': {
                'status': 'failed',
                'changes': [],
                'batch': ['a', 'b'],
                'reason': 'Apply: writing run=1 failed: EIO <&>',
            },
        },
        'later': {'rollout_preflight': preflight},
        'gone': {},
    }


def test_rows_statuses_and_batches():
    summary = summarize(_fleet(), ['canary', 'a', 'b', 'later', 'gone'], False)
    assert [(row['host'], row['status'], row['batch']) for row in summary['hosts']] == [
        ('canary', 'changed', 1),
        ('a', 'ok', 2),
        ('b', 'failed', 2),
        ('later', 'not reached', None),
        ('gone', 'unreachable', None),
    ]
    assert summary['failed_hosts'] == ['b'] and not summary['passed']
    assert summary['drifted_before'] == ['a'] and summary['would_change'] == []
    assert summary['counts'] == {'failed': 1, 'changed': 1, 'ok': 1, 'skipped': 0, 'not reached': 1, 'unreachable': 1}


def test_check_mode_lists_what_would_change():
    fleet = _fleet()
    del fleet['b']['rollout_result']
    summary = summarize(fleet, ['canary', 'a', 'b'], True)
    assert summary['check_mode'] and summary['would_change'] == ['canary']


def test_junit_is_well_formed_and_escaped():
    summary = summarize(_fleet(), ['canary', 'a', 'b', 'later', 'gone'], False)
    root = ET.fromstring(junit(summary).split('\n', 1)[1])
    suites = {suite.get('name'): suite for suite in root}
    assert list(suites) == ['batch 1', 'batch 2', 'not reached']
    assert suites['batch 2'].get('failures') == '1' and suites['batch 2'].get('tests') == '2'
    failure = root.find(".//testcase[@name='b']/failure")
    assert failure.get('message') == 'Apply: writing run=1 failed: EIO <&>'
    assert root.find(".//testcase[@name='later']/skipped").get('message') == 'not reached'
    assert root.find(".//testcase[@name='gone']/error") is not None
    assert 'sleep_millisecs: 100 -> 200' in root.find(".//testcase[@name='canary']/system-out").text


def test_rows_carry_the_pressure_tier_before_and_after():
    fleet = _fleet()
    fleet['canary']['rollout_preflight'] = dict(fleet['canary']['rollout_preflight'], tier=1)
    fleet['canary']['rollout_result'] = dict(fleet['canary']['rollout_result'], tier=0)
    fleet['later']['rollout_preflight'] = dict(fleet['later']['rollout_preflight'], tier=0)
    rows = {row['host']: row for row in summarize(fleet, ['canary', 'a', 'later', 'gone'], False)['hosts']}
    assert (rows['canary']['tier_before'], rows['canary']['tier']) == (1, 0)
    assert (rows['a']['tier_before'], rows['a']['tier']) == (None, None)  # facts of before tiers existed
    assert (rows['later']['tier_before'], rows['later']['tier']) == (0, 0)  # not reached: as it was
    assert (rows['gone']['tier_before'], rows['gone']['tier']) == (None, None)


def test_junit_shows_list_values_as_the_kernel_prints_them_not_as_python():
    fleet = _fleet()
    ratios = {'name': 'cpu_ratios', 'before': ['20', '40', 'MAX/4', 'MAX/1'], 'after': ['20', '30', 'MAX/4', 'MAX/1']}
    intervals = {'name': 'eval_intervals', 'before': [1000, 500, 200, 50], 'after': [1000, 500, 400, 100]}
    fleet['canary']['rollout_result']['changes'] = [ratios, intervals]
    text = junit(summarize(fleet, ['canary'], False))
    out = ET.fromstring(text.split('\n', 1)[1]).find(".//testcase[@name='canary']/system-out").text
    assert (
        out
        == 'changed: cpu_ratios: 20 40 MAX/4 MAX/1 -> 20 30 MAX/4 MAX/1; eval_intervals: 1000 500 200 50 -> 1000 500 400 100'
    )
    assert '[' not in text and "'" not in text.split('\n', 1)[1]
