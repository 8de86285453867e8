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

import dataclasses
import functools
import glob
import os
import re
import shutil
import subprocess
import sys

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
# antsibull-nox gives ansible-test --color no). tests/tooling/test_plain_output.py keeps this so.
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

# the coverage gate: each module_utils file's line coverage from the unit tests alone, at least its floor
COVERAGE_GATE = os.path.join(ROOT, 'tests', 'tools', 'coverage_floor.py')


# --- ansible-core releases and the Pythons they run on ----------------------------------------
@dataclasses.dataclass(frozen=True)
class Core:
    """An ansible-core release series the collection is tested with."""

    version: str
    # the controller Python its sessions run on, one that release supports
    python: str
    # the pip constraints file that pins it and its dependencies, relative to the repository
    constraints: str


# Every ansible-core release still supported: sanity and the integration targets run on each, in
# virtual environments of their own. 2.19 is also the release of the tools (requirements.txt).
CORES = (
    Core('2.19', '3.11', 'requirements.txt'),
    Core('2.20', '3.12', os.path.join('tests', 'constraints', 'ansible-core-2.20.txt')),
    Core('2.21', '3.13', os.path.join('tests', 'constraints', 'ansible-core-2.21.txt')),
)
OLDEST, NEWEST = CORES[0], CORES[-1]
# The oldest managed-host Python the collection supports. ansible-core 2.19 is the last release that
# runs modules on it, so its integration targets run the hosts' code there (modules, and the boot
# applier, metrics writer and pressure tuner they install); 2.20 and 2.21 run it on their controller
# Python, 3.13 the newest.
OLDEST_HOST_PYTHON = '3.8'
PYENV_VERSIONS = os.path.join(os.environ.get('PYENV_ROOT') or os.path.expanduser('~/.pyenv'), 'versions')
# prints X.Y and the interpreter itself (not a venv's copy of it)
PYTHON_PROBE = (
    'import sys; print("%d.%d" % sys.version_info[:2]); print(getattr(sys, "_base_executable", sys.executable))'
)


@functools.lru_cache(maxsize=None)
def find_python(version: str) -> str | None:
    """The path of a Python X.Y interpreter, or None: pythonX.Y on PATH, else the newest pyenv build of X.Y.

    Each candidate is run: a pyenv shim on PATH only works for the version pyenv has selected.
    """
    pyenv = glob.glob(os.path.join(PYENV_VERSIONS, version + '.*', 'bin', 'python' + version))
    newest_first = sorted(pyenv, key=lambda path: [int(part) for part in re.findall(r'\d+', path)], reverse=True)
    for candidate in [shutil.which('python' + version)] + newest_first:
        if not candidate:
            continue
        probe = subprocess.run([candidate, '-c', PYTHON_PROBE], capture_output=True, text=True, check=False)
        found = probe.stdout.split('\n')
        if probe.returncode == 0 and found[0] == version:
            return found[1]
    return None


def require_pythons(session: nox.Session, purpose: str, found: dict) -> None:
    """Stop the session with a message naming each Python X.Y it needs that this machine lacks."""
    missing = sorted(version for version, path in found.items() if not path)
    if missing:
        session.error(
            '%s needs Python %s: not found as %s on PATH nor in %s. Install it, for example with pyenv '
            '(pyenv install %s) or a Debian release that packages it'
            % (
                purpose,
                ' and '.join(missing),
                ' or '.join('python' + version for version in missing),
                PYENV_VERSIONS,
                ' '.join(missing),
            )
        )


def install_constrained(session: nox.Session, core: Core, *packages: str) -> None:
    """Install the packages at the versions the release's constraints file pins (not requirements.txt's)."""
    session.install(*packages, env={'PIP_CONSTRAINT': os.path.join(ROOT, core.constraints)})


# --- ansible-test -----------------------------------------------------------------------------
# ansible-test bootstraps pip in each virtual environment it creates with a script it would download
# from a host that cannot be reached here; tests/tools/pip_bootstrap.py puts an offline stand-in
# where the ansible-test of the interpreter that runs it looks for that script.
PIP_BOOTSTRAP = os.path.join(ROOT, 'tests', 'tools', 'pip_bootstrap.py')
# runs ansible-test sanity, and fails it when it skipped a test for a missing program
SANITY_SKIPS = os.path.join(ROOT, 'tests', 'tools', 'sanity_skips.py')


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


def _ansible_test_on(core: Core, name: str, description: str, params: list, host_python: str = '') -> None:
    """A session running ansible-test of the release in a virtual environment on its controller Python.

    ``params``: ansible-test's arguments, ``{python}`` standing for the controller's Python X.Y.
    ``host_python``: the Python X.Y of the integration targets' managed hosts, when not the controller's.
    """
    pythons = {version: find_python(version) for version in filter(None, (core.python, host_python))}

    @nox.session(name=name, python=pythons[core.python] or False, default=True)
    def run(session: nox.Session) -> None:
        require_pythons(session, 'ansible-core %s (%s)' % (core.version, name), pythons)
        install_constrained(session, core, 'ansible-core')
        prepared = prepare_collections(
            session, ansible_core_version=core.version, install_in_site_packages=False, install_out_of_tree=True
        )
        if not prepared:
            session.error('could not prepare the ansible_collections tree')
        # ansible-test makes its virtual environments of the first pythonX.Y on PATH, where a pyenv shim
        # that does not run may stand: the interpreters found come first
        found = [os.path.dirname(str(path)) for path in pythons.values()]
        path = os.pathsep.join([str(session.bin)] + found + [os.environ.get('PATH', '')])
        command = ['ansible-test'] + [argument.format(python=core.python) for argument in params]
        command += ['--requirements', '--color', 'no'] + list(session.posargs)
        if params[0] == 'sanity':
            command = ['python', SANITY_SKIPS] + command
        with session.chdir(str(prepared.current_path)):
            session.run('python', PIP_BOOTSTRAP, *pythons)
            session.run(*command, env={'PATH': path})
            _drop_scratch()
            shutil.copytree(os.path.join('tests', 'output'), os.path.join(ROOT, 'tests', 'output'), dirs_exist_ok=True)

    run.__doc__ = description


for _core in CORES:
    _suffix = '' if _core is OLDEST else '-' + _core.version
    if _core is OLDEST:
        # The managed hosts' code on the oldest Python they may have: sanity compiles and imports the
        # modules and module_utils there too, and the integration targets run it there, in a virtual
        # environment of its own (tests/integration/targets/setup_simhost/simhost.sh, HOST_PYTHON).
        _sanity = ['--controller', 'origin:python=venv/{python}', '--target-python', '{python}']
        _sanity += ['--target-python', OLDEST_HOST_PYTHON]
        _integration = [
            '--controller',
            'origin:python=venv/{python}',
            '--target',
            'controller:python=venv/' + OLDEST_HOST_PYTHON,
        ]
        _host = OLDEST_HOST_PYTHON
    else:
        _sanity = _integration = ['--venv', '--python', '{python}']
        _host = ''
    _ansible_test_on(
        _core,
        'ansible-test-sanity' + _suffix,
        'ansible-core %s: ansible-test sanity, every test, no ignore file, no test skipped for a missing program'
        % _core.version,
        ['sanity'] + _sanity,
        host_python=_host,
    )
    _ansible_test_on(
        _core,
        'ansible-test-integration' + _suffix,
        'ansible-core %s: ansible-test integration on simulated hosts (root, FUSE), hosts on Python %s'
        % (_core.version, _host or _core.python),
        ['integration'] + _integration,
        host_python=_host,
    )

# the unit tests with coverage on the release of the tools: antsibull-nox's session, which reports
# the coverage (tests/output/reports, where the coverage session reads it)
add_ansible_test_session(
    name='ansible-test-units',
    description='ansible-test units (tests/unit), with coverage',
    ansible_test_params=['units', '--coverage', '--venv', '--python', OLDEST.python, '--requirements', COLOR_FLAG],
    default=True,
    ansible_core_version=OLDEST.version,
    ansible_core_source='pypi',
    callback_before=lambda: (
        _drop_coverage_reports(),
        subprocess.run([sys.executable, PIP_BOOTSTRAP, OLDEST.python], check=True),
    ),
    callback_after=_drop_scratch,
)


@nox.session(python=False, default=True)
def coverage(session: nox.Session) -> None:
    """Line coverage of plugins/ by the unit tests; fails below the floor for a module_utils file."""
    session.run('python', COVERAGE_GATE, os.path.join(ROOT, 'tests', 'output', 'reports'))


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


@nox.session(python=False, default=True)
def tooling(session: nox.Session) -> None:
    """Tests of the project's own tooling (tests/tooling): the gates' scripts, the pins, the setup script."""
    session.run('python', '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests/tooling', *session.posargs)


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


@nox.session(name='readme-try-it', python=False, default=True)
def readme_try_it(session: nox.Session) -> None:
    """The README's "Try it" block as written, on simulated hosts it makes with `make try` (root, FUSE)."""
    session.run(os.path.join(ROOT, 'tests', 'demo', 'readme_try_it.sh'))


# molecule drives the newest ansible-core, in a virtual environment on the Python that release's sessions
# use; molecule and its dependencies are pinned in the release's constraints file
MOLECULE_PYTHON = find_python(NEWEST.python)


@nox.session(python=MOLECULE_PYTHON or False, default=False)
def molecule(session: nox.Session) -> None:
    """A real kernel in a QEMU guest, rebooted (extensions/molecule/real_kernel), on the newest ansible-core.

    One at a time. Arguments after ``--`` replace ``test -s real_kernel``: ``nox -s molecule -- syntax -s real_kernel``.
    """
    require_pythons(session, 'molecule on ansible-core %s' % NEWEST.version, {NEWEST.python: MOLECULE_PYTHON})
    install_constrained(session, NEWEST, 'ansible-core', 'molecule')
    # the collection as users install it, from its tarball; the scenario's own files from this tree
    collections = _tarball(session)
    session.run(
        'molecule', *(session.posargs or ['test', '-s', 'real_kernel']), env={'ANSIBLE_COLLECTIONS_PATH': collections}
    )


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
