# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot applier as installed files: the same code as the collection, a unit systemd accepts."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths
from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation, unit_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._programs import applier

MODULE_UTILS = os.path.dirname(os.path.dirname(os.path.abspath(installation.__file__)))


def _installed_tree(root):
    found = []
    for directory, _dirs, files in os.walk(root):
        found += [os.path.relpath(os.path.join(directory, name), root) for name in files]
    return sorted(found)


def test_install_is_idempotent_and_check_mode_writes_nothing(tmp_path):
    root = str(tmp_path)
    files = installation.artefacts('/usr/bin/python3')
    assert installation.install(root, files, check_mode=True) == [f.path for f in files]
    assert _installed_tree(root) == []
    assert installation.install(root, files, check_mode=False) == [f.path for f in files]
    assert installation.install(root, files, check_mode=False) == []
    launcher = os.path.join(root, paths.LAUNCHER)
    assert stat.S_IMODE(os.stat(launcher).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(os.path.join(root, paths.UNIT_FILE)).st_mode) == 0o644
    assert sorted(installation.installed(root)) == sorted(f.path for f in files)


def test_stale_files_and_their_bytecode_go_and_bytecode_is_not_a_change(tmp_path):
    root = str(tmp_path)
    files = installation.artefacts('/usr/bin/python3')
    installation.install(root, files, check_mode=False)
    package = os.path.join(root, paths.APPLIER_DIR, paths.PACKAGE)
    for cache in ('_plan/__pycache__/plan.cpython-311.pyc', '__pycache__/old_module.cpython-311.pyc'):
        os.makedirs(os.path.dirname(os.path.join(package, cache)), exist_ok=True)
        open(os.path.join(package, cache), 'w').close()
    open(os.path.join(package, 'old_module.py'), 'w').close()
    stale = [
        os.path.join(paths.APPLIER_DIR, paths.PACKAGE, '__pycache__', 'old_module.cpython-311.pyc'),
        os.path.join(paths.APPLIER_DIR, paths.PACKAGE, 'old_module.py'),
    ]
    assert installation.install(root, files, check_mode=False) == stale
    assert not [path for path in stale if os.path.exists(os.path.join(root, path))]
    # the bytecode of a source the package has stays, and is not a change
    assert os.path.exists(os.path.join(package, '_plan', '__pycache__', 'plan.cpython-311.pyc'))
    assert installation.install(root, files, check_mode=False) == []
    # an edited copy is put back
    with open(os.path.join(package, '_plan', 'plan.py'), 'a', encoding='utf-8') as handle:
        handle.write('# local edit\n')
    edited = os.path.join(paths.APPLIER_DIR, paths.PACKAGE, '_plan', 'plan.py')
    assert installation.install(root, files, check_mode=False) == [edited]


def test_the_flat_package_of_an_older_release_is_replaced_by_the_folders(tmp_path):
    # up to 1.1.0 the package was one directory: its files go as stale ones, after the new ones and the
    # launchers are written, so the launcher runs whatever the run stopped at
    root = str(tmp_path)
    package = os.path.join(root, paths.APPLIER_DIR, paths.PACKAGE)
    files = installation.artefacts(sys.executable)
    installation.install(root, files, check_mode=False)
    flat = ['applier.py', 'persist.py', 'safefiles.py', 'attributes.py', '__pycache__/applier.cpython-311.pyc']
    os.makedirs(os.path.join(package, '__pycache__'))
    for name in flat:
        with open(os.path.join(package, name), 'w', encoding='utf-8') as handle:
            handle.write('raise SystemExit("the old layout ran")\n')
    changed = installation.install(root, files, check_mode=False)
    assert sorted(changed) == sorted(os.path.join(paths.APPLIER_DIR, paths.PACKAGE, name) for name in flat)
    assert os.listdir(os.path.join(package, '__pycache__')) == []  # its bytecode went with it
    assert sorted(os.listdir(package)) == [
        '__init__.py',
        '__pycache__',
        '_host',
        '_knobs',
        '_plan',
        '_programs',
        'byte_sizes.py',
        'errors.py',
    ]
    assert [artefact.path for artefact in files].index(paths.LAUNCHER) > max(
        index
        for index, artefact in enumerate(files)
        if artefact.path.startswith(paths.APPLIER_DIR + '/' + paths.PACKAGE)
    )
    done = subprocess.run(
        [sys.executable, '-I', os.path.join(root, paths.LAUNCHER), '--help'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and '--lock-timeout' in done.stdout


def test_uninstall_removes_everything(tmp_path):
    root = str(tmp_path)
    installation.install(root, installation.artefacts('/usr/bin/python3'), check_mode=False)
    assert installation.uninstall(root, check_mode=True) and installation.installed(root)
    removed = installation.uninstall(root, check_mode=False)
    assert paths.UNIT_FILE in removed and paths.LAUNCHER in removed
    assert installation.installed(root) == [] and not os.path.exists(os.path.join(root, paths.APPLIER_DIR))
    assert installation.uninstall(root, check_mode=False) == []


@pytest.mark.parametrize('launcher', [paths.LAUNCHER, paths.METRICS_LAUNCHER, paths.PRESSURE_LAUNCHER])
def test_launcher_reports_a_bad_sysroot(tmp_path, launcher):
    """Every launcher imports its module from the installed package (its closure is installed)."""
    files = installation.artefacts(sys.executable, metrics_output='/var/lib/uksm.prom', pressure_interval=30)
    installation.install(str(tmp_path), files, check_mode=False)
    result = subprocess.run(
        [sys.executable, '-I', os.path.join(str(tmp_path), launcher), '--sysroot', 'rel'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and 'FAILED: sysroot must be an absolute path' in result.stdout


def _package(root):
    return os.path.join(root, paths.APPLIER_DIR, paths.PACKAGE)


def test_package_is_compiled_once_and_again_when_a_source_changes(tmp_path):
    root = str(tmp_path)
    installed = installation.install(root, installation.artefacts(sys.executable), check_mode=False)
    sources = [
        os.path.join(directory, name)
        for directory, dirs, names in os.walk(_package(root))
        for name in names
        if name.endswith('.py')
    ]
    assert [name for name in sources if '/_host/' in name]  # the sub-packages are compiled too
    assert installation.compile_package(root, installed, check_mode=True) != []
    assert not os.path.exists(os.path.join(_package(root), '__pycache__'))  # check mode writes nothing
    written = installation.compile_package(root, installed, check_mode=False)
    assert len(written) == len(sources)
    assert installation.compile_package(root, [], check_mode=False) == []  # idempotent
    path = os.path.join(_package(root), '_knobs', 'value_kinds.py')
    cache = os.path.relpath(importlib.util.cache_from_source(path), root)
    # a source install() rewrote is compiled again even when its size and second did not change
    relative = os.path.relpath(path, root)
    assert installation.compile_package(root, [relative], check_mode=False) == [cache]
    # a source edited behind our back (another mtime) makes its bytecode stale
    os.utime(path, (1, 1))
    assert installation.compile_package(root, [], check_mode=False) == [cache]
    assert installation.compile_package(root, [], check_mode=False) == []


def test_installed_applier_runs_from_bytecode_without_costly_imports(tmp_path):
    """The boot path (and the tuner's, every few seconds) imports no typing, re, argparse, tempfile, ...:
    each costs milliseconds at boot."""
    root = str(tmp_path)
    installation.compile_package(
        root, installation.install(root, installation.artefacts(sys.executable), check_mode=False), check_mode=False
    )
    probe = (
        'import sys; sys.path.insert(0, %r); '
        'import uksm_policy._programs.applier, uksm_policy._programs.metrics, uksm_policy._programs.tuner; '
        'print(" ".join(sorted(sys.modules)))' % os.path.dirname(_package(root))
    )
    result = subprocess.run(
        [sys.executable] + unit_texts.PYTHON_FLAGS.split() + ['-v', '-c', probe],
        capture_output=True,
        text=True,
        check=True,
        env={},
    )
    modules = set(result.stdout.split())
    assert {'uksm_policy._programs.applier', 'uksm_policy._programs.metrics', 'uksm_policy._programs.tuner'} <= modules
    costly = {'typing', 're', 'argparse', 'tempfile', 'difflib', 'contextlib', 'json', 'enum', 'ast', 'shutil'}
    assert modules & costly == set()
    # -v names the file each module came from: bytecode, not source compiled at every boot
    loaded = [line for line in result.stderr.splitlines() if 'uksm_policy' in line and 'code object from' in line]
    assert len(loaded) >= 10 and all(line.endswith(".pyc'") for line in loaded), loaded


@pytest.mark.parametrize(
    'argv, status, stream, text',
    [
        (['--help'], 0, 'out', '--lock-timeout'),
        (['--bogus'], 2, 'err', 'error: unrecognised argument: --bogus'),
        (['--lock-timeout'], 2, 'err', 'error: --lock-timeout expects a value'),
        (['--lock-timeout=soon'], 2, 'err', "error: --lock-timeout: invalid value 'soon'"),
    ],
)
def test_applier_options(capsys, argv, status, stream, text):
    assert applier.main(argv) == status
    captured = capsys.readouterr()
    assert text in (captured.out if stream == 'out' else captured.err)
