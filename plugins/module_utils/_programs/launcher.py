# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""What the installed launchers share: options, --sysroot, one prefixed line per message, exit statuses.

module_utils may not call sys.exit (ansible-test sanity), so ``run`` returns the status and the
launcher scripts written by _install/launcher_texts.py exit with it. The options are parsed here rather than by
argparse, whose import alone takes longer than the boot applier's work (README, Performance).
"""

from __future__ import annotations

import sys

from .._host.sysfs import SysrootError, check_sysroot
from ..errors import UksmError

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    Out = t.Callable[[str], None]
    # option name (without --) -> (default, conversion, help)
    Options = t.Dict[str, t.Tuple[t.Any, t.Callable[[str], t.Any], str]]


# The option of the launchers that take the host lock (the boot applier and the tuner).
LOCK_TIMEOUT: Options = {'lock-timeout': (30.0, float, 'seconds to wait for the host lock (default 30)')}


class UsageError(UksmError):
    """Arguments the launcher does not understand."""


def parse(options: Options, argv: t.Sequence[str]) -> dict[str, t.Any]:
    """``--name value`` and ``--name=value`` for each of ``options``; raises ``UsageError``."""
    values = {name: default for name, (default, _convert, _help) in options.items()}
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, sep, value = arg[2:].partition('=') if arg.startswith('--') else ('', '', '')
        if name not in options:
            raise UsageError('unrecognised argument: %s' % arg)
        if not sep:
            if not args:
                raise UsageError('--%s expects a value' % name)
            value = args.pop(0)
        try:
            values[name] = options[name][1](value)
        except ValueError:
            raise UsageError('--%s: invalid value %r' % (name, value)) from None
    return values


def usage(description: str, options: Options) -> str:
    synopsis = ' '.join('[--%s %s]' % (name, name.upper().replace('-', '_')) for name in options)
    lines = ['usage: %s [--help] %s' % (sys.argv[0], synopsis), '', description, '']
    lines += ['  --%-14s %s' % (name, text) for name, (_default, _convert, text) in options.items()]
    return '\n'.join(lines) + '\n'


def run(
    description: str,
    prefix: str,
    argv: t.Sequence[str] | None,
    options: Options,
    body: t.Callable[[str, dict[str, t.Any], Out], int],
) -> int:
    """Parse the arguments (status 2 when wrong), check the sysroot (2 when unusable), return ``body``'s status."""
    options = dict({'sysroot': ('/', str, 'root of the host (default /)')}, **options)
    argv = sys.argv[1:] if argv is None else argv
    if '-h' in argv or '--help' in argv:
        sys.stdout.write(usage(description, options))
        return 0
    try:
        values = parse(options, argv)
    except UsageError as error:
        sys.stderr.write('%s%s: error: %s\n' % (usage(description, options), sys.argv[0], error))
        return 2

    def out(line: str) -> None:
        # one line per message: systemd sends each to the journal under the unit's name
        sys.stdout.write(prefix + line + '\n')
        sys.stdout.flush()

    try:
        sysroot = check_sysroot(values.pop('sysroot'))
    except SysrootError as error:
        out('FAILED: %s' % error)
        return 2
    try:
        return body(sysroot, values, out)
    except Exception as error:  # pylint: disable=broad-except
        # the unit promises one FAILED line in the journal, never a traceback: a bug or an input no
        # check foresaw still ends as a message, with the exception's type to find it by
        out('FAILED: unexpected %s: %s' % (type(error).__name__, error))
        return 1
