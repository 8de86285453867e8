# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration targets and the simulated host they share (tests/integration/targets/setup_simhost).

ansible-test runs each target in a temporary copy of the collection that holds only the target, its
needs/target/ dependencies and the files named by their needs/file/ aliases. A file of tests/simhost
left out of setup_simhost's aliases, or a target that mounts simulated hosts without
needs/target/setup_simhost, shows there only as a simulator that does not start; these tests name the
file or the target, without FUSE or root.
"""

from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS = os.path.join('tests', 'integration', 'targets')
SIMHOST = os.path.join('tests', 'simhost')
SETUP = 'setup_simhost'


def _aliases(target):
    """The aliases of a target as ansible-test reads them: '#' starts a comment, blank lines are dropped."""
    with open(os.path.join(ROOT, TARGETS, target, 'aliases'), encoding='utf-8') as handle:
        lines = [re.sub(r' *#.*$', '', line) for line in handle.read().splitlines()]
    return [line for line in lines if line]


def _simhost_runtime_files():
    """The files of tests/simhost relative to the collection root, without the Markdown documentation
    (not needed to run the simulator) and the bytecode Python leaves beside the sources.

    A walk of the directory, not git: the copies ansible-test and nox run the unit tests in are not
    repositories.
    """
    found = []
    for directory, subdirectories, files in os.walk(os.path.join(ROOT, SIMHOST)):
        subdirectories[:] = [name for name in subdirectories if name != '__pycache__']
        found += [
            os.path.relpath(os.path.join(directory, name), ROOT) for name in files if not name.endswith(('.md', '.pyc'))
        ]
    return sorted(found)


def _simulator_targets():
    """The targets whose runme.sh runs the simulated host (uses simhost_dir)."""
    names = []
    for name in sorted(os.listdir(os.path.join(ROOT, TARGETS))):
        runme = os.path.join(ROOT, TARGETS, name, 'runme.sh')
        if os.path.isfile(runme):
            with open(runme, encoding='utf-8') as handle:
                if 'simhost_dir' in handle.read():
                    names.append(name)
    return names


def test_setup_simhost_needs_every_runtime_file_of_the_simulator():
    needed = sorted(alias[len('needs/file/') :] for alias in _aliases(SETUP) if alias.startswith('needs/file/'))
    files = _simhost_runtime_files()
    assert files, 'git lists no file under %s' % SIMHOST
    missing = sorted(set(files) - set(needed))
    extra = sorted(set(needed) - set(files))
    assert not missing, 'add to %s/%s/aliases: %s' % (
        TARGETS,
        SETUP,
        ', '.join('needs/file/' + path for path in missing),
    )
    assert not extra, 'not a runtime file of %s, remove from %s/%s/aliases: %s' % (
        SIMHOST,
        TARGETS,
        SETUP,
        ', '.join(extra),
    )
    assert len(needed) == len(set(needed)), 'a needs/file/ alias is listed twice'


def test_targets_that_run_the_simulator_need_setup_simhost():
    targets = _simulator_targets()
    assert targets, 'no runme.sh under %s uses simhost_dir' % TARGETS
    for name in targets:
        assert 'needs/target/%s' % SETUP in _aliases(name), '%s/%s/aliases lacks needs/target/%s' % (
            TARGETS,
            name,
            SETUP,
        )
        with open(os.path.join(ROOT, TARGETS, name, 'runme.sh'), encoding='utf-8') as handle:
            runme = handle.read().splitlines()
        assert 'source ../%s/simhost.sh' % SETUP in runme, '%s/%s/runme.sh does not source ../%s/simhost.sh' % (
            TARGETS,
            name,
            SETUP,
        )
