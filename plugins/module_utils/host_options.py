# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The argument spec of the options the modules share; plugins/doc_fragments/host.py documents them.

Doc fragments are read by ansible-doc only, never shipped with a module, so the argument spec lives here;
a change to one side must be made on the other (ansible-test's validate-modules compares them).
"""

from __future__ import annotations

# the fragment litevirt.uksm.host
SYSROOT = {'sysroot': {'type': 'path', 'default': '/'}}
# litevirt.uksm.host and litevirt.uksm.host.backend
HOST = dict(SYSROOT, backend={'type': 'str', 'default': 'auto', 'choices': ['auto', 'uksm', 'ksm']})
# litevirt.uksm.host.writes
WRITES = {
    'allow_unmerge': {'type': 'bool', 'default': False},
    'allow_eval_intervals_memory_corruption': {'type': 'bool', 'default': False},
    'lock_timeout': {'type': 'float', 'default': 30},
    'pressure_hysteresis': {'type': 'int', 'default': 5},
}
