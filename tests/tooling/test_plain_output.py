# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No colour codes in CI logs: make test runs nox without colour, the noxfile then tells every tool to
write plain text, and nothing in the repository forces colour back on.

molecule and ansible-lint colour whenever TERM names an xterm, terminal or not (molecule then sets
ANSIBLE_FORCE_COLOR=1 for every playbook), so their silence depends on NO_COLOR and PY_COLORS reaching
them. The noxfile is read, not imported: nox is not installed where the unit tests run.
"""

from __future__ import annotations

import ast
import os
import re
import typing as t

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOXFILE = os.path.join(ROOT, 'noxfile.py')
MOLECULE = os.path.join(ROOT, 'extensions', 'molecule', 'real_kernel', 'molecule.yml')
# what turns colour on: an environment variable or a command-line flag of the tools the gates run
FORCING = re.compile(
    r'(ANSIBLE_FORCE_COLOR|PY_COLORS|FORCE_COLOR|CLICOLOR_FORCE|MOLECULE_FORCE_COLOR)["\']?\s*[:=]\s*["\']?(1|true|yes)'
    r'|force_color\s*[:=]\s*["\']?(1|true|yes)'
    r'|--color[= ]+["\']?(yes|always|force)'
    r'|--force-?color',
    re.IGNORECASE,
)


def _read(path: str) -> str:
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def _noxfile_tree() -> ast.Module:
    return ast.parse(_read(NOXFILE))


def _assigned(name: str) -> t.Any:
    for node in _noxfile_tree().body:
        if isinstance(node, ast.Assign) and any(getattr(target, 'id', None) == name for target in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError('noxfile.py assigns no %s' % name)


def _plain_output() -> t.Callable[[list, dict, bool], bool]:
    """The noxfile's plain_output(), compiled on its own (it uses nothing but its arguments)."""
    (function,) = [node for node in _noxfile_tree().body if getattr(node, 'name', None) == 'plain_output']
    namespace: dict[str, t.Any] = {}
    exec(compile(ast.Module(body=[function], type_ignores=[]), NOXFILE, 'exec'), namespace)
    return namespace['plain_output']


def _repository_files() -> list[str]:
    """What configures or runs the gates: the noxfile, the Makefile, the CI entry point, the scripts,
    the molecule scenario, and the scripts and playbooks of the integration targets."""
    found = [
        NOXFILE,
        os.path.join(ROOT, 'Makefile'),
        os.path.join(ROOT, '.ci', 'run'),
        os.path.join(ROOT, 'antsibull-nox.toml'),
    ]
    for directory in (
        'scripts',
        os.path.join('extensions', 'molecule'),
        os.path.join('tests', 'integration'),
        os.path.join('tests', 'vm'),
    ):
        for parent, subdirectories, files in os.walk(os.path.join(ROOT, directory)):
            subdirectories.sort()
            found += [os.path.join(parent, name) for name in sorted(files) if not name.endswith('.pyc')]
    return found


def test_make_test_runs_nox_without_colour():
    (nox_line,) = [line for line in _read(os.path.join(ROOT, 'Makefile')).splitlines() if line.startswith('NOX :=')]
    for needed in ('CI=true', 'NO_COLOR=1', 'PY_COLORS=0', '--no-color'):
        assert needed in nox_line.split(), 'the NOX line of the Makefile lacks %s' % needed
    assert 'exec make test' in _read(os.path.join(ROOT, '.ci', 'run'))


def test_the_noxfile_tells_every_tool_to_write_plain_text_when_nox_does():
    plain = _assigned('PLAIN_OUTPUT')
    assert plain == {'NO_COLOR': '1', 'PY_COLORS': '0', 'ANSIBLE_NOCOLOR': 'true', 'ANSIBLE_FORCE_COLOR': 'false'}
    text = _read(NOXFILE)
    assert 'if plain_output(sys.argv, dict(os.environ), sys.stdout.isatty()):' in text
    assert 'os.environ.update(PLAIN_OUTPUT)' in text
    assert "for _forcing in ('FORCE_COLOR', 'CLICOLOR_FORCE'):\n        os.environ.pop(_forcing, None)" in text
    # ansible-test: the sanity and integration sessions of every release always write plain text; the
    # unit tests' session (antsibull-nox's) takes --color from nox's own setting (COLOR_FLAG)
    assert "'--requirements', '--color', 'no', *session.posargs)" in text
    assert "'--requirements', COLOR_FLAG]" in text


@pytest.mark.parametrize(
    'argv, environ, terminal, colours',
    [
        (['nox', '--no-color', '--sessions', 'lint'], {'NO_COLOR': '1', 'CI': 'true'}, True, False),  # make test
        (['nox', '-s', 'molecule'], {'TERM': 'xterm'}, False, False),  # into a log, though TERM says xterm
        (['nox', '-s', 'molecule'], {'NO_COLOR': '1'}, True, False),
        (['nox', '-s', 'molecule'], {'FORCE_COLOR': '0'}, False, False),
        (['nox', '-s', 'lint'], {}, True, True),  # a developer at a terminal
        (['nox', '--forcecolor', '-s', 'lint'], {}, False, True),
        (['nox', '-s', 'lint'], {'FORCE_COLOR': '1'}, False, True),
    ],
    ids=['make-test', 'pipe', 'no-color', 'force-color-off', 'terminal', 'forcecolor', 'force-color'],
)
def test_plain_output_follows_nox_colouring(argv, environ, terminal, colours):
    assert _plain_output()(argv, environ, terminal) is not colours


def test_molecule_is_not_told_to_colour():
    config = yaml.safe_load(_read(MOLECULE))
    ansible = config.get('ansible', {})
    assert 'ANSIBLE_FORCE_COLOR' not in ansible.get('env', {})
    assert 'force_color' not in ansible.get('cfg', {}).get('defaults', {})


def _configuring_lines(path: str) -> list[str]:
    """The lines of ``path`` that can set something: not comments, and in the noxfile not plain_output(),
    which names nox's colour flags to read them."""
    lines = _read(path).splitlines()
    if path == NOXFILE:
        (function,) = [node for node in _noxfile_tree().body if getattr(node, 'name', None) == 'plain_output']
        del lines[function.lineno - 1 : function.end_lineno]
    return [line for line in lines if not line.lstrip().startswith('#')]


@pytest.mark.parametrize('path', _repository_files(), ids=lambda path: os.path.relpath(path, ROOT))
def test_nothing_forces_colour_back_on(path):
    try:
        lines = _configuring_lines(path)
    except UnicodeDecodeError:
        return  # not text: nothing that configures a tool
    found = [match.group(0) for line in lines for match in FORCING.finditer(line)]
    assert not found, '%s forces colour: %s' % (os.path.relpath(path, ROOT), ', '.join(found))


@pytest.mark.parametrize(
    'text',
    [
        'ANSIBLE_FORCE_COLOR: "1"',
        'env: {PY_COLORS: true}',
        'ansible-test integration --color yes',
        'ansible-test sanity --color=yes',
        'nox --forcecolor',
        'force_color = True',
        'export FORCE_COLOR=1',
    ],
)
def test_colour_forcing_is_recognised_expected_failure(text):
    assert FORCING.search(text), text


def test_plain_settings_are_not_mistaken_for_forcing():
    assert not FORCING.search("PLAIN_OUTPUT = {'NO_COLOR': '1', 'PY_COLORS': '0', 'ANSIBLE_FORCE_COLOR': 'false'}")
    assert not FORCING.search('NOX := CI=true NO_COLOR=1 PY_COLORS=0 nox --no-color --reuse-venv=yes')
