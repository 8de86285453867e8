# /// script
# dependencies = ["nox>=2025.02.09", "antsibull-nox"]
# ///
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's gates (``nox -l``; ``make test`` runs them all, ``make <gate>`` one). antsibull-nox.toml has the
standard ones; this file adds ansible-test in virtual environments of each release's Python (antsibull-nox runs it in
containers: there is no container engine here) and the project's own gates, programs in tests/ and scripts/."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

import antsibull_nox
import nox
from antsibull_nox.sessions import prepare_collections
from antsibull_nox.sessions.ansible_test import COLOR_FLAG, add_ansible_test_session

ROOT = os.path.dirname(os.path.abspath(__file__))
# Packages at requirements.txt's versions; the tools found by name also when nox is run as .venv/bin/nox; Ansible's
# state in the clone, as make sets it; pyenv's shims find .python-version's Pythons from temporary directories too.
os.environ['PIP_CONSTRAINT'] = os.path.join(ROOT, 'requirements.txt')
os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
os.environ.setdefault('ANSIBLE_HOME', os.path.join(ROOT, 'build', 'ansible-home'))
os.environ.setdefault('PYENV_DIR', ROOT)

# No colour codes in logs: when nox does not colour, no tool it starts does (molecule and ansible-lint colour
# whenever TERM names an xterm, and molecule then forces it on every playbook). tests/tooling/test_plain_output.py
PLAIN_OUTPUT = {'NO_COLOR': '1', 'PY_COLORS': '0', 'ANSIBLE_NOCOLOR': 'true', 'ANSIBLE_FORCE_COLOR': 'false'}


def plain_output(argv: list, environ: dict, terminal: bool) -> bool:
    """Whether nox does not colour: not forced (--forcecolor, FORCE_COLOR), and --nocolor, NO_COLOR or no terminal."""
    off = ('', '0', 'false', 'no', 'off')  # FORCE_COLOR values that do not force colour, as nox reads them
    forced = {'--forcecolor', '--force-color'} & set(argv) or environ.get('FORCE_COLOR', '').lower() not in off
    return not forced and bool({'--nocolor', '--no-color'} & set(argv) or 'NO_COLOR' in environ or not terminal)


if plain_output(sys.argv, dict(os.environ), sys.stdout.isatty()):
    os.environ.update(PLAIN_OUTPUT)
    for _forcing in ('FORCE_COLOR', 'CLICOLOR_FORCE'):
        os.environ.pop(_forcing, None)

antsibull_nox.load_antsibull_nox_toml()

# Every supported ansible-core release: its sessions' controller Python (.python-version lists them) and the
# pip constraints that pin it. The first is the tools' release.
CORES = {
    '2.19': ('3.11', 'requirements.txt'),
    '2.20': ('3.12', 'tests/constraints/ansible-core-2.20.txt'),
    '2.21': ('3.13', 'tests/constraints/ansible-core-2.21.txt'),
}
OLDEST, NEWEST = list(CORES)[0], list(CORES)[-1]
# The oldest managed-host Python: only ansible-core 2.19 still runs modules there, and its sessions test it.
OLDEST_HOST_PYTHON = '3.8'
PIP_BOOTSTRAP = ROOT + '/tests/tools/pip_bootstrap.py'  # offline: ansible-test downloads it from an unreachable host
REPORTS = ROOT + '/tests/output/reports'  # the coverage reports of ansible-test-units


def _ansible_test(name: str, doc: str, core: str, command: list, host_python: str) -> None:
    """A session running ``ansible-test COMMAND`` of the release, in a virtual environment on its Python."""
    python, constraints = CORES[core]

    @nox.session(name=name, python=python, default=True, tags=[command[0]])
    def run(session: nox.Session) -> None:
        session.install('ansible-core', env={'PIP_CONSTRAINT': os.path.join(ROOT, constraints)})
        tree = prepare_collections(session, install_in_site_packages=False, install_out_of_tree=True)
        assert tree, 'nox made no virtual environment'
        # sanity_skips.py fails the run when ansible-test skipped a sanity test for a missing program
        checked = ['python', ROOT + '/tests/tools/sanity_skips.py'] if command[0] == 'sanity' else []
        with session.chdir(str(tree.current_path)):
            session.run('python', PIP_BOOTSTRAP, *dict.fromkeys([python, host_python]))
            session.run(*checked, 'ansible-test', *command, '--requirements', '--color', 'no', *session.posargs)
            shutil.rmtree('tests/output/.tmp', ignore_errors=True)  # scratch, which antsibull-nox fails to copy back
            shutil.copytree('tests/output', ROOT + '/tests/output', dirs_exist_ok=True)

    run.__doc__ = doc


# the unit tests with coverage (antsibull-nox's session): the report lands in REPORTS, which `coverage` reads
add_ansible_test_session(
    name='ansible-test-units',
    description='ansible-test units (tests/unit), with coverage',
    ansible_test_params=['units', '--coverage', '--venv', '--python', CORES[OLDEST][0], '--requirements', COLOR_FLAG],
    default=True,
    ansible_core_version=OLDEST,
    ansible_core_source='pypi',
    callback_before=lambda: (
        [os.remove(report) for report in glob.glob(REPORTS + '/coverage*')],  # never a stale one
        subprocess.run([sys.executable, PIP_BOOTSTRAP, CORES[OLDEST][0]], check=True),
    ),
    callback_after=lambda: shutil.rmtree('tests/output/.tmp', ignore_errors=True),
)

# The gates that run one program of the repository with the tools of make setup: the name, what it proves and
# the command, to which nox's arguments after ``--`` are added
for _name, _doc, *_command in (
    ('coverage', 'Line coverage of plugins/ by unit tests, each module_utils file at least the floor', 'python',
     'tests/tools/coverage_floor.py', REPORTS),
    ('tooling', "Tests of the project's own tooling (tests/tooling)", 'python', '-m', 'pytest', '-q', '-p',
     'no:cacheprovider', 'tests/tooling'),
    ('readme-try-it', 'The README\'s "Try it" block as written, on simulated hosts (root, FUSE)',
     'tests/demo/readme_try_it.sh'),
    ('release-check', 'The release tarball: contents, links, licence, changelog, docs, offline install, EE',
     'scripts/release-check.sh', 'build/release-check'),
    ('docs-site', 'The HTML docs site of the collection as users install it (antsibull-docs, Sphinx)',
     'scripts/docs-site.sh', 'build/docsite-work', 'build/docsite'),
):  # fmt: skip
    nox.session(name=_name, python=False, default=True)(
        lambda session, command=_command: session.run(*command, *session.posargs)
    ).__doc__ = _doc


@nox.session(default=True)
def component(session: nox.Session) -> None:
    """The collection's code against simulated hosts mounted with FUSE (tests/component; root)."""
    session.install('-r', 'tests/component/requirements.txt')
    place = str(prepare_collections(session, install_in_site_packages=False, install_out_of_tree=True).current_place)
    with session.chdir(os.path.join(place, 'ansible_collections', 'litevirt', 'uksm')):
        pytest = ['python', '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests/component', *session.posargs]
        session.run(*pytest, env={'PYTHONPATH': place})


for _core, (_python, _pins) in CORES.items():  # sanity and integration, after the quicker gates above
    _suffix, _host, _sanity = '-' + _core, _python, ['--venv', '--python', _python]
    _integration = _sanity
    if _core == OLDEST:  # the hosts' code on the oldest Python a host may have, too
        _suffix, _host, _venvs = '', OLDEST_HOST_PYTHON, ['--controller', 'origin:python=venv/' + _python]
        _sanity = _venvs + ['--target-python', _python, '--target-python', _host]
        _integration = _venvs + ['--target', 'controller:python=venv/' + _host]
    _doc = 'ansible-core %s: ansible-test ' % _core
    _ansible_test('ansible-test-sanity' + _suffix, _doc + 'sanity, none skipped', _core, ['sanity', *_sanity], _host)
    _doc += 'integration on simulated hosts (root, FUSE), hosts on Python ' + _host
    _ansible_test('ansible-test-integration' + _suffix, _doc, _core, ['integration', *_integration], _host)


@nox.session(python=CORES[NEWEST][0], default=False)
def molecule(session: nox.Session) -> None:
    """A real kernel in a QEMU guest, rebooted (extensions/molecule/real_kernel), on the newest ansible-core (where
    antsibull-nox's runs on nox's Python), one at a time. Arguments after ``--`` replace ``test -s real_kernel``."""
    session.install('ansible-core', 'molecule', env={'PIP_CONSTRAINT': os.path.join(ROOT, CORES[NEWEST][1])})
    # ansible-galaxy installs a source tree through the manifest it would build the tarball from
    collections = os.path.abspath(session.create_tmp()) + '/collections'
    session.run('ansible-galaxy', 'collection', 'install', '--offline', '--force', '-p', collections, ROOT, silent=True)
    command = session.posargs or ['test', '-s', 'real_kernel']
    session.run('molecule', *command, env={'ANSIBLE_COLLECTIONS_PATH': collections})
