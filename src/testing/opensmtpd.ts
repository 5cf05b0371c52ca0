import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Debian's OpenSMTPD for tests, unpacked into a private prefix by scripts/setup-bounce-oracle.sh
 * and run in the foreground (`smtpd -d -f`) from a private configuration listening on loopback:
 * each domain relayed by hand to a `host:port`, bounces to the sender's domain (fanout.test)
 * relayed to `bounceTo`, a queue lifetime of seconds so deferrals expire while the test waits.
 * Its spool, chroot and control socket are built in (/var/spool/smtpd, ...): one instance at a time.
 */
export const SMTPD_BINARY = path.join(process.env.FANOUT_MTA_PREFIX ?? '/opt/fanout-mta', 'opensmtpd/usr/sbin/smtpd');

export function opensmtpdAvailable(): boolean {
  return fs.existsSync(SMTPD_BINARY) && typeof process.getuid === 'function' && process.getuid() === 0;
}

export interface OpenSmtpdOptions {
  routes: Record<string, string>;
  bounceTo: { host: string; port: number };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const NAME = /^[a-z0-9.-]+$/i;

export class OpenSmtpd {
  readonly dir: string;
  readonly port: number;
  #child: ChildProcess;
  #log = '';

  private constructor(dir: string, port: number, child: ChildProcess) {
    this.dir = dir;
    this.port = port;
    this.#child = child;
    child.stdout?.on('data', (d: Buffer) => (this.#log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.#log += d.toString()));
  }

  static async start(opts: OpenSmtpdOptions): Promise<OpenSmtpd> {
    if (!opensmtpdAvailable()) throw new Error(`opensmtpd is not unpacked at ${SMTPD_BINARY} (run scripts/setup-bounce-oracle.sh as root)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-opensmtpd-'));
    const port = await freePort();
    const lines = ['queue ttl 3s', `listen on 127.0.0.1 port ${port}`];
    const matches: string[] = [];
    const relay = (name: string, domain: string, host: string, p: string) => {
      lines.push(`action "${name}" relay host smtp://${host}:${p}`);
      matches.push(`match from any for domain "${domain}" action "${name}"`);
    };
    relay('bounces', 'fanout.test', opts.bounceTo.host, String(opts.bounceTo.port));
    Object.entries(opts.routes).forEach(([domain, hop], i) => {
      const [host, p] = hop.split(':') as [string, string];
      if (!NAME.test(domain) || !NAME.test(host) || !/^\d+$/.test(p)) throw new Error(`opensmtpd: bad route ${domain}=${hop}`);
      relay(`route${i}`, domain, host, p);
    });
    matches.push('match from local for any action "bounces"');
    fs.writeFileSync(path.join(dir, 'smtpd.conf'), `${[...lines, ...matches].join('\n')}\n`);
    const child = spawn(SMTPD_BINARY, ['-d', '-f', path.join(dir, 'smtpd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const smtpd = new OpenSmtpd(dir, port, child);
    const until = Date.now() + 15_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve(true); });
        s.once('error', () => resolve(false));
      });
      if (ok) break;
      if (child.exitCode !== null || Date.now() > until) throw new Error(`opensmtpd did not listen on ${port}:\n${smtpd.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return smtpd;
  }

  log(): string {
    return this.#log;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
