# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put the offline stand-in for ansible-test's pip bootstrap script where this Python's ansible-test looks for it.

ansible-test bootstraps pip in every virtual environment it creates with a get-pip.py script it downloads
from ci-files.testing.ansible.com, which is not a package registry and cannot be reached here.
get_pip_offline.py (beside this file) stands in for it: pip from ensurepip, then the packages ansible-test
asks for, from the package index. It is copied where ansible-test caches the download. It was written for
the pip versions of WRITTEN_FOR: when ansible-test asks for another one, or caches the script elsewhere,
this fails instead of letting ansible-test download.

Usage: python pip_bootstrap.py PYTHON_VERSION...
Run it with the interpreter that runs ansible-test; the versions are those of the virtual environments
ansible-test will create (the controller's, and a target's).
"""

from __future__ import annotations

import inspect
import os
import shutil
import sys
import types

from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._util.target.setup import requirements

STAND_IN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'get_pip_offline.py')
# pip 24.2: ansible-core 2.19; pip 25.2: ansible-core 2.20 and 2.21
WRITTEN_FOR = ('24.2', '25.2')
CACHE = '~/.ansible/test/cache/get_pip_%s.py'


def install(python_version: str) -> str:
    """Copy the stand-in to the cache path of the pip version ansible-test bootstraps on that Python; the path."""
    wanted = get_venv_packages(types.SimpleNamespace(version=python_version))['pip']
    if wanted not in WRITTEN_FOR:
        raise SystemExit(
            'ansible-test now bootstraps pip %s on Python %s; tests/tools/get_pip_offline.py was written for pip %s. '
            'Check that it still accepts the options ansible-test passes, then add the version to WRITTEN_FOR in %s.'
            % (wanted, python_version, ' and '.join(WRITTEN_FOR), __file__)
        )
    if "'%s'" % CACHE not in inspect.getsource(requirements):
        raise SystemExit(
            'ansible-test no longer caches its pip bootstrap script at %s; find where it does (%s) and update CACHE in %s.'
            % (CACHE, requirements.__file__, __file__)
        )
    cache = os.path.expanduser(CACHE % wanted.replace('.', '_'))
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    shutil.copyfile(STAND_IN, cache)
    return cache


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit('usage: %s PYTHON_VERSION...' % sys.argv[0])
    for version in sys.argv[1:]:
        print('pip bootstrap for Python %s: %s' % (version, install(version)))


if __name__ == '__main__':
    main()
