# -*- coding: utf-8 -*-
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

    ACTION_GROUP = r'''
attributes:
  action_group:
    description: Use C(group/litevirt.uksm.uksm) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - litevirt.uksm.uksm
'''
