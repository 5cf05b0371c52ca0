import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Debian's Exim for tests, unpacked into a private prefix by scripts/setup-bounce-oracle.sh
 * (as a package it conflicts with Postfix) and run from a private configuration: no daemon,
 * each message delivered in the foreground (`-odi`), queue runs on demand, every domain routed
 * by hand to a loopback `host:port` (no DNS), bounces to the sender's domain sent to `bounceTo`.
 * Exim drops root for a `-C` configuration and runs as Debian-exim, which owns the spool.
 */
const run = promisify(execFile);

export const EXIM_BINARY = path.join(process.env.FANOUT_MTA_PREFIX ?? '/opt/fanout-mta', 'exim/usr/sbin/exim4');

export function eximAvailable(): boolean {
  return fs.existsSync(EXIM_BINARY) && typeof process.getuid === 'function' && process.getuid() === 0;
}

export interface EximOptions {
  /** Domain → `host:port` of its next hop; a host name that does not resolve stages "host not found". */
  routes: Record<string, string>;
  /** Where bounces to the sender's domain (fanout.test) go. */
  bounceTo: { host: string; port: number };
}

const NAME = /^[a-z0-9.-]+$/i;

export class Exim {
  readonly dir: string;
  readonly config: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.config = path.join(dir, 'exim.conf');
  }

  static async start(opts: EximOptions): Promise<Exim> {
    if (!eximAvailable()) throw new Error(`exim is not unpacked at ${EXIM_BINARY} (run scripts/setup-bounce-oracle.sh as root)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-exim-'));
    fs.chmodSync(dir, 0o755);
    const exim = new Exim(dir);
    fs.mkdirSync(path.join(dir, 'spool'));
    fs.mkdirSync(path.join(dir, 'log'));
    const { stdout } = await run('id', ['-u', 'Debian-exim']);
    const uid = Number(stdout.trim());
    for (const d of ['spool', 'log']) fs.chownSync(path.join(dir, d), uid, -1);
    const routes = Object.entries(opts.routes);
    for (const [domain, hop] of routes) if (!NAME.test(domain) || !/^[a-z0-9.-]+:\d+$/i.test(hop)) throw new Error(`exim: bad route ${domain}=${hop}`);
    const routers: string[] = [];
    const transports: string[] = [];
    const hop = (name: string, domain: string, host: string, port: number) => {
      routers.push(`${name}:\n  driver = manualroute\n  domains = ${domain}\n  route_list = * ${host} byname\n  transport = ${name}_smtp\n  self = send\n`);
      transports.push(`${name}_smtp:\n  driver = smtp\n  port = ${port}\n  hosts_avoid_tls = *\n  allow_localhost\n  connect_timeout = 2s\n  command_timeout = 3s\n  data_timeout = 3s\n`);
    };
    hop('bounces', 'fanout.test', opts.bounceTo.host, opts.bounceTo.port);
    routes.forEach(([domain, target], i) => {
      const [host, port] = target.split(':') as [string, string];
      hop(`route${i}`, domain, host, Number(port));
    });
    const main = [
      `exim_path = ${EXIM_BINARY}`,
      'keep_environment =',
      'primary_hostname = exim.fanout.test',
      'qualify_domain = fanout.test',
      `spool_directory = ${path.join(dir, 'spool')}`,
      `log_file_path = ${path.join(dir, 'log')}/%slog`,
      'host_lookup =',
      'rfc1413_hosts =',
      'ignore_bounce_errors_after = 0s',
      'timeout_frozen_after = 1s',
      'delay_warning = 0s',
    ];
    // Give up on a temporary failure after two seconds: the staged deferrals come back as
    // "retry timeout exceeded" on the next queue run.
    const conf = `${main.join('\n')}\n\nbegin routers\n\n${routers.join('\n')}\nbegin transports\n\n${transports.join('\n')}\nbegin retry\n\n* * F,2s,1s\n`;
    fs.writeFileSync(exim.config, conf);
    return exim;
  }

  /** Submits one message (foreground delivery); resolves when Exim has tried it once. */
  async send(from: string, recipients: string[], message: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(EXIM_BINARY, ['-C', this.config, '-odi', '-f', from, ...recipients], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exim exited ${code}: ${err}\n${this.log().slice(-2000)}`))));
      child.stdin.end(message);
    });
  }

  /** A forced queue run: deferred addresses past their retry time are bounced. */
  async runQueue(): Promise<void> {
    await run(EXIM_BINARY, ['-C', this.config, '-qff'], { timeout: 60_000 });
  }

  log(): string {
    const f = path.join(this.dir, 'log', 'mainlog');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
  }

  stop(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
