# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot applier as installed files: the same code as the collection, a unit systemd accepts."""

from __future__ import annotations

import os
import subprocess
import sys

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation, unit_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather

# closed under relative imports: the launcher imports it in isolation below


def test_installed_launcher_repairs_drift_in_isolation(make_host):
    host = make_host('uksm')
    root = host.paths.root
    installation.install(root, installation.artefacts(sys.executable), check_mode=False)
    persist.save(root, persist.render({'uksm': {'cpu_governor': 'low', 'run': '1'}}))
    command = (
        [sys.executable] + unit_texts.PYTHON_FLAGS.split() + [os.path.join(root, paths.LAUNCHER), '--sysroot', root]
    )
    # -I: no PYTHONPATH, so only the installed package can satisfy the imports
    result = subprocess.run(command, capture_output=True, text=True, check=False, env={})
    assert result.returncode == 0, result.stderr
    assert 'uksm-policy: uksm cpu_governor: full -> low' in result.stdout.splitlines()
    assert gather(root)['tunables']['cpu_governor'] == 'low'
    assert not os.path.exists(os.path.join(root, paths.APPLIER_DIR, paths.PACKAGE, '__pycache__'))
    again = subprocess.run(command, capture_output=True, text=True, check=False, env={})
    assert again.stdout == 'uksm-policy: uksm policy applied: 2 requested, 0 changed: all already set\n'
