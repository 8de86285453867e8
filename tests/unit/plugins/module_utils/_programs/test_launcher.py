# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every installed launcher shares: its options, --sysroot, one prefixed line per message, exit statuses."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._programs import launcher
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.launcher import UsageError, parse, run

OPTIONS = {
    'output': ('/var/lib/x.prom', str, 'where to write'),
    'timeout': (30.0, float, 'seconds to wait'),
}


def _body(seen):
    def body(sysroot, values, out):
        seen.append((sysroot, values))
        out('applied')
        return 0

    return body


def test_parse_takes_both_spellings_and_keeps_defaults():
    assert parse(OPTIONS, ['--output', '/x', '--timeout=2.5']) == {'output': '/x', 'timeout': 2.5}
    assert parse(OPTIONS, []) == {'output': '/var/lib/x.prom', 'timeout': 30.0}


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--colour', 'no'], 'unrecognised argument: --colour'),
        (['output'], 'unrecognised argument: output'),
        (['--timeout'], '--timeout expects a value'),
        (['--timeout', 'soon'], "--timeout: invalid value 'soon'"),
    ],
)
def test_parse_is_refused_with_the_argument_named(argv, message):
    with pytest.raises(UsageError) as caught:
        parse(OPTIONS, argv)
    assert str(caught.value) == message


def test_run_passes_the_checked_sysroot_and_the_options_and_prefixes_every_line(tmp_path, capsys):
    seen = []
    status = run('Do it.', 'uksm-test: ', ['--sysroot', str(tmp_path), '--timeout', '1'], OPTIONS, _body(seen))
    assert status == 0
    assert seen == [(str(tmp_path), {'output': '/var/lib/x.prom', 'timeout': 1.0})]
    assert capsys.readouterr().out == 'uksm-test: applied\n'


@pytest.mark.parametrize('flag', ['-h', '--help'])
def test_help_lists_every_option_and_runs_nothing(flag, capsys):
    seen = []
    assert run('Do it.', 'p: ', [flag], OPTIONS, _body(seen)) == 0
    text = capsys.readouterr().out
    assert seen == []
    assert 'Do it.' in text and '--sysroot' in text and '--output' in text and '--timeout' in text


def test_bad_arguments_fail_with_status_2_and_usage_on_stderr(capsys):
    seen = []
    assert run('Do it.', 'p: ', ['--bogus'], OPTIONS, _body(seen)) == 2
    captured = capsys.readouterr()
    assert seen == [] and captured.out == ''
    assert 'usage:' in captured.err and 'error: unrecognised argument: --bogus' in captured.err


def test_relative_sysroot_fails_with_status_2_and_one_line(capsys):
    seen = []
    assert run('Do it.', 'p: ', ['--sysroot', 'host/root'], OPTIONS, _body(seen)) == 2
    assert seen == []
    assert capsys.readouterr().out == "p: FAILED: sysroot must be an absolute path, got 'host/root'\n"


def test_unexpected_exception_fails_with_one_line_and_its_type(tmp_path, capsys):
    def body(_sysroot, _values, _out):
        raise KeyError('cpu_governor')

    assert run('Do it.', 'p: ', ['--sysroot', str(tmp_path)], OPTIONS, body) == 1
    assert capsys.readouterr().out == "p: FAILED: unexpected KeyError: 'cpu_governor'\n"


def test_arguments_default_to_the_command_line(tmp_path, monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(launcher.sys, 'argv', ['uksm-test', '--sysroot', str(tmp_path)])
    assert run('Do it.', 'p: ', None, OPTIONS, _body(seen)) == 0
    assert seen[0][0] == str(tmp_path)
    assert capsys.readouterr().out == 'p: applied\n'
