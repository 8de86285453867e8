# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page's only style sheet, inline in the page and allowed by its hash
(fleet_html.py's Content-Security-Policy): no external font, image or reference."""

from __future__ import annotations

STYLE = """
:root { color-scheme: light; --ink: #1d2430; --muted: #5d6878; --line: #dde2ea; --bar: #2f6fde;
  --warn: #b15d00; --bad: #b3261e; --off: #6b7280; --cpu: #b4540a; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "DejaVu Sans", sans-serif; color: var(--ink); background: #f6f8fb; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 12px; }
.meta, .note, .detail { color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
  margin-top: 20px; }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px;
  background: none; border: 0; padding: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .value { font-size: 26px; font-weight: 600; margin: 2px 0; }
.card.warn .value { color: var(--warn); }
.card.bad .value { color: var(--bad); }
.card ul { list-style: none; margin: 4px 0 0; padding: 0; font-size: 15px; }
.card li b { font-size: 20px; margin-left: 6px; }
.detail { font-size: 12px; overflow-wrap: anywhere; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 8px 28px; }
figure.panel { margin: 0; }
figcaption { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; margin-bottom: 4px; }
svg.chart { width: 100%; max-width: 520px; height: auto; display: block; }
svg .bar { fill: var(--bar); }
svg .cpu { fill: var(--cpu); }
svg .none { fill: #b8c0cc; }
svg .label, svg .value { font-size: 12px; fill: var(--ink); }
.tools { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin-bottom: 10px; }
.tools label { font-size: 13px; color: var(--muted); }
.tools input[type=search] { width: 16em; }
.tools input, .tools select, .tools button { font: inherit; font-size: 13px; }
.tools output { font-size: 13px; font-weight: 600; }
th button.sort { font: inherit; color: inherit; text-transform: inherit; letter-spacing: inherit; background: none;
  border: 0; padding: 0; cursor: pointer; text-align: left; }
th button.sort::after { content: " \\2195"; color: var(--line); }
th[aria-sort=ascending] button.sort::after { content: " \\2191"; color: var(--ink); }
th[aria-sort=descending] button.sort::after { content: " \\2193"; color: var(--ink); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top;
  white-space: nowrap; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
tbody th { font-weight: 600; white-space: normal; overflow-wrap: anywhere; min-width: 110px; }
td.num { text-align: right; white-space: nowrap; }
.status { font-weight: 600; }
tr.status-unavailable .status { color: var(--off); }
tr.status-unreachable .status, tr.status-failed .status, .stopped { color: var(--bad); }
.drift { color: var(--warn); font-weight: 600; white-space: normal; }
td.tier { color: var(--warn); font-weight: 600; }
.na { color: var(--muted); }
.reason { color: var(--muted); font-size: 12px; white-space: normal; min-width: 180px; max-width: 360px;
  overflow-wrap: anywhere; }
td.reason:empty { min-width: 0; }
.scroll { overflow-x: auto; }
dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 13px; }
dt { font-weight: 600; }
dd { margin: 0; color: var(--muted); }
"""
