# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot package and its three launchers installed under a test's root as uksm_policy_unit installs
them (installation.install, then compile_package), for the interpreter running the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths
from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation

# program -> its launcher, relative to the root
LAUNCHERS = {
    'applier': paths.LAUNCHER,
    'metrics': paths.METRICS_LAUNCHER,
    'tuner': paths.PRESSURE_LAUNCHER,
}
# the last line of every launcher, where a test's changed copy adds what it probes
LAUNCHER_ENDING = '\nsys.exit(main(sys.argv[1:]))\n'
# a line a changed copy prints: which of the modules that importing os brings in the run imported
OS_PROBE = "print(sorted({'os', 'posixpath', '_collections_abc'} & set(sys.modules)))\n"


def install_boot_package(root: str) -> str:
    """Install and compile; the directory the launchers put on ``sys.path`` (the package's parent)."""
    files = installation.artefacts(sys.executable, metrics_output='/run/uksm.prom', pressure_interval=30)
    changed = installation.install(root, files, check_mode=False)
    installation.compile_package(root, changed, check_mode=False)
    return os.path.join(root, paths.APPLIER_DIR)


def run_changed_launcher(
    root: str, program: str, edit: t.Callable[[str], str], *args: str
) -> subprocess.CompletedProcess:
    """Write beside ``program``'s launcher installed under ``root`` a copy that ``edit`` (a function of the
    launcher's text) changed, and run that copy with the units' flags; its output is text."""
    installed = os.path.join(root, LAUNCHERS[program])
    with open(installed, encoding='utf-8') as handle:
        text = handle.read()
    assert text.endswith(LAUNCHER_ENDING)
    # beside the installed launcher: it puts its own directory on sys.path
    copy = installed + '-changed'
    with open(copy, 'w', encoding='utf-8') as handle:
        handle.write(edit(text))
    return subprocess.run([sys.executable, '-I', '-S', '-B', copy, *args], check=False, capture_output=True, text=True)
