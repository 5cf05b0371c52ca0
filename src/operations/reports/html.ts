import type { Block, ReportDocument, Status } from './model.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const COLOURS: Record<Status, string> = { ok: '#1a7f37', warning: '#b35900', error: '#c62828', unavailable: '#6b7280' };

function diagram(b: Extract<Block, { kind: 'diagram' }>): string {
  const w = 180;
  const gap = 20;
  const width = Math.max(1, b.nodes.length) * (w + gap) + gap;
  const boxes = b.nodes.map((n, i) => {
    const x = gap + i * (w + gap);
    const colour = n.state === 'up' ? COLOURS.ok : n.state === 'stale' ? COLOURS.error : COLOURS.unavailable;
    return `<rect x="${x}" y="10" width="${w}" height="60" rx="6" fill="#f8fafc" stroke="${colour}" stroke-width="2"/>`
      + `<text x="${x + w / 2}" y="34" text-anchor="middle" font-size="13">${esc(n.name)}</text>`
      + `<text x="${x + w / 2}" y="54" text-anchor="middle" font-size="11" fill="#475569">${esc(n.roles)} · ${esc(n.state)}</text>`
      + `<line x1="${x + w / 2}" y1="70" x2="${width / 2}" y2="120" stroke="#94a3b8"/>`;
  }).join('');
  const store = `<rect x="${width / 2 - 110}" y="120" width="220" height="44" rx="6" fill="#eef2ff" stroke="#6366f1"/><text x="${width / 2}" y="147" text-anchor="middle" font-size="13">${esc(b.store)}</text>`;
  return `<svg class="diagram" viewBox="0 0 ${width} 175" width="${Math.min(width, 900)}" role="img">${boxes}${store}</svg>`;
}

function block(b: Block): string {
  switch (b.kind) {
    case 'heading': return `<h2>${esc(b.text)}</h2>`;
    case 'fields': return `<table class="fields">${b.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v).replace(/\n/g, '<br>')}</td></tr>`).join('')}</table>`;
    case 'table': return `<table class="grid"><thead><tr>${b.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r, i) => {
      const s = b.statuses?.[i];
      return `<tr${s ? ` class="${s}"` : ''}>${r.map((c) => `<td>${esc(c).replace(/\n/g, '<br>')}</td>`).join('')}</tr>`;
    }).join('')}</tbody></table>`;
    case 'paragraph': return `<p>${esc(b.text).replace(/\n/g, '<br>')}</p>`;
    case 'checkboxes': return `<p class="checks"><strong>${esc(b.label)}</strong> ${b.options.map((o) => `<span>${o === b.checked ? '■' : '□'} ${esc(o)}</span>`).join(' ')}</p>`;
    case 'diagram': return diagram(b);
    case 'blanks': return `<table class="fields blanks">${b.rows.map((r) => `<tr><th>${esc(r)}</th><td></td></tr>`).join('')}</table>`;
    case 'signatures': return `<table class="fields sign"><tr><td>${esc(b.left)}</td><td>${esc(b.right)}</td></tr></table>`;
  }
}

/** A self-contained HTML page (no external resources) for the browser, mail or printing. */
export function renderHtml(doc: ReportDocument): string {
  const css = `body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:960px;margin:24px auto;color:#111827;padding:0 16px}
h1{font-size:24px;margin:0}h1+p{color:#4b5563;margin-top:4px}h2{font-size:17px;border-bottom:2px solid #1f2937;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #d1d5db;padding:6px 8px;text-align:left;vertical-align:top;font-size:13px}
.fields th{width:28%;background:#f3f4f6}.blanks td{height:28px}.sign td{height:64px;width:50%}
.grid thead th{background:#1f2937;color:#fff}${(Object.keys(COLOURS) as Status[]).map((s) => `tr.${s} td:nth-child(3){color:${COLOURS[s]};font-weight:600}`).join('')}
.checks span{margin-right:16px}footer{margin-top:32px;color:#6b7280;font-size:12px}@media print{body{margin:0}}`;
  return `<!doctype html><html lang="${doc.lang}"><head><meta charset="utf-8"><title>${esc(doc.title)}</title><style>${css}</style></head><body>`
    + `<h1>${esc(doc.title)}</h1><p>${esc(doc.subtitle)}</p>${doc.blocks.map(block).join('\n')}<footer>${esc(doc.footer)}</footer></body></html>`;
}
