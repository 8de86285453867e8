# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the installed launchers share: --sysroot, one prefixed line per message, exit statuses.

module_utils may not call sys.exit (ansible-test sanity), so ``run`` returns the status and the
launcher scripts written by bootunit exit with it.
"""

from __future__ import annotations

import argparse
import sys
import typing as t

from .sysfs import SysrootError, check_sysroot

Out = t.Callable[[str], None]


def run(description: str, prefix: str, argv: t.Optional[t.Sequence[str]],
        add_options: t.Callable[[argparse.ArgumentParser], None],
        body: t.Callable[[str, argparse.Namespace, Out], int]) -> int:
    """Parse the arguments, check the sysroot (status 2 when unusable), then return ``body``'s status."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--sysroot', default='/', help='root of the host (default /)')
    add_options(parser)
    args = parser.parse_args(argv)

    def out(line: str) -> None:
        # one line per message: systemd sends each to the journal under the unit's name
        sys.stdout.write(prefix + line + '\n')
        sys.stdout.flush()

    try:
        sysroot = check_sysroot(args.sysroot)
    except SysrootError as error:
        out('FAILED: %s' % error)
        return 2
    return body(sysroot, args, out)
