import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Debian's Sendmail for tests, unpacked into a private prefix by scripts/setup-bounce-oracle.sh
 * and run without a daemon from a sendmail.cf made here with the package's own m4 macros:
 * messages are delivered in the foreground (`-odi`), queue runs on demand. Sendmail gives one
 * port to all its SMTP mailers, so each next hop is its own loopback address on that port,
 * named in a mailertable; bounces to the sender's domain (fanout.test) go to one of them.
 */
const run = promisify(execFile);
const PREFIX = path.join(process.env.FANOUT_MTA_PREFIX ?? '/opt/fanout-mta', 'sendmail');
export const SENDMAIL_BINARY = path.join(PREFIX, 'usr/libexec/sendmail/sendmail');
const MAKEMAP = path.join(PREFIX, 'usr/libexec/sendmail/makemap');
const CF_M4 = path.join(PREFIX, 'usr/share/sendmail/cf/m4/cf.m4');

export function sendmailAvailable(): boolean {
  return fs.existsSync(SENDMAIL_BINARY) && fs.existsSync(CF_M4) && fs.existsSync('/usr/bin/m4') && fs.existsSync('/usr/bin/unshare') && typeof process.getuid === 'function' && process.getuid() === 0;
}

export interface SendmailOptions {
  /** The one port every SMTP next hop listens on. */
  port: number;
  /** Domain → next-hop host: a loopback address (`127.0.0.N`) or a name that does not resolve. */
  routes: Record<string, string>;
  /** A domain delivered locally, where no recipient exists (the unknown-user bounce). */
  localDomain: string;
}

const NAME = /^[a-z0-9.-]+$/i;

export class Sendmail {
  readonly dir: string;
  readonly cf: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.cf = path.join(dir, 'sendmail.cf');
  }

  static async start(opts: SendmailOptions): Promise<Sendmail> {
    if (!sendmailAvailable()) throw new Error(`sendmail is not unpacked at ${SENDMAIL_BINARY} (run scripts/setup-bounce-oracle.sh as root)`);
    for (const [d, h] of Object.entries(opts.routes)) if (!NAME.test(d) || !NAME.test(h)) throw new Error(`sendmail: bad route ${d}=${h}`);
    if (!NAME.test(opts.localDomain) || !Number.isInteger(opts.port)) throw new Error('sendmail: bad options');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-sendmail-'));
    fs.chmodSync(dir, 0o755);
    const sm = new Sendmail(dir);
    fs.mkdirSync(path.join(dir, 'mqueue'), { mode: 0o700 });
    fs.mkdirSync(path.join(dir, 'clientmqueue'), { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'aliases'), '');
    // Next hops by name come from a private hosts file only: a name not in it does not resolve.
    fs.writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost\n');
    fs.writeFileSync(path.join(dir, 'service.switch'), 'hosts files\naliases files\n');
    const q = (s: string) => `\`${s}'`;
    const mc = [
      'divert(0)dnl',
      `include(${q(CF_M4)})dnl`,
      `OSTYPE(${q('linux')})dnl`,
      `define(${q('QUEUE_DIR')}, ${q(path.join(dir, 'mqueue'))})dnl`,
      `define(${q('MSP_QUEUE_DIR')}, ${q(path.join(dir, 'clientmqueue'))})dnl`,
      `define(${q('confPID_FILE')}, ${q(path.join(dir, 'sendmail.pid'))})dnl`,
      `define(${q('STATUS_FILE')}, ${q(path.join(dir, 'statistics'))})dnl`,
      `define(${q('ALIAS_FILE')}, ${q(path.join(dir, 'aliases'))})dnl`,
      `define(${q('confSERVICE_SWITCH_FILE')}, ${q(path.join(dir, 'service.switch'))})dnl`,
      `define(${q('confHOST_STATUS_DIRECTORY')}, ${q('')})dnl`,
      `define(${q('confHOSTS_FILE')}, ${q(path.join(dir, 'hosts'))})dnl`,
      // The private files live under the world-writable temporary folder.
      `define(${q('confDONT_BLAME_SENDMAIL')}, ${q('MapInUnsafeDirPath')})dnl`,
      `define(${q('confDONT_PROBE_INTERFACES')}, ${q('True')})dnl`,
      `define(${q('confDOMAIN_NAME')}, ${q('sendmail.fanout.test')})dnl`,
      `define(${q('confTO_CONNECT')}, ${q('2s')})dnl`,
      `define(${q('confTO_INITIAL')}, ${q('2s')})dnl`,
      `define(${q('confTO_ICONNECT')}, ${q('2s')})dnl`,
      // Temporary failures are returned after a second: the staged deferrals come back on the next queue run.
      `define(${q('confTO_QUEUERETURN')}, ${q('1s')})dnl`,
      `define(${q('confTO_QUEUEWARN')}, ${q('')})dnl`,
      ...['ESMTP', 'SMTP', 'RELAY', 'SMTP8', 'DSMTP'].map((m) => `define(${q(`${m}_MAILER_ARGS`)}, ${q(`TCP $h ${opts.port}`)})dnl`),
      `FEATURE(${q('nocanonify')})dnl`,
      `FEATURE(${q('mailertable')}, ${q(`hash ${path.join(dir, 'mailertable')}`)})dnl`,
      `LOCAL_DOMAIN(${q(opts.localDomain)})dnl`,
      `MAILER(${q('local')})dnl`,
      `MAILER(${q('smtp')})dnl`,
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'sendmail.mc'), `${mc}\n`);
    const { stdout } = await run('m4', [path.join(dir, 'sendmail.mc')], { timeout: 30_000 });
    fs.writeFileSync(sm.cf, stdout);
    const table = Object.entries(opts.routes).map(([d, h]) => `${d}\tesmtp:[${h}]\n`).join('');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(MAKEMAP, ['-C', sm.cf, 'hash', path.join(dir, 'mailertable')], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`makemap exited ${code}: ${err}`))));
      child.stdin.end(table);
    });
    return sm;
  }

  /**
   * Sendmail insists on a fully qualified name for its own host before it reads its
   * configuration, and sleeps a minute when the machine's name does not resolve: each run gets
   * a private UTS namespace whose host name is qualified.
   */
  static command(args: string[]): [string, string[]] {
    return ['unshare', ['--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', 'sendmail.fanout.test', SENDMAIL_BINARY, ...args]];
  }

  /** Submits one message and delivers it in the foreground. */
  async send(from: string, recipients: string[], message: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const [cmd, args] = Sendmail.command(['-C', this.cf, '-odi', '-oem', '-f', from, ...recipients]);
      const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      // 0 delivered or queued; 67/75 and the like are the recipient's failure, which the bounce reports.
      child.on('exit', (code) => (code !== null && code !== 78 ? resolve() : reject(new Error(`sendmail exited ${code}: ${err}`))));
      child.stdin.end(message);
    });
  }

  /** A queue run: deferred messages past their one-second lifetime are returned to the sender. */
  async runQueue(): Promise<void> {
    const [cmd, args] = Sendmail.command(['-C', this.cf, '-q']);
    await run(cmd, args, { timeout: 60_000 });
  }

  log(): string {
    return fs.readdirSync(path.join(this.dir, 'mqueue')).join('\n');
  }

  stop(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
