# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The launcher scripts the units start: a few lines that put the installed package on sys.path, run
the modules its program imports at start from their bytecode (_programs/preload.py, in the order
package_closure.start_order found) and call the program's ``main``."""

from __future__ import annotations

import typing as t

from .._host.paths import METRICS_TIMER, PACKAGE, POLICY_FILE, PRESSURE_TIMER, UNIT_NAME
from .unit_texts import MANAGED, PYTHON_FLAGS

# A #! line passes one argument: the same flags joined (-ISB).
SHEBANG_FLAGS = '-' + PYTHON_FLAGS.replace('-', '').replace(' ', '')


def _launcher(python: str, purpose: str, module: str, start: t.Sequence[str]) -> str:
    return '''#!%s %s
# %s
"""%s"""
import gc
import sys

# The imports make thousands of objects that live as long as the program, and a collection would walk
# them again after every 700: none while importing, and frozen out of every collection afterwards.
gc.disable()
# the unit names this file by its absolute path; no os.path: the program never imports os (_host/sysfs.py)
sys.path.insert(0, __file__.rpartition('/')[0])
# the modules the program imports when it starts (the boot applier's write path too), in the order
# Python finishes them, run from their bytecode by %s/_programs/preload.py; that file is loaded as the
# import system would load it (its checked bytecode, or its source), without the search for it, which
# costs more than the file itself
START = (
%s)
_loader = sys.modules['_frozen_importlib_external'].SourceFileLoader(
    '%s._programs.preload', sys.path[0] + '/%s/_programs/preload.py'
)
_preloader = {'__name__': _loader.name}
exec(_loader.get_code(_loader.name), _preloader)
_preloader['preload'](sys.path[0], %r, START)
from %s.%s import main  # noqa: E402

gc.freeze()
gc.enable()
sys.exit(main(sys.argv[1:]))
''' % (
        python,
        SHEBANG_FLAGS,
        MANAGED,
        purpose,
        PACKAGE,
        ''.join('    %r,\n' % name for name in start),
        PACKAGE,
        PACKAGE,
        PACKAGE,
        PACKAGE,
        module,
    )


def launcher_text(python: str, start: t.Sequence[str]) -> str:
    """The boot applier's launcher; ``start``: package_closure.start_order of its program."""
    return _launcher(
        python,
        'Apply the persisted UKSM/KSM policy (/%s); run at boot by %s.' % (POLICY_FILE, UNIT_NAME),
        '_programs.applier',
        start,
    )


def metrics_launcher_text(python: str, start: t.Sequence[str]) -> str:
    return _launcher(
        python,
        'Write UKSM/KSM metrics for node_exporter; run every minute by %s.' % METRICS_TIMER,
        '_programs.metrics',
        start,
    )


def pressure_launcher_text(python: str, start: t.Sequence[str]) -> str:
    return _launcher(
        python,
        'Apply the pressure tier that available memory calls for; run by %s.' % PRESSURE_TIMER,
        '_programs.tuner',
        start,
    )
