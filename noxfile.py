# /// script
# dependencies = ["nox>=2025.02.09", "antsibull-nox"]
# ///
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's gates, run by nox through antsibull-nox (``nox -l`` lists them).

antsibull-nox.toml adds the standard sessions (lint: ruff format and check, mypy; docs-check;
build-import-check; ansible-lint). This file adds what needs this machine rather than a container:
ansible-test in its own virtual environments (there is no container engine here), the FUSE
component tests, the coverage gate, the docs site, the release check and the QEMU guest.
``make test`` runs every session; ``make <gate>`` runs one.
"""

from __future__ import annotations

import os
import shutil
import sys
import xml.etree.ElementTree as ET

import nox

try:
    import antsibull_nox
    from antsibull_nox.sessions import install_packages, prepare_collections
    from antsibull_nox.sessions.ansible_test import COLOR_FLAG, add_ansible_test_session
    from antsibull_nox.sessions.utils.packages import PackageRequirements
except ImportError:
    print('You need to install antsibull-nox in the same Python environment as nox (make setup does).')
    sys.exit(1)

ROOT = os.path.dirname(os.path.abspath(__file__))
# Every package a session installs is the version requirements.txt pins, the tools' own venv included.
os.environ['PIP_CONSTRAINT'] = os.path.join(ROOT, 'requirements.txt')
# Sessions that run the tools of this environment (ansible-galaxy, molecule, ...) find them by
# name, also when nox is started as .venv/bin/nox without the venv on PATH.
os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
# Ansible's state (ansible-lint's copy of the collection, molecule's files, temporary files) stays in
# the clone, as `make` sets it, also when nox is started directly.
os.environ.setdefault('ANSIBLE_HOME', os.path.join(ROOT, 'build', 'ansible-home'))

# --- Plain text in logs -----------------------------------------------------------------------
# molecule and ansible-lint colour their output whenever TERM names an xterm, terminal or not, and
# molecule then sets ANSIBLE_FORCE_COLOR=1 for every ansible-playbook it starts; ansible-doc colours
# into a pipe. When nox itself does not colour (make test runs it with --no-color and NO_COLOR=1; or
# its output is no terminal), every session and every tool it starts writes plain text too (and
# antsibull-nox gives ansible-test --color no). tests/unit/test_plain_output.py keeps this so.
PLAIN_OUTPUT = {'NO_COLOR': '1', 'PY_COLORS': '0', 'ANSIBLE_NOCOLOR': 'true', 'ANSIBLE_FORCE_COLOR': 'false'}
COLOUR_FORCING = ('FORCE_COLOR', 'CLICOLOR_FORCE')


def nox_colours(argv: list, environ: dict, stdout_is_terminal: bool) -> bool:
    """Whether nox colours its output, decided as nox decides it: --forcecolor (or FORCE_COLOR), else a
    terminal unless --nocolor (or NO_COLOR)."""
    if '--forcecolor' in argv or '--force-color' in argv:
        return True
    if '--nocolor' in argv or '--no-color' in argv:
        return False
    if environ.get('FORCE_COLOR', '').lower() not in ('', '0', 'false', 'no', 'off'):
        return True
    return 'NO_COLOR' not in environ and stdout_is_terminal


if not nox_colours(sys.argv, dict(os.environ), sys.stdout.isatty()):
    for _name in COLOUR_FORCING:
        os.environ.pop(_name, None)
    os.environ.update(PLAIN_OUTPUT)

antsibull_nox.load_antsibull_nox_toml()

ANSIBLE_CORE = '2.19'
PYTHON = '3.11'
# Line coverage each module_utils file must reach from the unit tests alone.
COVERAGE_FLOOR = 90.0

# --- The offline pip bootstrap of ansible-test ------------------------------------------------
# ansible-test bootstraps pip in every virtual environment it creates with a get-pip.py script it
# downloads from ci-files.testing.ansible.com, which is not a package registry and cannot be
# reached here. tests/tools/get_pip_offline.py stands in for it (pip from ensurepip, then the
# packages ansible-test asks for, from the package index); it is copied where ansible-test caches
# the download. It was written for the pip version below: when ansible-test asks for another one,
# or caches the script elsewhere, this fails instead of letting ansible-test download.
GET_PIP_STAND_IN = os.path.join(ROOT, 'tests', 'tools', 'get_pip_offline.py')
GET_PIP_WRITTEN_FOR = '24.2'
GET_PIP_CACHE = '~/.ansible/test/cache/get_pip_%s.py'


def install_pip_bootstrap() -> None:
    """Put the stand-in where ansible-test (the runner's, pinned like the sessions') looks for it."""
    import inspect
    import types

    from ansible_test._internal.python_requirements import get_venv_packages
    from ansible_test._util.target.setup import requirements

    wanted = get_venv_packages(types.SimpleNamespace(version=PYTHON))['pip']
    if wanted != GET_PIP_WRITTEN_FOR:
        raise RuntimeError(
            'ansible-test now bootstraps pip %s; tests/tools/get_pip_offline.py was written for pip %s. '
            'Check that it still accepts the options ansible-test passes, then update GET_PIP_WRITTEN_FOR '
            'in noxfile.py.' % (wanted, GET_PIP_WRITTEN_FOR)
        )
    if "'%s'" % GET_PIP_CACHE not in inspect.getsource(requirements):
        raise RuntimeError(
            'ansible-test no longer caches its pip bootstrap script at %s; find where it does (%s) '
            'and update GET_PIP_CACHE in noxfile.py.' % (GET_PIP_CACHE, requirements.__file__)
        )
    cache = os.path.expanduser(GET_PIP_CACHE % wanted.replace('.', '_'))
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    shutil.copyfile(GET_PIP_STAND_IN, cache)


# --- ansible-test -----------------------------------------------------------------------------
def _drop_scratch() -> None:
    """Remove ansible-test's scratch directory from the session's copy of the collection.

    antsibull-nox then copies tests/output back into the repository, walking bottom-up, and fails
    (FileNotFoundError) on a nested directory such as tests/output/.tmp/pylint whose parent does not
    exist there yet; nothing in .tmp is a result.
    """
    shutil.rmtree(os.path.join('tests', 'output', '.tmp'), ignore_errors=True)


def _drop_coverage_reports() -> None:
    """Remove the last run's coverage reports, so the coverage session never reads a stale one."""
    reports = os.path.join(ROOT, 'tests', 'output', 'reports')
    for name in os.listdir(reports) if os.path.isdir(reports) else []:
        if name.startswith('coverage'):
            os.remove(os.path.join(reports, name))


def _ansible_test(name: str, description: str, params: list, before=install_pip_bootstrap) -> None:
    add_ansible_test_session(
        name=name,
        description=description,
        ansible_test_params=params + ['--venv', '--python', PYTHON, '--requirements', COLOR_FLAG],
        default=True,
        ansible_core_version=ANSIBLE_CORE,
        ansible_core_source='pypi',
        callback_before=before,
        callback_after=_drop_scratch,
    )


_ansible_test('ansible-test-sanity', 'ansible-test sanity: every test, no ignore file', ['sanity'])
# the coverage data goes to tests/output/reports, where the coverage session reads it
_ansible_test(
    'ansible-test-units',
    'ansible-test units (tests/unit), with coverage',
    ['units', '--coverage'],
    before=lambda: (_drop_coverage_reports(), install_pip_bootstrap()),
)
_ansible_test('ansible-test-integration', 'ansible-test integration on simulated hosts (root, FUSE)', ['integration'])


@nox.session(python=False, default=True)
def coverage(session: nox.Session) -> None:
    """Line coverage of plugins/ by the unit tests; fails below the floor for a module_utils file."""
    reports = os.path.join(ROOT, 'tests', 'output', 'reports')
    found = (
        sorted(name for name in os.listdir(reports) if name.startswith('coverage') and name.endswith('.xml'))
        if os.path.isdir(reports)
        else []
    )
    if not found:
        session.error('no coverage report in %s: run the ansible-test-units session first' % reports)
    lines: dict = {}
    for name in found:
        for element in ET.parse(os.path.join(reports, name)).iter('class'):
            path = element.get('filename', '')
            if not path.startswith('plugins/'):
                continue
            hits = lines.setdefault(path, {})
            for line in element.iter('line'):
                number = int(line.get('number', '0'))
                hits[number] = hits.get(number, False) or int(line.get('hits', '0')) > 0
    below = []
    total = covered = 0
    session.log('%-52s %6s %6s %7s' % ('line coverage by unit tests', 'lines', 'missed', 'cover'))
    for path in sorted(lines):
        count, hit = len(lines[path]), sum(lines[path].values())
        total, covered = total + count, covered + hit
        percent = 100.0 * hit / count if count else 100.0
        flag = ''
        if path.startswith('plugins/module_utils/') and percent < COVERAGE_FLOOR:
            below.append(path)
            flag = '  < %.0f %%' % COVERAGE_FLOOR
        session.log('%-52s %6d %6d %6.1f%%%s' % (path, count, count - hit, percent, flag))
    session.log('%-52s %6d %6d %6.1f%%' % ('total', total, total - covered, 100.0 * covered / max(total, 1)))
    if below:
        session.error('below %.0f %% line coverage from unit tests: %s' % (COVERAGE_FLOOR, ', '.join(below)))


# --- Sessions that use the tools of requirements.txt as `make setup` installed them ------------
def _collection_tree(session: nox.Session) -> str:
    """A copy of the collection at ansible_collections/litevirt/uksm; the directory above it."""
    prepared = prepare_collections(session, install_in_site_packages=False, install_out_of_tree=True)
    if not prepared:
        session.error('could not prepare the ansible_collections tree')
    return str(prepared.current_place)


@nox.session(name='component', default=True)
@install_packages(packages=PackageRequirements(file='tests/component/requirements.txt'))
def component(session: nox.Session) -> None:
    """The collection's code against simulated hosts mounted with FUSE (tests/component; root)."""
    place = _collection_tree(session)
    with session.chdir(os.path.join(place, 'ansible_collections', 'litevirt', 'uksm')):
        session.run(
            'python',
            '-m',
            'pytest',
            '-q',
            '-p',
            'no:cacheprovider',
            'tests/component',
            *session.posargs,
            env={'PYTHONPATH': place},
        )


def _tarball(session: nox.Session) -> str:
    """Build the release tarball and install it into a collections path of the session; that path."""
    work = os.path.abspath(session.create_tmp())
    dist, collections = os.path.join(work, 'dist'), os.path.join(work, 'collections')
    shutil.rmtree(dist, ignore_errors=True)
    shutil.rmtree(collections, ignore_errors=True)
    session.run('ansible-galaxy', 'collection', 'build', '--output-path', dist, ROOT, silent=True)
    (tarball,) = [os.path.join(dist, name) for name in os.listdir(dist)]
    session.run(
        'ansible-galaxy', 'collection', 'install', '--offline', '--force', '-p', collections, tarball, silent=True
    )
    return collections


@nox.session(name='docs-site', python=False, default=True)
def docs_site(session: nox.Session) -> None:
    """The HTML docs site of the collection as users install it (antsibull-docs, Sphinx)."""
    collections = _tarball(session)
    work = os.path.abspath(session.create_tmp())
    session.run(
        os.path.join(ROOT, 'scripts', 'docs-site.sh'),
        os.path.join(work, 'docsite-src'),
        os.path.join(ROOT, 'build', 'docsite'),
        env={'ANSIBLE_COLLECTIONS_PATH': collections},
    )


@nox.session(name='release-check', python=False, default=True)
def release_check(session: nox.Session) -> None:
    """The release tarball: no development files, links and licence, released changelog, installs offline,
    every plugin documented, EE builds."""
    session.run(os.path.join(ROOT, 'scripts', 'release-check.sh'), os.path.join(session.create_tmp(), 'release'))


@nox.session(python=False, default=False)
def molecule(session: nox.Session) -> None:
    """A real kernel in a QEMU guest, rebooted (extensions/molecule/real_kernel); one at a time."""
    # the collection as users install it, from its tarball; the scenario's own files from this tree
    collections = _tarball(session)
    session.run('molecule', 'test', '-s', 'real_kernel', env={'ANSIBLE_COLLECTIONS_PATH': collections})


@nox.session(name='knob-reference', python=False, default=False)
def knob_reference(session: nox.Session) -> None:
    """Write the knob reference from the knob model, in docs/ and in the docs site (a unit test fails while stale)."""
    session.run(
        'python',
        os.path.join(ROOT, 'tests', 'tools', 'gen_knob_reference.py'),
        os.path.join(ROOT, 'docs', 'knob-reference.md'),
        os.path.join(ROOT, 'docs', 'docsite', 'rst', 'knob-reference.rst'),
        env={'PYTHONPATH': _tarball(session)},
    )
