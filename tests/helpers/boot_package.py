# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot package and its three launchers installed under a test's root as uksm_policy_unit installs
them (installation.install, then compile_package), for the interpreter running the tests."""

from __future__ import annotations

import os
import sys

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths
from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation

# program -> its launcher, relative to the root
LAUNCHERS = {
    'applier': paths.LAUNCHER,
    'metrics': paths.METRICS_LAUNCHER,
    'tuner': paths.PRESSURE_LAUNCHER,
}


def install_boot_package(root: str) -> str:
    """Install and compile; the directory the launchers put on ``sys.path`` (the package's parent)."""
    files = installation.artefacts(sys.executable, metrics_output='/run/uksm.prom', pressure_interval=30)
    changed = installation.install(root, files, check_mode=False)
    installation.compile_package(root, changed, check_mode=False)
    return os.path.join(root, paths.APPLIER_DIR)
