# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failures the integration targets and the molecule scenario expect are named as expected in the log.

A negative test prints ``fatal:`` and ``[ERROR]: Task failed`` lines like a real failure. So that a
reader of a CI log can tell them apart, every task that is expected to fail carries ``expected to
fail`` in its name, which ansible-playbook prints in the ``TASK [...]`` line above the failure. A task
is expected to fail when it ignores errors (``ignore_errors``, ``ignore_unreachable``), redefines
failure (``failed_when``: here it always turns an expected failure into success), is the task of a
``block`` whose ``rescue`` checks the failure, or is registered into a variable an assertion then
requires to be ``failed``. A failure inside a role shows the role's task name instead, so the first
task of a ``rescue`` says ``the failure above was expected``: its ``TASK [...]`` line follows the
``fatal:`` line at once. A shell script of a target that runs a playbook expected to fail says so
(an ``echo``) just before its ``set +e``.
"""

from __future__ import annotations

import os
import re
import typing as t

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIRECTORIES = (os.path.join('tests', 'integration', 'targets'), os.path.join('extensions', 'molecule'))
MARK = 'expected to fail'
# what the first task of a rescue says, right below the failure it caught
RESCUED = 'the failure above was expected'
# the task sections of a play
SECTIONS = ('pre_tasks', 'tasks', 'post_tasks', 'handlers')
# an assertion that the registered variable failed: `bad is failed`, `bad.results[0] is failed`
ASSERTED_FAILED = re.compile(r'(?<![\w.])([A-Za-z_]\w*)(?:\.results\[\d+\])?\s+is\s+failed\b')


def _files(suffixes: tuple[str, ...]) -> list[str]:
    found = []
    for directory in DIRECTORIES:
        for parent, subdirectories, files in os.walk(os.path.join(ROOT, directory)):
            subdirectories.sort()
            found += [os.path.join(parent, name) for name in sorted(files) if name.endswith(suffixes)]
    return found


def _relative(path: str) -> str:
    return os.path.relpath(path, ROOT)


def _task_lists(document: t.Any) -> list[list[dict[str, t.Any]]]:
    """The task lists of a playbook (each play's sections) or of a task file; none of other YAML."""
    if not isinstance(document, list):
        return []  # molecule.yml, inventories, variable files
    plays = [item for item in document if isinstance(item, dict) and 'hosts' in item]
    if plays:
        return [play.get(section) or [] for play in plays for section in SECTIONS]
    return [[item for item in document if isinstance(item, dict)]]


def _flat(tasks: list[dict[str, t.Any]]) -> t.Iterator[dict[str, t.Any]]:
    """Every task and block, the tasks of blocks included."""
    for task in tasks:
        yield task
        for section in ('block', 'rescue', 'always'):
            yield from _flat(task.get(section) or [])


def _marked(task: dict[str, t.Any]) -> bool:
    return MARK in str(task.get('name', '')).lower()


def _assertions(task: dict[str, t.Any]) -> list[str]:
    arguments = task.get('ansible.builtin.assert') or task.get('assert')
    if not isinstance(arguments, dict):
        return []
    that = arguments.get('that', [])
    return [str(item) for item in (that if isinstance(that, list) else [that])]


def unmarked_tasks(document: t.Any) -> list[str]:
    """Why each task of ``document`` that is expected to fail lacks the mark in its name."""
    problems = []
    registered: dict[str, dict[str, t.Any]] = {}
    asserted_failed: list[str] = []
    for tasks in _task_lists(document):
        for task in _flat(tasks):
            name = task.get('name', '(unnamed)')
            if 'block' in task:
                rescue = task.get('rescue') or []
                if rescue and RESCUED not in str(rescue[0].get('name', '')):
                    problems.append('block %r: the first task of its rescue is not named %r' % (name, RESCUED))
                if rescue and not any(_marked(inner) for inner in _flat(task['block'])):
                    problems.append(
                        'block %r: its rescue expects a failure, but no task of the block is named %r' % (name, MARK)
                    )
                continue
            keywords = [keyword for keyword in ('ignore_errors', 'ignore_unreachable') if task.get(keyword)]
            keywords += ['failed_when'] if 'failed_when' in task else []
            if not _marked(task):
                problems += [
                    'task %r: %s, but its name does not say %r' % (name, keyword, MARK) for keyword in keywords
                ]
            if 'register' in task:
                registered[task['register']] = task
            for expression in _assertions(task):
                asserted_failed += ASSERTED_FAILED.findall(expression)
    for variable in asserted_failed:
        task = registered.get(variable)
        if task is not None and not _marked(task):
            problem = 'task %r: an assertion requires %s to be failed, but its name does not say %r' % (
                task.get('name', '(unnamed)'),
                variable,
                MARK,
            )
            if problem not in problems:
                problems.append(problem)
    return problems


def unannounced_failures(script: str) -> list[int]:
    """Line numbers of the ``set +e`` of a script that no line among the 3 before it announces."""
    lines = script.splitlines()
    return [
        number + 1
        for number, line in enumerate(lines)
        if line.strip() == 'set +e' and not any(MARK in before.lower() for before in lines[max(0, number - 3) : number])
    ]


YAML_FILES = _files(('.yml', '.yaml'))
SCRIPTS = _files(('.sh',))


def test_the_targets_and_the_scenario_are_found():
    found = {_relative(path) for path in YAML_FILES}
    assert 'tests/integration/targets/uksm_tunable/tunable.yml' in found
    assert 'extensions/molecule/real_kernel/verify_bad_input.yml' in found
    assert 'tests/integration/targets/rollout/runme.sh' in {_relative(path) for path in SCRIPTS}


@pytest.mark.parametrize('path', YAML_FILES, ids=_relative)
def test_every_task_expected_to_fail_says_so_in_its_name(path):
    with open(path, encoding='utf-8') as handle:
        document = yaml.safe_load(handle)
    problems = unmarked_tasks(document)
    assert not problems, '%s:\n  %s' % (_relative(path), '\n  '.join(problems))


@pytest.mark.parametrize('path', SCRIPTS, ids=_relative)
def test_every_playbook_run_expected_to_fail_is_announced(path):
    with open(path, encoding='utf-8') as handle:
        lines = unannounced_failures(handle.read())
    assert not lines, '%s: line(s) %s: echo what is %s just before set +e' % (_relative(path), lines, MARK)


# -- the check catches what it must ---------------------------------------------------------------


def _play(*tasks: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    return [{'name': 'A play', 'hosts': 'localhost', 'tasks': list(tasks)}]


COMMAND = {'ansible.builtin.command': 'false'}


@pytest.mark.parametrize(
    'tasks, problem',
    [
        (
            [dict(COMMAND, name='Try it', ignore_errors=True)],
            "task 'Try it': ignore_errors, but its name does not say 'expected to fail'",
        ),
        (
            [dict(COMMAND, name='Try it', ignore_unreachable=True)],
            "task 'Try it': ignore_unreachable, but its name does not say 'expected to fail'",
        ),
        (
            [dict(COMMAND, name='Try it', failed_when='result.rc != 1', register='result')],
            "task 'Try it': failed_when, but its name does not say 'expected to fail'",
        ),
        (
            [dict(COMMAND, name='Try it', failed_when=False)],
            "task 'Try it': failed_when, but its name does not say 'expected to fail'",
        ),
        (
            [
                {
                    'name': 'Refused',
                    'block': [dict(COMMAND, name='Try it')],
                    'rescue': [{'name': 'Check', 'ansible.builtin.debug': None}],
                }
            ],
            "block 'Refused': its rescue expects a failure, but no task of the block is named 'expected to fail'",
        ),
        (
            [
                {
                    'name': 'Refused',
                    'block': [dict(COMMAND, name='Try it (expected to fail)')],
                    'rescue': [{'name': 'Check', 'ansible.builtin.debug': None}],
                }
            ],
            "block 'Refused': the first task of its rescue is not named 'the failure above was expected'",
        ),
        (
            [
                dict(COMMAND, name='Try it', register='bad', ignore_errors='{{ true }}'),
                {'name': 'Check', 'ansible.builtin.assert': {'that': ['bad is failed']}},
            ],
            "task 'Try it': ignore_errors, but its name does not say 'expected to fail'",
        ),
        (
            [
                {'name': 'Loop', 'block': [dict(COMMAND, name='Try it', register='bad', ignore_errors=True)]},
                {'name': 'Check', 'ansible.builtin.assert': {'that': 'bad.results[0] is failed'}},
            ],
            "task 'Try it': ignore_errors, but its name does not say 'expected to fail'",
        ),
    ],
    ids=[
        'ignore_errors',
        'ignore_unreachable',
        'failed_when',
        'failed_when-false',
        'rescue',
        'rescue-unnamed',
        'asserted',
        'nested',
    ],
)
def test_an_unmarked_task_expected_to_fail_is_found_expected_failure(tasks, problem):
    assert problem in unmarked_tasks(_play(*tasks))


def test_a_registered_task_asserted_failed_is_found_without_other_keywords_expected_failure():
    # a module that fails on its own is not registered here without ignore_errors, but a task file
    # included with ignore_errors on the include is; the assertion names the registered task
    tasks = [
        dict(COMMAND, name='Try it', register='bad'),
        {'name': 'Check', 'ansible.builtin.assert': {'that': ['bad is failed', 'good is not failed']}},
    ]
    assert unmarked_tasks(tasks) == [
        "task 'Try it': an assertion requires bad to be failed, but its name does not say 'expected to fail'"
    ]


def test_marked_tasks_and_plain_tasks_pass():
    tasks = [
        dict(COMMAND, name='Try it (expected to fail: it exits 1)', ignore_errors=True, register='bad'),
        {'name': 'Check', 'ansible.builtin.assert': {'that': ['bad is failed']}},
        {
            'name': 'Refused',
            'block': [dict(COMMAND, name='Run it (Expected to fail)'), {'name': 'Not reached', 'fail': None}],
            'rescue': [{'name': 'Check (rescued: the failure above was expected)', 'ansible.builtin.debug': None}],
        },
        dict(COMMAND, name='Ignore nothing', ignore_errors=False),
    ]
    assert unmarked_tasks(_play(*tasks)) == []
    assert unmarked_tasks({'all': {'hosts': {}}}) == []  # an inventory is not a playbook


def test_a_set_plus_e_not_announced_is_found_expected_failure():
    script = 'set -eux\nplay prepare.yml\nset +e\nplay rollout.yml\nstatus=$?\n'
    assert unannounced_failures(script) == [3]
    announced = script.replace('set +e', 'echo "expected to fail: hv10 refuses a write"\nset +e')
    assert unannounced_failures(announced) == []
