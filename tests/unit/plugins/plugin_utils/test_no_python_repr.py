# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the report and the rollout write for people and CI never shows a Python dict or list.

A fleet with every kind of host (UKSM and KSM, drifted, under a pressure tier, an older collection's
facts, without UKSM/KSM, unreachable, facts failed) and a rollout with list values (cpu_ratios,
eval_intervals) and every status: the HTML page, the CSV, the rollout summary and JUnit."""

from __future__ import annotations

import json
import re

from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize, to_csv
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import to_html
from ansible_collections.litevirt.uksm.plugins.plugin_utils.rollout import junit
from ansible_collections.litevirt.uksm.plugins.plugin_utils.rollout import summarize as rollout_summary
from ansible_collections.litevirt.uksm.tests.helpers.fleet_facts import fact

REPRS = ("{'", "['", "':", "',", "(')", 'None', 'True', 'False')

FLEET = {
    'hv-uksm': fact(
        'uksm', 733478912, 'full', cpu=7200.0, percent=8.3, tier=0, thresholds=[30], available_percent=25.0
    ),
    'hv-drift': fact(
        'uksm', 4096, 'medium', drift=['cpu_governor', 'cpu_ratios'], settings={'uksm': {'cpu_ratios': '10 20 40 75'}}
    ),
    'hv-ksm': fact('ksm', 17203200, cpu=12.0, percent=0.1),
    'hv-old': fact('ksm', 8192, legacy=True),
    'hv-plain': fact(None),
    'hv-down': None,
    'hv-broken': {'failed': True, 'msg': 'Task failed: sysroot must be an absolute path'},
}

RATIOS = {'name': 'cpu_ratios', 'before': ['20', '40', 'MAX/4', 'MAX/1'], 'after': ['20', '30', 'MAX/4', 'MAX/1']}
INTERVALS = {'name': 'eval_intervals', 'before': [1000, 500, 200, 50], 'after': [1000, 500, 400, 100]}
PREFLIGHT = {'available': True, 'backend': 'uksm', 'reason': '', 'drift': ['cpu_ratios', 'sleep_millisecs']}
ROLLOUT = {
    'hv-1': {
        'rollout_preflight': PREFLIGHT,
        'rollout_result': {'status': 'changed', 'changes': [RATIOS, INTERVALS], 'batch': 'hv-1', 'reason': ''},
    },
    'hv-2': {
        'rollout_preflight': PREFLIGHT,
        'rollout_result': {'status': 'failed', 'changes': [], 'batch': 'hv-2', 'reason': 'Apply: writing run=1 failed'},
    },
    'hv-3': {'rollout_preflight': dict(PREFLIGHT, available=False, backend=None, reason='no UKSM or KSM')},
    'hv-4': {},
}


def _without_reprs(name: str, text: str) -> None:
    found = [marker for marker in REPRS if marker in text]
    assert not found, (name, found, text[max(0, text.find(found[0]) - 200) : text.find(found[0]) + 200])


def test_report_page_and_csv_show_no_python_repr_for_any_kind_of_host():
    summary = summarize(FLEET)
    assert {row['status'] for row in summary['hosts']} == {'ok', 'unavailable', 'unreachable', 'failed'}
    page = to_html(summary, generated='2026-12-05 04:00:00 UTC')
    # the page's own script and style are code, not what it shows
    shown = re.sub(r'<(script|style)[^>]*>.*?</\1>', '', page, flags=re.S)
    assert 'hv-broken' in shown and 'sysroot must be an absolute path' in shown
    _without_reprs('report.html', shown)
    _without_reprs('report.csv', to_csv(summary))


def test_rollout_summary_and_junit_show_no_python_repr():
    summary = rollout_summary(ROLLOUT, list(ROLLOUT), False)
    assert {row['status'] for row in summary['hosts']} >= {'changed', 'failed', 'unreachable'}
    _without_reprs('junit.xml', junit(summary))
    # summary.json is JSON: lists as JSON lists, never a Python repr inside a string
    _without_reprs('summary.json', json.dumps(summary).replace('null', '').replace('true', '').replace('false', ''))
