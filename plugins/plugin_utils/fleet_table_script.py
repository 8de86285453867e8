# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's only script: sorting and filtering the table of hosts in the page.

Static text, no data in it: it reads the table the page already has (row attributes ``data-status``,
``data-backend``, ``data-tier``, class ``drifted``; in a numeric column, the cell attribute that its
heading's ``data-sort-attribute`` names), so a host name can never end up in script. It only sets
``hidden``, reorders rows and writes text with ``textContent``. Without it the page is a plain table:
the controls stay ``hidden``. The page's Content-Security-Policy allows this script by its hash and
nothing else; every pass over the rows is linear, the sort n log n.
"""

from __future__ import annotations

import base64
import hashlib

SCRIPT = """
(() => {
  'use strict';
  const table = document.getElementById('hosts');
  const tools = document.getElementById('host-tools');
  if (!table || !tools) return;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const texts = rows.map((row) => row.textContent.toLowerCase());
  const heads = Array.from(table.tHead.rows[0].cells);
  const count = document.getElementById('host-count');
  const collator = new Intl.Collator('en', {numeric: true, sensitivity: 'base'});
  const control = (name) => document.getElementById('filter-' + name);
  const text = control('text');
  const selects = ['status', 'backend', 'tier'].map((name) => [name, control(name)]);
  const drifted = control('drifted');
  let sorted = {column: -1, ascending: true};

  // a cell's sort key: the number its column's attribute holds, or its text; null (empty, a dash) sorts last
  const key = (row, column) => {
    const cell = row.cells[column];
    const attribute = heads[column].dataset.sortAttribute;
    if (attribute) {
      const raw = cell.getAttribute(attribute);
      return raw === null || raw === '' ? null : Number(raw);
    }
    const shown = cell.textContent.trim();
    return shown === '' || shown === '\\u2014' ? null : shown;
  };

  const place = (ordered, column, ascending) => {
    const fragment = document.createDocumentFragment();
    ordered.forEach((row) => fragment.appendChild(row));
    body.appendChild(fragment);
    heads.forEach((head, index) => {
      if (index === column) head.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      else head.removeAttribute('aria-sort');
    });
    table.dataset.sortColumn = column;
    table.dataset.sortOrder = column < 0 ? 'report' : ascending ? 'ascending' : 'descending';
  };

  const sortBy = (column) => {
    const ascending = sorted.column === column ? !sorted.ascending : true;
    sorted = {column: column, ascending: ascending};
    const keyed = rows.map((row, index) => [key(row, column), index, row]);
    keyed.sort((a, b) => {
      if (a[0] === null || b[0] === null) return (a[0] === null) - (b[0] === null) || a[1] - b[1];
      const order = typeof a[0] === 'number' ? a[0] - b[0] : collator.compare(a[0], b[0]);
      return (ascending ? order : -order) || a[1] - b[1];
    });
    place(keyed.map((item) => item[2]), column, ascending);
  };

  const filter = () => {
    const needle = text.value.trim().toLowerCase();
    const wanted = selects.map(([name, select]) => [name, select.value]).filter(([, value]) => value);
    let shown = 0;
    rows.forEach((row, index) => {
      const match = (!needle || texts[index].includes(needle))
        && wanted.every(([name, value]) => row.dataset[name] === value)
        && (!drifted.checked || row.classList.contains('drifted'));
      row.hidden = !match;
      shown += match ? 1 : 0;
    });
    count.textContent = shown + ' of ' + rows.length + ' hosts shown';
  };

  heads.forEach((head, column) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sort';
    while (head.firstChild) button.appendChild(head.firstChild);
    head.appendChild(button);
    button.addEventListener('click', () => sortBy(column));
  });
  document.getElementById('report-order').addEventListener('click', () => {
    sorted = {column: -1, ascending: true};
    place(rows, -1, true);
  });
  [text, drifted].concat(selects.map(([, select]) => select)).forEach((element) => {
    element.addEventListener('input', filter);
    element.addEventListener('change', filter);
  });
  tools.hidden = false;
  filter();
})();
"""


def csp_hash(text: str) -> str:
    """The Content-Security-Policy source that allows an inline element with exactly this text."""
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode('utf-8')).digest()).decode('ascii')
