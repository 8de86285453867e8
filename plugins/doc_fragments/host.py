# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by every module that reads or writes a host's UKSM/KSM files.

Their argument spec is plugins/module_utils/host_options.py: change both together.
"""

from __future__ import annotations


class ModuleDocFragment:
    # sysroot, which every module has
    DOCUMENTATION = r'''
options:
  sysroot:
    description:
      - Directory that stands for the root of the managed host. Every file the module reads or
        writes is taken under it, for example C(<sysroot>/sys/kernel/mm/uksm) and
        C(<sysroot>/proc/meminfo).
      - Keep the default C(/) on real hosts. Point it at a simulated host tree (tests, demos) or at
        a chroot.
    type: path
    default: /
'''

    # the kernel interface, for the modules that read or write it
    BACKEND = r'''
options:
  backend:
    description:
      - Kernel interface to use.
      - V(auto) picks V(uksm) when C(/sys/kernel/mm/uksm/cpu_governor) exists, else V(ksm) when
        C(/sys/kernel/mm/ksm/run) exists.
      - V(uksm) or V(ksm) insists on that interface; it is reported as unavailable when the
        kernel lacks it.
    type: str
    choices: [auto, uksm, ksm]
    default: auto
'''

    # the write options of the modules that change the kernel's values (uksm_tunable, uksm_policy)
    WRITES = r'''
options:
  allow_unmerge:
    description:
      - KSM only. C(merge_across_nodes) and C(max_page_sharing) cannot change while pages are shared (EBUSY).
        With this option the module writes C(run=2) (unmerges every page, which is disruptive and can take
        long), writes the attribute, and restores C(run).
    type: bool
    default: false
  allow_eval_intervals_memory_corruption:
    description:
      - UKSM only. Every write to C(eval_intervals) corrupts kernel memory on UKSM kernels (a bad free;
        repeated writes panicked a test host within seconds). Without this option a setting of
        C(eval_intervals) that differs from the kernel's value is refused.
      - The safe way to change intervals is a C(cpu_governor) setting, whose preset sets them.
    type: bool
    default: false
  lock_timeout:
    description: Seconds to wait for the host-wide lock, shared with the boot applier and the pressure tuner,
      before failing; in check mode, before reading the host anyway.
    type: float
    default: 30
  pressure_hysteresis:
    description:
      - Percent points of available memory above a tier's threshold before the tuner steps back down from it
        (stepping up is immediate). From 0 to 50. Only with O(pressure_tiers).
    type: int
    default: 5
'''

    ACTION_GROUP = r'''
attributes:
  action_group:
    description: Use C(group/litevirt.uksm.uksm) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - litevirt.uksm.uksm
'''
