import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A real Postfix for tests, run from a private config_directory (its own queue, data and
 * mailbox folders under a temp dir, listening on loopback only), so it never touches a
 * system mail server. Needs Debian's postfix package (scripts/setup-postfix.sh) and root.
 *
 * - `port`: a destination MX for `domain`: known mailboxes are delivered into Maildirs,
 *   unknown users are refused at RCPT with 550 5.1.1.
 * - `acceptAllPort`: the same domain, but unknown users are accepted and then bounced by
 *   virtual(8), so Postfix writes a real DSN (RFC 3464) to the envelope sender.
 * - `relay`: domains accepted on either port and passed to a next hop (e.g. a sink that
 *   answers 550 5.1.1: Postfix then writes a DSN quoting the remote reply).
 * - `bounceTo`: where everything else goes, DSNs included (Fanout's bounce listener).
 */
const run = promisify(execFile);

export const POSTFIX_TOOLS = Object.freeze({
  postfix: '/usr/sbin/postfix',
  postconf: '/usr/sbin/postconf',
  postqueue: '/usr/sbin/postqueue',
  /** Postfix's load generator and sink, for benchmarks: `smtp-source -s 20 -m 10000 127.0.0.1:PORT`. */
  smtpSource: '/usr/sbin/smtp-source',
  smtpSink: '/usr/sbin/smtp-sink',
});

export function postfixAvailable(): boolean {
  return fs.existsSync(POSTFIX_TOOLS.postfix) && typeof process.getuid === 'function' && process.getuid() === 0;
}

export interface PostfixOptions {
  /** Domain this Postfix is the final destination for (default mx.fanout.test). */
  domain?: string;
  /** Local parts with a mailbox (default ["user"]). */
  mailboxes?: string[];
  /** Domain → next hop `host:port` for mail Postfix should relay. */
  relay?: Record<string, string>;
  /** Next hop for all other mail, DSNs to senders included. */
  bounceTo?: { host: string; port: number };
  hostname?: string;
  /** Further main.cf settings (queue lifetimes, timeouts, size limits), applied last. */
  settings?: Record<string, string>;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const NAME = /^[a-z0-9.-]+$/i;

export class Postfix {
  readonly dir: string;
  readonly configDir: string;
  readonly domain: string;
  readonly port: number;
  readonly acceptAllPort: number;
  readonly host = '127.0.0.1';
  #running = false;

  private constructor(dir: string, domain: string, port: number, acceptAllPort: number) {
    this.dir = dir;
    this.configDir = path.join(dir, 'etc');
    this.domain = domain;
    this.port = port;
    this.acceptAllPort = acceptAllPort;
  }

  static async start(opts: PostfixOptions = {}): Promise<Postfix> {
    if (!postfixAvailable()) throw new Error('postfix is not installed (run scripts/setup-postfix.sh as root) or this process is not root');
    const domain = (opts.domain ?? 'mx.fanout.test').toLowerCase();
    const mailboxes = opts.mailboxes ?? ['user'];
    for (const n of [domain, ...Object.keys(opts.relay ?? {}), opts.hostname ?? 'postfix.fanout.test']) if (!NAME.test(n)) throw new Error(`postfix: "${n}" is not a domain name`);
    for (const m of mailboxes) if (!/^[a-z0-9._+-]+$/i.test(m)) throw new Error(`postfix: "${m}" is not a mailbox name`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-postfix-'));
    fs.chmodSync(dir, 0o755);
    const pf = new Postfix(dir, domain, await freePort(), await freePort());
    await pf.#configure(mailboxes, opts);
    await pf.postfix('check');
    await pf.postfix('start');
    pf.#running = true;
    await pf.#waitListening();
    return pf;
  }

  /** Runs `postfix -c DIR <args>`. */
  async postfix(...args: string[]): Promise<string> {
    const { stdout, stderr } = await run(POSTFIX_TOOLS.postfix, ['-c', this.configDir, ...args], { timeout: 30_000 });
    return stdout + stderr;
  }

  /** Messages delivered to a mailbox, oldest first (raw RFC 5322 text). */
  readMailbox(local: string): string[] {
    const box = path.join(this.dir, 'mail', this.domain, local, 'new');
    if (!fs.existsSync(box)) return [];
    return fs.readdirSync(box).sort().map((f) => fs.readFileSync(path.join(box, f), 'utf8'));
  }

  async waitForMailbox(local: string, count = 1, timeoutMs = 15_000): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const msgs = this.readMailbox(local);
      if (msgs.length >= count) return msgs;
      if (Date.now() > until) throw new Error(`postfix: ${msgs.length} of ${count} messages in ${local}@${this.domain} after ${timeoutMs} ms\n${this.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Asks the queue manager to retry deferred mail now. */
  async flush(): Promise<void> {
    await run(POSTFIX_TOOLS.postqueue, ['-c', this.configDir, '-f'], { timeout: 30_000 });
  }

  log(): string {
    const f = path.join(this.dir, 'maillog');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
  }

  async stop(): Promise<void> {
    if (this.#running) {
      this.#running = false;
      try {
        await this.postfix('stop');
      } catch {
        // already stopped
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async #configure(mailboxes: string[], opts: PostfixOptions): Promise<void> {
    const etc = this.configDir;
    const q = path.join(this.dir, 'queue');
    const data = path.join(this.dir, 'data');
    const mail = path.join(this.dir, 'mail');
    fs.mkdirSync(etc);
    fs.mkdirSync(q);
    fs.mkdirSync(data);
    fs.mkdirSync(mail);
    const nobody = 65534;
    fs.chownSync(mail, nobody, nobody);
    const { stdout } = await run('id', ['-u', 'postfix']);
    const postfixUid = Number(stdout.trim());
    fs.chownSync(data, postfixUid, -1);
    fs.writeFileSync(path.join(etc, 'vmailbox'), mailboxes.map((m) => `${m}@${this.domain} ${this.domain}/${m}/\n`).join(''));
    const relay = Object.entries(opts.relay ?? {});
    fs.writeFileSync(path.join(etc, 'transport'), relay.map(([d, hop]) => `${d} smtp:[${hop.replace(/:(\d+)$/, ']:$1')}\n`).join(''));
    const main = {
      compatibility_level: '3.6',
      config_directory: etc,
      queue_directory: q,
      data_directory: data,
      meta_directory: '/etc/postfix',
      mail_owner: 'postfix',
      setgid_group: 'postdrop',
      myhostname: opts.hostname ?? 'postfix.fanout.test',
      mydomain: 'fanout.test',
      myorigin: '$myhostname',
      mydestination: '',
      mynetworks: '127.0.0.0/8',
      inet_interfaces: '127.0.0.1',
      inet_protocols: 'ipv4',
      maillog_file: path.join(this.dir, 'maillog'),
      maillog_file_prefixes: this.dir,
      alias_maps: '',
      alias_database: '',
      local_recipient_maps: '',
      virtual_mailbox_domains: this.domain,
      virtual_mailbox_maps: `texthash:${path.join(etc, 'vmailbox')}`,
      virtual_mailbox_base: mail,
      virtual_uid_maps: `static:${nobody}`,
      virtual_gid_maps: `static:${nobody}`,
      relay_domains: relay.map(([d]) => d).join(' '),
      transport_maps: `texthash:${path.join(etc, 'transport')}`,
      relayhost: opts.bounceTo ? `[${opts.bounceTo.host}]:${opts.bounceTo.port}` : '',
      smtpd_recipient_restrictions: 'permit_mynetworks, reject_unauth_destination',
      smtpd_banner: '$myhostname ESMTP Postfix (Fanout test)',
      // No DNS on these machines: next hops are [address]:port, and nothing is looked up.
      smtp_host_lookup: 'native',
      disable_dns_lookups: 'yes',
      smtp_dns_support_level: 'disabled',
      smtpd_peername_lookup: 'no',
      // Tests want answers in seconds, not the production minutes.
      queue_run_delay: '1s',
      minimal_backoff_time: '1s',
      maximal_backoff_time: '2s',
      bounce_queue_lifetime: '1h',
      biff: 'no',
      smtputf8_enable: 'no',
      notify_classes: '',
    };
    for (const [k, v] of Object.entries(opts.settings ?? {})) {
      if (!/^[a-z_]+$/.test(k) || /[\r\n]/.test(v)) throw new Error(`postfix: bad setting ${k}`);
    }
    Object.assign(main, opts.settings ?? {});
    fs.writeFileSync(path.join(etc, 'main.cf'), Object.entries(main).map(([k, v]) => `${k} = ${v}\n`).join(''));
    // master.cf columns: service type private unpriv chroot wakeup maxproc command. Nothing is
    // chrooted (the private queue has no chroot tree); virtual/local run privileged to deliver.
    const master = [
      `127.0.0.1:${this.port} inet n - n - - smtpd`,
      `127.0.0.1:${this.acceptAllPort} inet n - n - - smtpd\n  -o smtpd_reject_unlisted_recipient=no`,
      'pickup     unix       n - n 60    1 pickup',
      'cleanup    unix       n - n -     0 cleanup',
      'qmgr       unix       n - n 1     1 qmgr',
      'rewrite    unix       - - n -     - trivial-rewrite',
      'bounce     unix       - - n -     0 bounce',
      'defer      unix       - - n -     0 bounce',
      'trace      unix       - - n -     0 bounce',
      'verify     unix       - - n -     1 verify',
      'flush      unix       n - n 1000? 0 flush',
      'proxymap   unix       - - n -     - proxymap',
      'smtp       unix       - - n -     - smtp',
      'relay      unix       - - n -     - smtp',
      'showq      unix       n - n -     - showq',
      'error      unix       - - n -     - error',
      'retry      unix       - - n -     - error',
      'discard    unix       - - n -     - discard',
      'virtual    unix       - n n -     - virtual',
      'local      unix       - n n -     - local',
      'anvil      unix       - - n -     1 anvil',
      'scache     unix       - - n -     1 scache',
      'postlog    unix-dgram n - n -     1 postlogd',
    ];
    fs.writeFileSync(path.join(etc, 'master.cf'), `${master.join('\n')}\n`);
  }

  async #waitListening(): Promise<void> {
    const until = Date.now() + 15_000;
    for (const port of [this.port, this.acceptAllPort]) {
      for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.once('connect', () => { s.destroy(); resolve(true); });
          s.once('error', () => resolve(false));
        });
        if (ok) break;
        if (Date.now() > until) throw new Error(`postfix did not listen on 127.0.0.1:${port}\n${this.log().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
