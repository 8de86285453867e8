# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""uksm_policy's options: the argument spec and the request it fills are the same options."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._policy.policy_request import (
    ARGUMENT_SPEC,
    PolicyRequest,
    request_of,
)


def test_every_option_is_a_field_of_the_request_and_back():
    # the module builds PolicyRequest from the parsed options field by field
    assert set(ARGUMENT_SPEC) == set(PolicyRequest._fields)


def test_a_request_of_no_options_has_the_argument_specs_defaults():
    request = request_of()
    assert request._asdict() == {name: spec.get('default') for name, spec in ARGUMENT_SPEC.items()}
    # each request has defaults of its own: a caller that changes one changes no other request
    request.uksm_settings['run'] = 1
    assert request_of().uksm_settings == {}


def test_a_request_keeps_the_options_given():
    assert request_of(preset='quiet', sysroot='/srv/hv1')[:2] == ('present', 'quiet')
    assert request_of(preset='quiet', sysroot='/srv/hv1').sysroot == '/srv/hv1'


def test_a_request_of_an_unknown_option_is_refused_expect_failure():
    with pytest.raises(TypeError) as caught:
        request_of(presets='quiet', persistence=True)
    assert str(caught.value) == 'not options of uksm_policy: persistence, presets'
