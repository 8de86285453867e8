# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's rows and totals, from hand-written facts and from gather() on simulated hosts."""

from __future__ import annotations

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize


def by_host(summary: dict) -> dict:
    return {row['host']: row for row in summary['hosts']}


def test_gathered_facts_of_simulated_hosts(make_host):
    uksm = make_host('uksm')
    ksm = make_host('ksm', active=True)
    idle = make_host('ksm-old')
    plain = make_host('none')
    drifted = make_host('uksm')
    persist.save(drifted.paths.root, persist.render({'uksm': {'cpu_governor': 'medium', 'sleep_millisecs': '200'}}))
    gathered = {
        name: gather(host.paths.root)
        for name, host in (('uksm', uksm), ('ksm', ksm), ('idle', idle), ('plain', plain), ('drifted', drifted))
    }
    summary = summarize(dict(gathered, down=None))
    totals = summary['totals']
    assert totals['saved_bytes'] == sum(f['savings']['bytes'] for f in gathered.values() if f['available']) > 0
    assert totals['by_backend'] == {'ksm': 2, 'uksm': 2} and totals['by_governor'] == {'full': 2}
    assert totals['without_interface'] == 1 and totals['unreachable'] == 1 and totals['hosts'] == 6
    assert totals['with_savings'] == 3  # the idle KSM host saves nothing
    assert gathered['drifted']['policy']['drift'] and not gathered['uksm']['policy']['drift']
    assert summary['drifted_hosts'] == ['drifted']
    rows = by_host(summary)
    for name, host_fact in gathered.items():
        assert rows[name]['drift'] == host_fact['policy']['drift']
        assert rows[name]['available'] == host_fact['available']
        if host_fact['available']:
            assert rows[name]['saved_bytes'] == host_fact['savings']['bytes']
            assert rows[name]['daemon_running'] is True
    assert rows['drifted']['policy_persisted'] is True and rows['uksm']['policy_persisted'] is False
