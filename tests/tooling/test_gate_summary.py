# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/tools/gate_summary.py: the tail of `make test` names what failed and shows why."""

from __future__ import annotations

from gate_summary import FAILURE_LINES, LINE_CHARACTERS, TAIL_LINES, summary

GATES = """nox > Running session lint
nox > Running session formatters
nox > Session formatters was successful in 3 seconds.
nox > Session lint was successful in 1 seconds.
nox > Running session ansible-test-units
%s
FAILED tests/unit/test_x.py::test_y - assert 1 == 2
nox > Session ansible-test-units failed.
nox > Running session component
collecting
"""


def test_failed_and_unfinished_sessions_are_named_with_their_last_lines(tmp_path) -> None:
    log = tmp_path / 'gates.log'
    log.write_text(GATES % '\n'.join('noise %d' % number for number in range(100)))
    lines = summary([str(log), str(tmp_path / 'molecule.log')])
    assert lines[-1] == (
        'make test: formatters: successful; lint: successful; ansible-test-units: failed;'
        ' component: did not finish; %s: cannot be read (No such file or directory)' % (tmp_path / 'molecule.log')
    )
    failed = lines.index('---- the last %d lines of ansible-test-units (failed), from %s ----' % (TAIL_LINES, log))
    assert lines[failed + TAIL_LINES] == 'FAILED tests/unit/test_x.py::test_y - assert 1 == 2'
    assert lines[failed + 1] == 'noise %d' % (100 - TAIL_LINES + 1)
    assert lines[-3:-1] == [
        '---- the last %d lines of component (did not finish), from %s ----' % (TAIL_LINES, log),
        'collecting',
    ]


def test_a_green_run_prints_only_the_results_line(tmp_path) -> None:
    log = tmp_path / 'molecule.log'
    log.write_text('nox > Running session molecule\nall good\nnox > Session molecule was successful in an hour.\n')
    assert summary([str(log)]) == ['make test: molecule: successful']


MOLECULE = """nox > Running session molecule
TASK [Run the role with bad input (expected to fail)] ***************************
fatal: [guest]: FAILED! => {"changed": false, "msg": "rescued"}

TASK [Probe (ignored)] **********************************************************
fatal: [guest]: FAILED! =>
    msg: ignored
...ignoring

TASK [Facts agree on the base] **************************************************
fatal: [guest]: FAILED! =>
    assertion: policy.drift == []
    evaluated_to: false
    msg: '%s'

PLAY RECAP *********************************************************************
guest                      : ok=9    changed=2    unreachable=0    failed=1
%s
nox > Session molecule failed.
"""


def test_a_failed_ansible_run_repeats_its_last_failed_task_after_the_tail(tmp_path) -> None:
    log = tmp_path / 'molecule.log'
    log.write_text(MOLECULE % ('x' * 2000, '\n'.join('recap %d' % number for number in range(60))))
    lines = summary([str(log)])
    assert lines[-1] == 'make test: molecule: failed'
    start = lines.index('---- the last Ansible task that failed in molecule ----')
    assert lines[start + 1 : start + 5] == [
        'TASK [Facts agree on the base] **************************************************',
        'fatal: [guest]: FAILED! =>',
        '    assertion: policy.drift == []',
        '    evaluated_to: false',
    ]
    assert lines[start + 5] == "    msg: '" + 'x' * (LINE_CHARACTERS - 10) + ' [...]'
    assert lines[start + 6 :] == ['make test: molecule: failed']


def test_a_long_failure_message_is_cut_to_its_first_lines(tmp_path) -> None:
    log = tmp_path / 'molecule.log'
    message = '\n'.join('    line %d' % number for number in range(100))
    log.write_text(
        'nox > Running session molecule\nfatal: [guest]: FAILED! =>\n%s\nnox > Session molecule failed.\n' % message
    )
    lines = summary([str(log)])
    start = lines.index('---- the last Ansible task that failed in molecule ----')
    assert lines[start + 1] == 'fatal: [guest]: FAILED! =>'
    assert lines[start + FAILURE_LINES] == '    line %d' % (FAILURE_LINES - 2)
    assert lines[start + FAILURE_LINES + 1] == '    [... %d more lines]' % (101 - FAILURE_LINES)


def test_a_session_that_failed_without_an_ansible_failure_shows_only_its_tail(tmp_path) -> None:
    log = tmp_path / 'molecule.log'
    log.write_text('nox > Running session molecule\nfailed: to boot\nnox > Session molecule failed.\n')
    lines = summary([str(log)])
    assert not any(line.startswith('---- the last Ansible task') for line in lines)
