# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Arbitrary settings become Problems naming the attribute, never a traceback; a corrupt policy file
makes the boot applier fail with one FAILED line and write nothing to the kernel."""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import BACKENDS, KSM, UKSM, Backend
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.plan import HostState, drift, make_plan

PURE = settings(max_examples=200, deadline=None)

# values a user (or a corrupt policy) could plausibly write, besides arbitrary ones
PLAUSIBLE = [
    '1',
    '0',
    ' 1 ',
    '+1',
    '-0',
    '-1',
    '2',
    '10000',
    'full',
    'medium',
    'quiet',
    ' full',
    'full [medium]',
    'none',
    'scan-time',
    'true',
    'on',
    'off',
    'maybe',
    '20 40 MAX/4 MAX/1',
    '20 40 MAX/4',
    'MAX/0',
    'MAX/+4',
    'MAX/10000',
    'MAX/10001',
    '1 2 3 4',
    '1 2 3 4294967296',
    '0x10',
    '1e3',
    '1.0',
    '\u0661',
    '../x',
    '',
]
SCALAR = st.one_of(
    st.integers(), st.text(max_size=24), st.booleans(), st.floats(), st.none(), st.sampled_from(PLAUSIBLE)
)
RUNG = st.one_of(SCALAR, st.sampled_from(['20', '40', 'MAX/4', 'MAX/1', 'MAX/', 'MAX/x', 'MAX/-1', '+7']))
VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=6), st.lists(RUNG, min_size=4, max_size=4))


def _state(backend: Backend, daemon_running: bool, pages_shared: int, advisor_mode: str) -> HostState:
    """The kernel defaults of the model, as test_plan.py builds its states."""
    tunables = {name: attr.default for name, attr in backend.attrs.items() if attr.writable}
    if backend is UKSM:
        return HostState(
            tunables,
            {'cpu_governor': ['full', 'medium', 'low', 'quiet']},
            {'pages_shared': pages_shared},
            daemon_running,
        )
    tunables['advisor_mode'] = advisor_mode
    return HostState(tunables, {'advisor_mode': ['none', 'scan-time']}, {'pages_shared': pages_shared}, daemon_running)


def _desired(backend: Backend) -> st.SearchStrategy[dict[str, t.Any]]:
    names = st.one_of(
        st.sampled_from(sorted(backend.attrs)),
        st.sampled_from(sorted(UKSM.attrs) + sorted(KSM.attrs)),
        st.text(max_size=12),
        st.sampled_from(['../x', '/etc/x', '', 'RUN', 'run ', 'cpu_gov', 'A']),
    )
    return st.dictionaries(names, VALUE, max_size=6)


def _check_plan(backend: Backend, state: HostState, desired: dict[str, t.Any], allow: bool) -> None:
    kernel_attrs = list(backend.attrs)
    plan = make_plan(backend, kernel_attrs, state, desired, allow_eval_intervals=allow, allow_unmerge=allow)
    for problem in plan.problems:
        # the name leads: as 'name: value why' or, when the name is the mistake, 'name (given value) why'
        assert str(problem).startswith(problem.name + (': ' if problem.known else ' (given '))
        assert '; accepted: ' in str(problem)
    named = {problem.name for problem in plan.problems}
    for name in desired:
        # every entry is either a valid setting or a Problem naming it
        assert name in plan.desired or name in named, name
    assert set(plan.desired) <= set(desired) and all(backend.attrs[name].writable for name in plan.desired)
    if plan.problems:
        assert plan.steps == []
    assert [step.name for step in plan.steps] == backend.write_order(step.name for step in plan.steps)
    assert all(step.text.endswith('\n') for step in plan.steps)
    names, problems, raised = drift(backend, kernel_attrs, state, desired)
    assert set(names) <= set(desired) and all(isinstance(problem, str) for problem in problems)
    assert not set(raised) & set(names) and set(raised) <= set(desired)


@PURE
@given(st.data(), st.booleans(), st.integers(0, 5), st.booleans())
def test_uksm_plan_of_arbitrary_settings_reports_problems_instead_of_raising(
    data: st.DataObject, daemon_running: bool, pages_shared: int, allow: bool
) -> None:
    desired = data.draw(_desired(UKSM))
    _check_plan(UKSM, _state(UKSM, daemon_running, pages_shared, 'none'), desired, allow)


@PURE
@given(st.data(), st.booleans(), st.integers(0, 5), st.sampled_from(['none', 'scan-time']), st.booleans())
def test_ksm_plan_of_arbitrary_settings_reports_problems_instead_of_raising(
    data: st.DataObject, daemon_running: bool, pages_shared: int, advisor_mode: str, allow: bool
) -> None:
    desired = data.draw(_desired(KSM))
    _check_plan(KSM, _state(KSM, daemon_running, pages_shared, advisor_mode), desired, allow)


TOO_MANY_DIGITS = '7' * 4301  # int() refuses more than sys.get_int_max_str_digits() (4300) digits
HUGE = [
    ('uksm', 'run', TOO_MANY_DIGITS),
    ('ksm', 'pages_to_scan', TOO_MANY_DIGITS),
    ('ksm', 'use_zero_pages', TOO_MANY_DIGITS),
    ('uksm', 'eval_intervals', ['1', '2', '3', TOO_MANY_DIGITS]),
    ('uksm', 'cpu_ratios', ['20', '40', 'MAX/4', TOO_MANY_DIGITS]),
    ('uksm', 'cpu_ratios', ['20', '40', 'MAX/4', 'MAX/' + TOO_MANY_DIGITS]),
    ('uksm', 'cpu_ratios', '20 40 MAX/\u00b2 MAX/1'),  # a superscript two: str.isdigit() but not int()
]


@pytest.mark.parametrize(
    'backend, name, value', HUGE, ids=['%s-%s-%d' % (case[0], case[1], index) for index, case in enumerate(HUGE)]
)
def test_number_that_int_cannot_read_is_refused_as_a_problem(backend: str, name: str, value: t.Any) -> None:
    model = BACKENDS[backend]
    plan = make_plan(model, list(model.attrs), _state(model, True, 0, 'none'), {name: value})
    assert plan.steps == [] and [problem.name for problem in plan.problems] == [name]
    assert str(plan.problems[0]).startswith(name + ': ')
