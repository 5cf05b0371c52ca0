import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import * as packet from 'dns-packet';

export interface Zone {
  TXT?: string[];
  A?: string[];
  AAAA?: string[];
  MX?: { exchange: string; priority: number }[];
  PTR?: string[];
}

/**
 * A small authoritative DNS server on a loopback UDP port for tests: names map to records;
 * unknown names answer NXDOMAIN, known names without the type asked answer NOERROR and no data.
 * `records` may be changed while it runs.
 */
export class TestDnsServer {
  readonly records = new Map<string, Zone>();
  readonly queries: string[] = [];
  #socket = dgram.createSocket('udp4');
  port = 0;

  set(name: string, zone: Zone): void {
    this.records.set(name.toLowerCase().replace(/\.$/, ''), zone);
  }

  async start(): Promise<string> {
    this.#socket.on('message', (msg, rinfo) => {
      let query: packet.Packet;
      try {
        query = packet.decode(msg);
      } catch {
        return;
      }
      const q = query.questions?.[0];
      if (!q) return;
      const name = q.name.toLowerCase().replace(/\.$/, '');
      this.queries.push(`${q.type} ${name}`);
      const zone = this.records.get(name);
      const answers: packet.Answer[] = [];
      if (zone) {
        if (q.type === 'TXT') for (const t of zone.TXT ?? []) answers.push({ type: 'TXT', name: q.name, ttl: 60, class: 'IN', data: t.match(/.{1,255}/g) ?? [''] });
        if (q.type === 'A') for (const a of zone.A ?? []) answers.push({ type: 'A', name: q.name, ttl: 60, class: 'IN', data: a });
        if (q.type === 'AAAA') for (const a of zone.AAAA ?? []) answers.push({ type: 'AAAA', name: q.name, ttl: 60, class: 'IN', data: a });
        if (q.type === 'MX') for (const m of zone.MX ?? []) answers.push({ type: 'MX', name: q.name, ttl: 60, class: 'IN', data: { exchange: m.exchange, preference: m.priority } });
        if (q.type === 'PTR') for (const p of zone.PTR ?? []) answers.push({ type: 'PTR', name: q.name, ttl: 60, class: 'IN', data: p });
      }
      const reply = packet.encode({
        id: query.id, type: 'response', flags: packet.AUTHORITATIVE_ANSWER | (zone ? 0 : 3), questions: query.questions, answers,
      });
      this.#socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', () => resolve()));
    this.port = (this.#socket.address() as AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** The PTR owner name of an IPv4 address. */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}
