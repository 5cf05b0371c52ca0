/**
 * RFC 3464 delivery-status fields. The fields are parsed line by line rather than by blank-line
 * blocks because real MTAs get the blocks wrong (missing separators, per-message fields repeated
 * per recipient); a new recipient starts at each Final-Recipient / Original-Recipient pair.
 */

export interface DsnRecipient {
  finalRecipient: string;
  originalRecipient: string;
  action: string;
  status: string;
  remoteMta: string;
  diagnosticType: string;
  diagnostic: string;
}

export interface DsnReport {
  reportingMta: string;
  recipients: DsnRecipient[];
}

function unfold(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0 && line.trim()) out[out.length - 1] += ' ' + line.trim();
    else out.push(line);
  }
  return out;
}

/** Strips the "rfc822;" address type and angle brackets; keeps whatever remains when it is not an address. */
export function cleanAddress(value: string): string {
  let v = value.trim();
  const semi = v.indexOf(';');
  if (semi >= 0 && /^[\w-]+$/.test(v.slice(0, semi).trim())) v = v.slice(semi + 1).trim();
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(v);
  if (angle?.[1]) return angle[1];
  if (/^\S+@\S+$/.test(v)) return v.replace(/^["']|["']$/g, '');
  // "|/usr/bin/program user@example" and similar: the address inside is the recipient.
  const inside = /[\w.+=-]+@[\w-]+(?:\.[\w-]+)+/.exec(v);
  return inside ? inside[0] : v;
}

function empty(): DsnRecipient {
  return { finalRecipient: '', originalRecipient: '', action: '', status: '', remoteMta: '', diagnosticType: '', diagnostic: '' };
}

export function parseDeliveryStatus(text: string): DsnReport {
  const report: DsnReport = { reportingMta: '', recipients: [] };
  // Blank lines separate recipients in well-formed reports; within a block a repeated
  // recipient field also starts a new recipient, for the reports that omit the blank lines.
  for (const block of text.split(/\r?\n[ \t]*\r?\n/)) {
    let cur: DsnRecipient | null = null;
    const pending: [string, string][] = [];
    for (const line of unfold(block)) {
      const m = /^([A-Za-z][\w-]*)\s*:\s*(.*)$/.exec(line);
      if (!m) continue;
      const name = (m[1] ?? '').toLowerCase();
      const value = (m[2] ?? '').trim();
      if (name === 'reporting-mta') {
        if (!report.reportingMta) report.reportingMta = value.replace(/^[\w-]+;\s*/, '');
        continue;
      }
      if (name === 'final-recipient' || name === 'original-recipient') {
        const key = name === 'final-recipient' ? 'finalRecipient' : 'originalRecipient';
        if (!cur || cur[key]) {
          cur = empty();
          report.recipients.push(cur);
          for (const [n, v] of pending.splice(0)) setField(cur, n, v);
        }
        cur[key] = cleanAddress(value);
        continue;
      }
      if (cur) setField(cur, name, value);
      else pending.push([name, value]);
    }
  }
  report.recipients = report.recipients.filter((r) => r.finalRecipient || r.originalRecipient);
  return report;
}

function setField(cur: DsnRecipient, name: string, value: string): void {
  switch (name) {
    case 'action':
      cur.action = value.toLowerCase().split(/[\s(]/)[0] ?? '';
      break;
    case 'status':
      cur.status = value;
      break;
    case 'remote-mta':
      cur.remoteMta = value.replace(/^[\w-]+;\s*/, '');
      break;
    case 'diagnostic-code': {
      const semi = value.indexOf(';');
      const type = semi >= 0 ? value.slice(0, semi).trim() : '';
      cur.diagnosticType = /^[\w-]+$/.test(type) ? type.toLowerCase() : '';
      cur.diagnostic = cur.diagnosticType ? value.slice(semi + 1).trim() : value;
      break;
    }
    default:
      break;
  }
}

/** True when `text` carries DSN per-recipient fields (some MTAs put them in a text/plain part). */
export function looksLikeDeliveryStatus(text: string): boolean {
  return /^(?:final|original)-recipient\s*:/im.test(text) && /^(?:status|action)\s*:/im.test(text);
}
