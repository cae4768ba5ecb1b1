/**
 * The report's only stylesheet, inlined into its <head>: no external URL, no script. Colours keep
 * a contrast of 4.5:1 or more on white (axe's "serious" threshold), and the print rules keep every
 * figure and table inside the printable width of A4 and Letter.
 */
export const reportCss = `
:root { --ink: #1b1f24; --muted: #4a5361; --line: #c9d1d9; --accent: #0b5cad; --ok: #1a6b34;
  --warn: #8a4b00; --bad: #b3261e; --ill: #6b3fa0; --ill-bg: #f4eefb; }
* { box-sizing: border-box; }
html { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
body { margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid var(--line); break-after: avoid; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; break-after: avoid; }
p, li { overflow-wrap: anywhere; }
code { font: .9em/1.3 ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.ids { color: var(--muted); font-size: .9rem; }
.banner { border: 2px solid var(--ill); background: var(--ill-bg); color: #3d2163; padding: .6rem .8rem; border-radius: 4px; margin: .8rem 0; font-weight: 600; }
.ill { display: inline-block; font-size: .75rem; font-weight: 600; font-style: italic; color: var(--ill); border: 1px solid var(--ill); border-radius: 3px; padding: 0 .3rem; margin-left: .3rem; white-space: nowrap; }
.verdict { display: inline-block; font-weight: 700; padding: .3rem .7rem; border-radius: 4px; color: #fff; }
.verdict-recommended, .verdict-up-to-date { background: var(--ok); }
.verdict-possible-with-actions { background: var(--warn); }
.verdict-not-recommended { background: #5b4a00; }
.verdict-blocked { background: var(--bad); }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: .4rem 0 .8rem; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .4rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { background: #f3f5f8; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
figure { margin: .5rem 0 1rem; break-inside: avoid; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
svg { max-width: 100%; height: auto; display: block; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.status-pass { color: var(--ok); font-weight: 600; }
.status-warn { color: var(--warn); font-weight: 600; }
.status-fail { color: var(--bad); font-weight: 600; }
.sev-blocking { color: var(--bad); font-weight: 700; }
.sev-action { color: var(--warn); font-weight: 700; }
.howto { border-left: 4px solid var(--accent); background: #eef4fb; padding: .5rem .8rem; }
.ponr { border: 2px solid var(--bad); padding: .5rem .8rem; border-radius: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; font-size: .85rem; color: var(--muted); margin: .2rem 0; padding: 0; list-style: none; }
.legend .swatch { display: inline-block; width: 1.6rem; height: .7rem; vertical-align: middle; margin-right: .3rem; border: 1px solid var(--muted); }
section { break-inside: auto; }
@page { margin: 14mm 12mm; }
@media print {
  html { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  a { color: inherit; }
  .page-break { break-before: page; }
  h2 { break-after: avoid; }
  figure, .banner, .ponr, .howto { break-inside: avoid; }
  .verdict, .banner, .ill, th, .swatch, svg * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
`;
