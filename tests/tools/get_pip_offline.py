# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip.py that ansible-test downloads from a host CI machines cannot reach.

ansible-test runs its cached bootstrap script (~/.ansible/test/cache/get_pip_<version>.py) with
pip's install options and the pinned infrastructure packages. This script installs pip from the
Python standard library (ensurepip) and then installs those same packages from the package index.
"""

import subprocess
import sys

# get-pip.py options that `pip install` does not know
GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')


def main() -> None:
    # a child process: ensurepip.bootstrap() in-process would set PIP_CONFIG_FILE=/dev/null for us too
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
    arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + arguments)


if __name__ == '__main__':
    main()
