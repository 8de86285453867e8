# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/tools/sanity_skips.py: a sanity run that skipped a test for a missing program fails, naming the test.

The output lines are ansible-test's own texts (2.19 to 2.21).
"""

from __future__ import annotations

import sys

import sanity_skips

SHELLCHECK_MISSING = [
    'Running sanity test "pylint"\n',
    'Running sanity test "shellcheck"\n',
    'WARNING: Required program "shellcheck" not found.\n',
    'Running sanity test "validate-modules"\n',
]
PYTHON_MISSING = [
    'Running sanity test "compile" on Python 3.8\n',
    'WARNING: Skipping sanity test "compile" on Python 3.8 because it could not be found.\n',
]
# the end of a run: every earlier warning once more
REVIEW = [
    'WARNING: Reviewing previous 1 warning(s):\n',
    'WARNING: Required program "shellcheck" not found.\n',
]
CLEAN = [
    'Running sanity test "action-plugin-docs"\n',
    'Running sanity test "shellcheck"\n',
    'Running sanity test "yamllint"\n',
]


def test_missing_program_is_reported_with_the_test_that_needed_it():
    assert sanity_skips.skipped_for_missing(SHELLCHECK_MISSING + REVIEW) == [
        'shellcheck: Required program "shellcheck" not found.'
    ]


def test_missing_interpreter_and_libyaml_and_venv_support_are_reported():
    lines = PYTHON_MISSING + [
        'WARNING: Skipping sanity test "pylint" on Python 3.13 due to missing libyaml support in PyYAML.\n',
        'WARNING: Skipping sanity test "import" on Python 3.12 due to missing virtual environment support.\n',
        'WARNING: Skipping sanity test "ansible-doc" due to missing virtual environment support on Python 3.12.\n',
    ]
    assert sanity_skips.skipped_for_missing(lines) == [
        'compile: Skipping sanity test "compile" on Python 3.8 because it could not be found.',
        'pylint: Skipping sanity test "pylint" on Python 3.13 due to missing libyaml support in PyYAML.',
        'import: Skipping sanity test "import" on Python 3.12 due to missing virtual environment support.',
        'ansible-doc: Skipping sanity test "ansible-doc" due to missing virtual environment support on Python 3.12.',
    ]


def test_colour_codes_do_not_hide_a_skip():
    lines = ['\x1b[1;35mWARNING: Required program "pwsh" not found.\x1b[0m\n']
    assert sanity_skips.skipped_for_missing(lines) == ['ansible-test: Required program "pwsh" not found.']


def test_clean_run_and_other_warnings_report_nothing():
    lines = CLEAN + [
        'WARNING: Skipping sanity test "compile" on Python 2.7 because it is unsupported. Supported Python versions: 3.8\n',
        'WARNING: Skipping tests disabled by default without --allow-disabled: pslint\n',
        'WARNING: Sanity test "pylint" on Python 3.11 may be slow due to missing libyaml support in PyYAML.\n',
    ]
    assert sanity_skips.skipped_for_missing(lines) == []


def _printer(lines, status=0):
    """A command that prints the lines (as ansible-test would) and exits with the status."""
    return [sys.executable, '-c', 'import sys; sys.stdout.write(%r); sys.exit(%d)' % (''.join(lines), status)]


def test_run_passes_a_clean_sanity_run(capsys):
    assert sanity_skips.run(_printer(CLEAN)) == 0
    assert capsys.readouterr().out == ''.join(CLEAN)


def test_run_fails_a_passing_sanity_run_that_skipped_shellcheck(capsys):
    assert sanity_skips.run(_printer(SHELLCHECK_MISSING + REVIEW)) == 1
    out = capsys.readouterr().out
    assert out.startswith(''.join(SHELLCHECK_MISSING + REVIEW))
    assert 'skipped 1 sanity test(s) for a missing program' in out
    assert '  shellcheck: Required program "shellcheck" not found.' in out


def test_run_fails_with_the_status_of_a_failed_sanity_run(capsys):
    assert sanity_skips.run(_printer(PYTHON_MISSING, status=3)) == 3
    assert 'compile: Skipping sanity test "compile" on Python 3.8' in capsys.readouterr().out
