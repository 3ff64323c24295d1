import type { AttentionRows } from './report-rows.js';
import { timelineSvg, type Timeline } from './report-timeline.js';
import { writeFileAtomically } from './summary-json.js';

/** Everything the HTML report shows; made from a run's or a validation's summary. */
export interface ReportData {
  readonly command: string;
  readonly input: string;
  /** Results file, `-` for stdout, '' when none was written. */
  readonly out: string;
  readonly simulated: boolean;
  readonly startedAt?: string | undefined;
  readonly elapsedMs: number;
  readonly rows: number;
  /** HTTP requests started; undefined for validate, which sends none. */
  readonly requests?: number | undefined;
  readonly byOutcome: Readonly<Partial<Record<string, number>>>;
  readonly byErrorCode: Readonly<Partial<Record<string, number>>>;
  readonly stopped?: { readonly code: string; readonly message: string } | undefined;
  readonly exitCode: number;
  readonly attention: AttentionRows;
  /** Rows, 429s and pace over the run's time; none for validate, which sends nothing. */
  readonly timeline?: Timeline | undefined;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Makes any text safe inside an element or a quoted attribute: values come from CSV files and servers. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

export interface Bar {
  readonly label: string;
  readonly value: number;
}

/**
 * A horizontal bar chart as inline SVG: one bar per entry, its label on the left and its count on
 * the right, bars scaled to the largest. No library: a report must open without a network.
 */
export function barChartSvg(title: string, bars: readonly Bar[]): string {
  if (bars.length === 0) return `<p class="none">${escapeHtml(title)}: none</p>`;
  const rowHeight = 24;
  const labelWidth = 220;
  const barWidth = 360;
  const width = labelWidth + barWidth + 80;
  const height = bars.length * rowHeight + 8;
  const largest = Math.max(1, ...bars.map((bar) => bar.value));
  const rows = bars.map(({ label, value }, index) => {
    const y = 4 + index * rowHeight;
    const length = Math.max(value > 0 ? 2 : 0, Math.round((value / largest) * barWidth));
    return (
      `<g class="bar"><text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 3}" width="${length}" height="${rowHeight - 6}" rx="2"></rect>` +
      `<text x="${labelWidth + length + 6}" y="${y + 16}">${value}</text></g>`
    );
  });
  return (
    `<svg role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeHtml(title)}</title>${rows.join('')}</svg>`
  );
}

/** Entries with a count, largest first; ties keep their order. */
const barsOf = (counts: Readonly<Partial<Record<string, number>>>): Bar[] =>
  Object.entries(counts)
    .filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0)
    .map(([label, value]) => ({ label, value }))
    .toSorted((a, b) => b.value - a.value);

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
.simulated{background:#fff3cd;padding:.4em .8em;border-radius:4px}
.stopped{background:#f8d7da;padding:.4em .8em;border-radius:4px}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}dd{margin:0}
svg text{font:12px system-ui,sans-serif;fill:#222}svg rect{fill:#4a7bd0}svg rect.rate-limited{fill:#d0343b}
svg .pace{fill:none;stroke:#2a8a3a;stroke-width:2}svg .axis{stroke:#888}
table{border-collapse:collapse;margin-top:.6em}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}
th{background:#f2f2f2}input[type=search]{padding:.3em;width:24em}.note{color:#555}
`;

// Filters the table as the user types: a row stays when any of its cells holds the text.
const SCRIPT = `
const box=document.getElementById('filter');
const rows=[...document.querySelectorAll('#attention tbody tr')];
const shown=document.getElementById('shown');
box.addEventListener('input',()=>{
  const wanted=box.value.trim().toLowerCase();let count=0;
  for(const row of rows){const hit=row.textContent.toLowerCase().includes(wanted);row.hidden=!hit;if(hit)count++;}
  shown.textContent=String(count);
});
`;

/** The whole report as one self-contained HTML page: inline CSS, inline SVG, one small inline script. */
export function buildReportHtml(data: ReportData): string {
  const seconds = (data.elapsedMs / 1000).toFixed(1);
  const facts: Array<[string, string]> = [
    ['command', data.command],
    ['input', data.input],
    ['results', data.out === '-' ? 'stdout' : data.out || 'not written'],
    ['rows', String(data.rows)],
    ...(data.requests === undefined ? [] : [['requests', String(data.requests)] as [string, string]]),
    ...(data.startedAt === undefined ? [] : [['started', data.startedAt] as [string, string]]),
    ['elapsed', `${seconds} s`],
    ['stopped', data.stopped ? `${data.stopped.code}: ${data.stopped.message}` : 'no'],
    ['exit code', String(data.exitCode)],
  ];
  const listed = data.attention.rows.toSorted((a, b) => a.line - b.line);
  const cells = listed.map(
    (row) =>
      `<tr><td>${row.line}</td><td>${escapeHtml(row.deviceSerialNumber)}</td><td>${escapeHtml(row.userId)}</td>` +
      `<td>${escapeHtml(row.outcome)}</td><td>${escapeHtml(row.errorCode ?? '')}</td>` +
      `<td>${escapeHtml(row.errorMessage ?? '')}</td></tr>`,
  );
  const total = listed.length + data.attention.more;
  const more =
    data.attention.more > 0
      ? `<p class="note" id="more">${data.attention.more} more rows need attention and are not listed here ` +
        `(the report keeps the first ${listed.length}); the results file has every row.</p>`
      : '';
  const title = `ds100-bulk ${data.command}: ${data.input}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${data.simulated ? '<p class="simulated">SIMULATED TENANT (--simulate): no real tenant or device was touched.</p>' : ''}
${data.stopped ? `<p class="stopped">Run stopped early (${escapeHtml(data.stopped.code)}): ${escapeHtml(data.stopped.message)}</p>` : ''}
<h2>Summary</h2>
<dl id="summary">${facts.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>
<h2>Outcomes</h2>
<div id="outcomes">${barChartSvg('Rows by outcome', barsOf(data.byOutcome))}</div>
<h2>Error codes</h2>
<div id="error-codes">${barChartSvg('Rows by error code', barsOf(data.byErrorCode))}</div>
${
  data.timeline
    ? `<h2>Throughput and pace over time</h2>
<div id="timeline">${timelineSvg(data.timeline)}</div>
`
    : ''
}<h2>Rows that need attention (${total})</h2>
${more}
${
  listed.length === 0
    ? '<p class="none">None: every row ended well.</p>'
    : `<p><label>Filter: <input type="search" id="filter" placeholder="serial, user, code, text…"></label>
<span class="note"><span id="shown">${listed.length}</span> of ${listed.length} shown</span></p>
<table id="attention"><thead><tr><th>line</th><th>serial</th><th>user</th><th>outcome</th><th>code</th><th>message</th></tr></thead>
<tbody>
${cells.join('\n')}
</tbody></table>
<script>${SCRIPT}</script>`
}
</body>
</html>
`;
}

/** Writes the report atomically; throws a Ds100Error OUTPUT_FILE naming the file and the reason. */
export function writeReport(path: string, data: ReportData): void {
  writeFileAtomically(path, buildReportHtml(data), 'report');
}
