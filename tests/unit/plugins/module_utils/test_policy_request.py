# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""uksm_policy's options: the argument spec and the request it fills are the same options."""

from __future__ import annotations

from ansible_collections.litevirt.uksm.plugins.module_utils.policy_request import ARGUMENT_SPEC, PolicyRequest


def test_every_option_is_a_field_of_the_request_and_back():
    # the module builds PolicyRequest from the parsed options field by field
    assert set(ARGUMENT_SPEC) == set(PolicyRequest._fields)


def test_the_request_defaults_are_what_the_options_default_to():
    request = PolicyRequest()
    for name, spec in ARGUMENT_SPEC.items():
        default = spec.get('default')
        # an empty string, list or mapping in the spec is "none" in the request
        assert getattr(request, name) == default or not (getattr(request, name) or default), name
