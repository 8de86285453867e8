# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each change names its cause, and the summary line adds up."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import KSM, UKSM
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.changes import REQUESTED, cause, summary
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.plan import Step


def change(name, why=REQUESTED):
    return {'name': name, 'before': 0, 'after': 1, 'cause': why}


def test_a_requested_attribute_is_requested_even_when_a_governor_write_resets_it():
    steps = [Step('cpu_governor', 'full', 'medium', 'medium\n')]
    assert cause(UKSM, 'cpu_ratios', {'cpu_governor': 'medium', 'cpu_ratios': []}, steps) == REQUESTED


def test_an_attribute_the_governor_resets_names_the_governor():
    steps = [Step('cpu_governor', 'full', 'medium', 'medium\n'), Step('sleep_millisecs', 100, 200, '200\n')]
    for name in ('cpu_ratios', 'eval_intervals', 'max_cpu_percentage'):
        assert cause(UKSM, name, {'cpu_governor': 'medium'}, steps) == 'reset by cpu_governor'


def test_pages_to_scan_after_an_advisor_change_names_advisor_mode():
    steps = [Step('advisor_mode', 'none', 'scan-time', 'scan-time\n')]
    assert cause(KSM, 'pages_to_scan', {'advisor_mode': 'scan-time'}, steps) == 'reset by advisor_mode'


def test_a_change_nothing_written_explains_is_said_to_come_from_outside():
    steps = [Step('sleep_millisecs', 100, 200, '200\n')]
    assert cause(UKSM, 'thrash_threshold', {'sleep_millisecs': 200}, steps) == 'changed outside this run'


def test_summary_of_the_demo_boot_adds_up():
    changes = [
        change('cpu_governor'),
        change('max_cpu_percentage', 'reset by cpu_governor'),
        change('cpu_ratios', 'reset by cpu_governor'),
        change('eval_intervals', 'reset by cpu_governor'),
        change('sleep_millisecs'),
    ]
    assert summary(['run', 'cpu_governor', 'sleep_millisecs'], changes) == (
        '3 requested, 5 changed: cpu_governor reset max_cpu_percentage, cpu_ratios and eval_intervals; run already set'
    )


def test_summary_without_changes_says_everything_was_already_set():
    assert summary(['run', 'sleep_millisecs'], []) == '2 requested, 0 changed: all already set'


def test_summary_when_everything_requested_changed_has_no_tail():
    assert summary(['run'], [change('run')]) == '1 requested, 1 changed'


def test_summary_names_a_change_from_outside():
    changes = [change('run'), change('thrash_threshold', 'changed outside this run')]
    assert summary(['run'], changes) == '1 requested, 2 changed: thrash_threshold changed outside this run'


NAMES = ('run', 'sleep_millisecs', 'cpu_governor', 'cpu_ratios', 'eval_intervals', 'max_cpu_percentage')


@given(
    requested=st.lists(st.sampled_from(NAMES), unique=True),
    reset=st.lists(st.sampled_from(('cpu_ratios', 'eval_intervals', 'max_cpu_percentage')), unique=True),
    written=st.data(),
)
def test_summary_counts_add_up(requested, reset, written):
    changed_requested = written.draw(st.lists(st.sampled_from(requested), unique=True)) if requested else []
    resets = [name for name in reset if name not in requested]
    changes = [change(name) for name in changed_requested] + [change(name, 'reset by cpu_governor') for name in resets]
    text = summary(requested, changes)
    assert text.startswith('%d requested, %d changed' % (len(requested), len(changes)))
    for name in resets:
        assert name in text.split('cpu_governor reset ', 1)[1]
    unchanged = [name for name in requested if name not in changed_requested]
    assert ('already set' in text) == bool(unchanged)
