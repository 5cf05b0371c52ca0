import { idBytes } from '../../core/ids.ts';

/** Index of the first byte of the body (after the blank line), or the length when there is none. */
export function headerEnd(raw: Buffer): { headerLength: number; bodyStart: number } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerLength: crlf + 2, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerLength: lf + 1, bodyStart: lf + 2 };
  return { headerLength: raw.length, bodyStart: raw.length };
}

export interface PreparedMessage {
  raw: Buffer;
  headerMessageId: string;
  /** From X-Fanout-Stream, when the client chose a lane; the header is removed. */
  lane: 'transactional' | 'bulk' | null;
}

function rfc2822Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * Adds what a submission server adds (RFC 6409 8): a Received line on top and a Message-ID
 * when the client sent none. Only the header block is rewritten; the body bytes are kept.
 */
export function prepareSubmitted(raw: Buffer, info: { clientIp: string; helo: string; hostname: string; queueId: string; tls: boolean; authenticated: boolean; fromDomain: string; now: Date }): PreparedMessage {
  const { headerLength } = headerEnd(raw);
  let head = raw.subarray(0, headerLength).toString('latin1');
  let lane: PreparedMessage['lane'] = null;
  const stream = /^x-fanout-stream:[ \t]*(\S+)[^\n]*\n/im.exec(head);
  if (stream) {
    const v = stream[1]!.toLowerCase();
    if (v === 'transactional' || v === 'bulk') lane = v;
    head = head.slice(0, stream.index) + head.slice(stream.index + stream[0].length);
  }
  const existing = /^message-id:[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(head);
  let headerMessageId: string;
  let add = '';
  if (existing && existing[1]!.trim()) {
    headerMessageId = existing[1]!.replace(/\s+/g, ' ').trim();
  } else {
    headerMessageId = `<${info.queueId}.${idBytes(6).toString('hex')}@${info.fromDomain || info.hostname}>`;
    add = `Message-ID: ${headerMessageId}\r\n`;
  }
  const protocol = `ESMTP${info.tls ? 'S' : ''}${info.authenticated ? 'A' : ''}`;
  const helo = info.helo.replace(/[^\x21-\x7e]/g, '').slice(0, 200) || 'unknown';
  const received = `Received: from ${helo} ([${info.clientIp}])\r\n\tby ${info.hostname} (Fanout) with ${protocol} id ${info.queueId};\r\n\t${rfc2822Date(info.now)}\r\n`;
  return {
    raw: Buffer.concat([Buffer.from(received + add, 'latin1'), Buffer.from(head, 'latin1'), raw.subarray(headerLength)]),
    headerMessageId,
    lane,
  };
}
