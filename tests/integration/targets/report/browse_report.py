# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Open a report.html in headless Chromium, sort and filter its table there, and print what the page then
shows, with timings, as JSON.

Usage: browse_report.py REPORT_HTML PROFILE_DIR

A driver page beside the report loads it in a frame (file URLs may reach each other with
--allow-file-access-from-files), waits for its load event, forces a layout of the whole page, then clicks
column headings and sets the filters as a person would, reading back the hosts of the visible rows
after each step. Chromium's --dump-dom prints the driver page once those steps ran (the frame's load
handler runs before the driver's own load event). Used by the report integration target (check_report.py
checks the orders and filters) and by the benchmark's scale cases (tests/bench/scale.py, the timings).
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import time

DRIVER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body><pre id="result">not run</pre>
<iframe id="report" src="%(report)s" width="1280" height="1600"></iframe>
<script>
const started = performance.now();
const frame = document.getElementById('report');
frame.addEventListener('load', () => {
  const result = {loaded_ms: performance.now() - started};
  try {
    const page = frame.contentDocument;
    let start = performance.now();
    result.height = page.documentElement.scrollHeight;  // forces the layout of the whole page
    result.layout_ms = performance.now() - start;
    const visible = () => Array.from(page.querySelectorAll('#hosts tbody tr'))
      .filter((row) => !row.hidden).map((row) => row.dataset.host);
    const heading = (name) => Array.from(page.querySelectorAll('#hosts thead th'))
      .find((head) => head.textContent.trim() === name);
    const sortBy = (name) => {
      const begin = performance.now();
      heading(name).querySelector('button').click();
      page.documentElement.scrollHeight;
      result.sort_ms = Math.max(result.sort_ms || 0, performance.now() - begin);
      return {hosts: visible(), aria_sort: heading(name).getAttribute('aria-sort')};
    };
    const filter = (id, value) => {
      const control = page.getElementById(id);
      if (control.type === 'checkbox') control.checked = value; else control.value = value;
      const begin = performance.now();
      control.dispatchEvent(new Event('input'));
      page.documentElement.scrollHeight;
      result.filter_ms = Math.max(result.filter_ms || 0, performance.now() - begin);
      return {hosts: visible(), count: page.getElementById('host-count').textContent};
    };
    result.tools_shown = !page.getElementById('host-tools').hidden;
    result.report_order = visible();
    result.sorted = {};
    for (const name of ['Host', 'Saved', 'CPU time', 'Available', 'Status', 'Tier']) {
      result.sorted[name] = {ascending: sortBy(name), descending: sortBy(name)};
    }
    page.getElementById('report-order').click();
    result.after_reset = visible();
    // where the reason of each host that is not ok is, every row shown: at 1280 px and in a narrow window
    result.geometry = {};
    for (const width of [1280, 800]) {
      frame.width = String(width);
      const viewport = page.documentElement.clientWidth;  // lays the page out at that width
      result.geometry[width] = {viewport: viewport, rows: Array.from(page.querySelectorAll('#hosts tbody tr'))
        .filter((row) => row.dataset.status !== 'ok').map((row) => {
          const status = row.querySelector('.status').getBoundingClientRect();
          const reason = row.querySelector('.reason').getBoundingClientRect();
          return {host: row.dataset.host, status_right: status.right, reason_left: reason.left,
            reason_right: reason.right, reason_width: reason.width, reason: row.querySelector('.reason').textContent};
        })};
    }
    frame.width = '1280';
    result.filtered = {};
    const options = (id) => Array.from(page.getElementById(id).options).map((option) => option.value).filter((v) => v);
    for (const name of ['status', 'backend', 'tier']) {
      const id = 'filter-' + name;
      result.filtered[name] = {};
      for (const value of options(id)) result.filtered[name][value] = filter(id, value);
      filter(id, '');
    }
    result.filtered.drifted = filter('filter-drifted', true);
    filter('filter-drifted', false);
    result.filtered.text = {};
    for (const value of ['UKSM', 'hv-d', 'sleep_millisecs', 'no such host']) result.filtered.text[value] = filter('filter-text', value);
    result.filtered.combined = (filter('filter-backend', 'uksm'), filter('filter-text', 'hv-d'));
    result.chart_bars = page.querySelectorAll('svg.chart rect').length;
  } catch (error) {
    result.error = String(error);
  }
  document.getElementById('result').textContent = JSON.stringify(result);
});
</script></body></html>
"""


def browse(report: str, profile: str) -> dict:
    report = os.path.abspath(report)
    driver = os.path.join(os.path.dirname(report), 'browse-driver.html')
    with open(driver, 'w', encoding='utf-8') as handle:
        handle.write(DRIVER % {'report': os.path.basename(report)})
    start = time.monotonic()
    done = subprocess.run(
        [
            'chromium',
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--no-first-run',
            '--allow-file-access-from-files',
            '--user-data-dir=' + profile,
            '--window-size=1320,1700',
            '--dump-dom',
            'file://' + driver,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - start
    os.remove(driver)
    if done.returncode != 0:
        raise RuntimeError('chromium failed (exit %d): %s' % (done.returncode, done.stderr[-2000:]))
    dumped = done.stdout
    text = dumped[dumped.index('<pre id="result">') + len('<pre id="result">') : dumped.index('</pre>')]
    if text == 'not run':
        raise RuntimeError('the driver page did not see the report load: %s' % done.stderr[-2000:])
    result = json.loads(html.unescape(text))
    result['chromium_wall_s'] = round(elapsed, 3)
    return result


if __name__ == '__main__':
    print(json.dumps(browse(sys.argv[1], sys.argv[2])))
