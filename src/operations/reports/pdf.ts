import fs from 'node:fs';
import PDFDocument from 'pdfkit';
import { AppError } from '../../core/errors.ts';
import type { Block, ReportDocument, Status } from './model.ts';

/**
 * PDF with pdfkit: pure JavaScript, no browser process on the server. It embeds the subset of
 * a CJK font the report uses (so the PDF carries its own glyphs and a ToUnicode map, and text
 * extraction gives the Chinese back). The font comes from the system: Debian's fonts-noto-cjk
 * (Noto Sans CJK, also used by Chromium) unless operations.reports.fontFile names another.
 */
const CANDIDATES: [string, string | undefined][] = [
  ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
  ['/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', 'NotoSerifCJKsc-Regular'],
  ['/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', 'WenQuanYiMicroHei'],
  ['/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', 'WenQuanYiZenHei'],
  ['/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf', undefined],
];

export function reportFont(config: { fontFile: string | null; fontName: string | null }): { file: string; name: string | undefined } {
  if (config.fontFile) {
    if (!fs.existsSync(config.fontFile)) throw new AppError('unavailable', `operations.reports.fontFile ${config.fontFile} does not exist`);
    return { file: config.fontFile, name: config.fontName ?? undefined };
  }
  for (const [file, name] of CANDIDATES) if (fs.existsSync(file)) return { file, name };
  throw new AppError('unavailable', 'PDF reports need a font with Chinese glyphs: install Debian\'s fonts-noto-cjk (scripts/setup-report-tools.sh) or set operations.reports.fontFile; the HTML report works without it');
}

const COLOURS: Record<Status, string> = { ok: '#1a7f37', warning: '#b35900', error: '#c62828', unavailable: '#6b7280' };
const MARGIN = 48;

export async function renderPdf(doc: ReportDocument, font: { file: string; name: string | undefined }): Promise<Buffer> {
  const pdf = new PDFDocument({ size: 'A4', margin: MARGIN, info: { Title: doc.title, Author: 'Fanout', Subject: doc.subtitle }, bufferPages: true });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  if (font.name) pdf.registerFont('cjk', font.file, font.name);
  else pdf.registerFont('cjk', font.file);
  pdf.font('cjk');
  const width = pdf.page.width - 2 * MARGIN;
  const bottom = () => pdf.page.height - MARGIN;

  pdf.fontSize(20).fillColor('#111827').text(doc.title, { align: 'center' });
  pdf.moveDown(0.2).fontSize(10).fillColor('#4b5563').text(doc.subtitle, { align: 'center' }).moveDown(0.8);

  /** One table row of cells with borders; breaks the page first when it would not fit. */
  const row = (cells: string[], widths: number[], opts: { fill?: string; colour?: (i: number) => string; minHeight?: number; size?: number } = {}) => {
    const size = opts.size ?? 9;
    pdf.fontSize(size);
    const heights = cells.map((c, i) => pdf.heightOfString(c || ' ', { width: widths[i]! - 8 }));
    const h = Math.max(opts.minHeight ?? 0, ...heights) + 8;
    if (pdf.y + h > bottom()) pdf.addPage();
    const y = pdf.y;
    let x = MARGIN;
    cells.forEach((c, i) => {
      const w = widths[i]!;
      if (opts.fill) pdf.rect(x, y, w, h).fillColor(opts.fill).fill();
      pdf.rect(x, y, w, h).lineWidth(0.5).strokeColor('#9ca3af').stroke();
      pdf.fillColor(opts.colour?.(i) ?? '#111827').text(c, x + 4, y + 4, { width: w - 8 });
      x += w;
    });
    pdf.x = MARGIN;
    pdf.y = y + h;
  };

  const draw = (b: Block) => {
    switch (b.kind) {
      case 'heading':
        if (pdf.y + 60 > bottom()) pdf.addPage();
        pdf.moveDown(0.6).fontSize(13).fillColor('#111827').text(b.text, MARGIN, pdf.y, { width });
        pdf.moveTo(MARGIN, pdf.y + 1).lineTo(MARGIN + width, pdf.y + 1).lineWidth(1).strokeColor('#1f2937').stroke();
        pdf.moveDown(0.4);
        return;
      case 'fields':
        for (const [k, v] of b.rows) row([k, v], [width * 0.3, width * 0.7], { colour: (i) => (i === 0 ? '#374151' : '#111827') });
        return;
      case 'table': {
        const total = b.widths.reduce((a, c) => a + c, 0);
        const widths = b.widths.map((w) => (w / total) * width);
        row(b.columns, widths, { fill: '#e5e7eb' });
        b.rows.forEach((r, i) => {
          const s = b.statuses?.[i];
          row(r, widths, { colour: (c) => (c === 2 && s ? COLOURS[s] : '#111827') });
        });
        return;
      }
      case 'paragraph':
        pdf.fontSize(10).fillColor('#111827').text(b.text, MARGIN, pdf.y, { width }).moveDown(0.3);
        return;
      case 'checkboxes':
        row([b.label, b.options.map((o) => `${o === b.checked ? '■' : '□'} ${o}`).join('    ')], [width * 0.3, width * 0.7]);
        return;
      case 'blanks':
        for (const r of b.rows) row([r, ''], [width * 0.3, width * 0.7], { minHeight: 18 });
        return;
      case 'signatures':
        row([b.left, b.right], [width / 2, width / 2], { minHeight: 48 });
        return;
      case 'diagram': {
        const boxW = 150;
        const perRow = Math.max(1, Math.floor(width / (boxW + 12)));
        const rows = Math.ceil(Math.max(1, b.nodes.length) / perRow);
        const needed = rows * 70 + 70;
        if (pdf.y + needed > bottom()) pdf.addPage();
        const top = pdf.y + 6;
        const storeY = top + rows * 70 + 20;
        b.nodes.forEach((n, i) => {
          const x = MARGIN + (i % perRow) * (boxW + 12);
          const y = top + Math.floor(i / perRow) * 70;
          const colour = n.state === 'up' ? COLOURS.ok : n.state === 'stale' ? COLOURS.error : COLOURS.unavailable;
          pdf.roundedRect(x, y, boxW, 50, 5).lineWidth(1.5).strokeColor(colour).stroke();
          pdf.fontSize(9).fillColor('#111827').text(n.name, x + 4, y + 8, { width: boxW - 8, align: 'center' });
          pdf.fontSize(8).fillColor('#475569').text(`${n.roles} · ${n.state}`, x + 4, y + 26, { width: boxW - 8, align: 'center' });
          pdf.moveTo(x + boxW / 2, y + 50).lineTo(MARGIN + width / 2, storeY).lineWidth(0.5).strokeColor('#94a3b8').stroke();
        });
        pdf.roundedRect(MARGIN + width / 2 - 110, storeY, 220, 36, 5).lineWidth(1).strokeColor('#6366f1').stroke();
        pdf.fontSize(10).fillColor('#111827').text(b.store, MARGIN + width / 2 - 106, storeY + 12, { width: 212, align: 'center' });
        pdf.x = MARGIN;
        pdf.y = storeY + 46;
        return;
      }
    }
  };
  for (const b of doc.blocks) draw(b);
  const pages = pdf.bufferedPageRange();
  for (let i = 0; i < pages.count; i++) {
    pdf.switchToPage(i);
    // The footer sits in the bottom margin: without this pdfkit would start a new page for it.
    pdf.page.margins.bottom = 0;
    pdf.fontSize(8).fillColor('#6b7280').text(`${doc.footer} · ${i + 1}/${pages.count}`, MARGIN, pdf.page.height - MARGIN + 16, { width, align: 'center', lineBreak: false });
  }
  pdf.end();
  return done;
}
