/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A section of a report: a heading and trusted HTML (SVG plots, tables built with {@link htmlTable}). */
export interface ReportSection {
  title: string;
  html: string;
}

/** A plain HTML table; every cell is escaped. */
export function htmlTable(header: string[], rows: (string | number)[][]): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** One self-contained HTML page (no scripts, no external resources). */
export function renderHtmlReport({ title, subtitle, sections }: { title: string; subtitle?: string; sections: ReportSection[] }): string {
  const style = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
th{background:#f3f3f3}h2{margin-top:2em;border-bottom:1px solid #ddd}svg{max-width:100%;height:auto}
.muted{color:#666}`;
  const parts = sections.map((s) => `<section><h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${style}</style></head>
<body><h1>${escapeHtml(title)}</h1>${subtitle ? `<p class="muted">${escapeHtml(subtitle)}</p>` : ''}
${parts}
</body></html>
`;
}
