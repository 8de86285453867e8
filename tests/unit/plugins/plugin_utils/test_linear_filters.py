# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters behind the report and the rollout do work in proportion to the hosts: counted, never timed.

The work of a call is the lines of Python it runs plus every comparison and hash of a host name (names are
a ``str`` subclass that counts them, so list membership, ``index()`` and sorts of names, which run in C, are
counted too). At four times the hosts a linear filter does about four times the work; sorting adds a
logarithmic factor (at most 1.3 from 100 to 400 hosts); a per-host scan of all hosts would give 16.
"""

from __future__ import annotations

import functools
import sys
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize, to_csv
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import to_html
from ansible_collections.litevirt.uksm.plugins.plugin_utils.rollout import junit
from ansible_collections.litevirt.uksm.plugins.plugin_utils.rollout import summarize as rollout_summary
from ansible_collections.litevirt.uksm.tests.helpers.fleet_facts import fact

SMALL, LARGE = 100, 400
# the most work 4 times the hosts may cost: 4, times the sort's log factor, with a margin
MOST = 5.5


class Name(str):
    """A host name that counts its comparisons and hashes."""

    operations = 0

    def __eq__(self, other: object) -> bool:
        Name.operations += 1
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        Name.operations += 1
        return str.__ne__(self, other)

    def __lt__(self, other: str) -> bool:
        Name.operations += 1
        return str.__lt__(self, other)

    def __gt__(self, other: str) -> bool:
        Name.operations += 1
        return str.__gt__(self, other)

    def __hash__(self) -> int:
        Name.operations += 1
        return str.__hash__(self)


def work(call: t.Callable[[], t.Any]) -> int:
    """Lines run and host names compared or hashed while ``call`` runs (the tracer already in place, such
    as coverage's, is put back afterwards)."""
    lines = 0

    def tracer(frame: t.Any, event: str, arg: t.Any) -> t.Any:
        nonlocal lines
        lines += event == 'line'
        return tracer

    previous = sys.gettrace()
    Name.operations = 0
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(previous)
    return lines + Name.operations


def facts_of(count: int) -> dict:
    """``count`` hosts of every kind the report knows, their figures all different."""
    hosts: dict = {}
    for index in range(count):
        name = Name('hv%05d' % index)
        if index % 10 == 9:
            hosts[name] = None if index % 20 == 9 else fact(None)
            continue
        hosts[name] = fact(
            'ksm' if index % 3 else 'uksm',
            4096 * (index + 1) * 7919 % (1 << 40),
            'full',
            drift=['run'] if index % 7 == 0 else [],
            cpu=None if index % 11 == 0 else 1.0 + index * 13 % 997,
            percent=0.5,
            tier=index % 3 or None,
            thresholds=(40, 20, 10),
            available_percent=index % 90 + 0.5,
        )
    return hosts


def rollout_of(count: int, batch: int, listed: bool = False) -> tuple:
    """hostvars and play order of a rollout of ``count`` hosts in batches of ``batch``, the last quarter not
    reached; each host's batch recorded as the playbook does (its first host) or, ``listed``, as earlier
    versions of it did (the list of its hosts)."""
    names = [Name('hv%05d' % index) for index in range(count)]
    variables: dict = {}
    for position, name in enumerate(names):
        first = position - position % batch
        variables[name] = {'rollout_preflight': {'backend': 'ksm', 'drift': ['run'] if position % 5 else []}}
        if position < count * 3 // 4:
            variables[name]['rollout_result'] = {
                'status': 'changed' if position % 2 else 'ok',
                'changes': [{'name': 'run', 'before': 0, 'after': 1}],
                'batch': names[first : first + batch] if listed else names[first],
                'reason': '',
            }
    return variables, names


def growth(make: t.Callable[[int], t.Callable[[], t.Any]]) -> float:
    """Work at LARGE hosts over work at SMALL hosts."""
    return work(make(LARGE)) / work(make(SMALL))


def rendering(render: t.Callable[[t.Any], t.Any]) -> t.Callable[[int], t.Callable[[], t.Any]]:
    """The work of rendering the summary of ``count`` hosts (summarised beforehand, outside the count)."""

    def make(count: int) -> t.Callable[[], t.Any]:
        summary = summarize(facts_of(count))
        return functools.partial(render, summary)

    return make


@pytest.mark.parametrize(
    'name, make',
    [
        ('fleet_summary', lambda count: functools.partial(summarize, facts_of(count))),
        ('fleet_csv', rendering(to_csv)),
        ('fleet_html', rendering(to_html)),
    ],
)
def test_report_filters_do_linear_work(name, make):
    assert growth(make) < MOST, name


@pytest.mark.parametrize('listed', [False, True], ids=['first host', 'hosts of the batch'])
@pytest.mark.parametrize('batch', [1, 10, 'quarter'])
def test_rollout_filters_do_linear_work_whatever_the_batch_size(batch, listed):
    def size(count: int) -> int:
        return count // 4 if batch == 'quarter' else t.cast(int, batch)

    def summary_of(count: int) -> t.Callable[[], t.Any]:
        variables, names = rollout_of(count, size(count), listed)
        return lambda: rollout_summary(variables, names, False)

    def junit_of(count: int) -> t.Callable[[], t.Any]:
        variables, names = rollout_of(count, size(count), listed)
        summary = rollout_summary(variables, names, False)
        return lambda: junit(summary)

    assert growth(summary_of) < MOST
    assert growth(junit_of) < MOST


def test_the_counter_sees_a_quadratic_search():
    # the counter itself: a search of a list of names for every name is quadratic, and counted as such
    def search(count: int) -> t.Callable[[], t.Any]:
        names = [Name('hv%05d' % index) for index in range(count)]
        return lambda: [names.index(name) for name in names]

    assert growth(search) > 12


def test_batches_recorded_as_lists_of_hosts_are_numbered_as_by_their_first_host():
    listed = rollout_summary(*rollout_of(12, 4, listed=True), False)
    assert [row['batch'] for row in listed['hosts']] == [1, 1, 1, 1, 2, 2, 2, 2, 3, None, None, None]
    assert rollout_summary(*rollout_of(12, 4), False) == listed
