# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/host_options.py: the shared argument specs are what the doc fragment litevirt.uksm.host documents,
and the backend's choices are the knob model's interfaces."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.litevirt.uksm.plugins.doc_fragments.host import ModuleDocFragment
from ansible_collections.litevirt.uksm.plugins.module_utils import host_options
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import BACKENDS


def test_backend_choices_are_auto_and_every_interface_of_the_knob_model():
    assert host_options.HOST['backend']['choices'] == ['auto', *BACKENDS]


@pytest.mark.parametrize(
    'spec, fragment',
    [
        (host_options.SYSROOT, ModuleDocFragment.DOCUMENTATION),
        ({'backend': host_options.HOST['backend']}, ModuleDocFragment.BACKEND),
        (host_options.WRITES, ModuleDocFragment.WRITES),
    ],
    ids=['sysroot', 'backend', 'writes'],
)
def test_each_option_is_documented_with_its_type_default_and_choices(spec, fragment):
    documented = yaml.safe_load(fragment)['options']
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        assert {key: documented[name].get(key) for key in ('type', 'default', 'choices')} == {
            key: option.get(key) for key in ('type', 'default', 'choices')
        }, name
