// Differential test: real bounces written by real MTAs (Debian's Postfix, Exim, OpenSMTPD and
// Sendmail, each from a private config on loopback) for every failure that can be staged here, classified by Fanout
// and by Debian's Sisimai side by side. Every disagreement must be one of the kept ones in KEPT (and in
// src/bounces/README.md, with the reason); a new one fails the test.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Exim, eximAvailable } from '../testing/exim.ts';
import { OpenSmtpd, opensmtpdAvailable } from '../testing/opensmtpd.ts';
import { Sendmail, sendmailAvailable } from '../testing/sendmail.ts';
import { Postfix, postfixAvailable } from '../testing/postfix.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import type { SinkBehaviour } from '../testing/smtp-sink.ts';
import { compareWithSisimai, sisimaiAvailable } from '../testing/bounce-oracle.ts';
import type { Comparison } from '../testing/bounce-oracle.ts';

/** What the remote server answers each staged recipient (local part), and at which stage. */
const REMOTE: Record<string, SinkBehaviour> = {
  unknown: { code: 550, enhanced: '5.1.1', text: '<unknown@remote.test>: Recipient address rejected: User unknown in local recipient table' },
  full: { code: 552, enhanced: '5.2.2', text: 'Mailbox full: quota exceeded', stage: 'data' },
  toobig: { code: 552, enhanced: '5.3.4', text: 'Message size exceeds fixed maximum message size', stage: 'data' },
  relay: { code: 554, enhanced: '5.7.1', text: '<relay@remote.test>: Relay access denied' },
  tls: { code: 530, enhanced: '5.7.0', text: 'Must issue a STARTTLS command first' },
  policy: { code: 550, enhanced: '5.7.1', text: 'Message rejected as spam by Content Filtering', stage: 'data' },
  blocked: { code: 554, enhanced: '5.7.1', text: 'Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org' },
  grey: { code: 450, enhanced: '4.7.1', text: '<grey@remote.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/remote.test.html' },
  suspended: { code: 550, enhanced: '5.2.1', text: 'The email account that you tried to reach is disabled' },
};

/**
 * Disagreements kept, each examined (see src/bounces/README.md): `file-part recipient` →
 * [Fanout, Sisimai 4.25].
 */
const KEPT: Record<string, [string, string]> = {
  // "530 5.7.0 Must issue a STARTTLS command first" in an Exim DSN whose Status is 5.0.0: Sisimai
  // 4.25 has no phrase for it and answers onhold; the reply's own 5.7.0 and the words name a
  // security requirement, as Sisimai 4.25 itself answers for the same reply in Postfix's DSN.
  'exim-remote-tls tls@remote.test': ['securityerror', 'onhold'],
  // The same reply in OpenSMTPD's report (Status 5.0.0, the reply only in the text) and in
  // Sendmail's (Status 5.0.0 with the reply in Diagnostic-Code): the same reason.
  'opensmtpd-remote-tls tls@remote.test': ['securityerror', 'onhold'],
  'sendmail-remote-tls tls@remote.test': ['securityerror', 'onhold'],
};

interface Staged { name: string; recipient: string }

let postfix: Postfix | undefined;
let exim: Exim | undefined;
let remote: SmtpSink | undefined;
let bounces: SmtpSink | undefined;
let eximBounces: SmtpSink | undefined;
let opensmtpd: OpenSmtpd | undefined;
let opensmtpdBounces: SmtpSink | undefined;
let sendmail: Sendmail | undefined;
let sendmailRemote: SmtpSink | undefined;
let sendmailBounces: SmtpSink | undefined;
let sendmailSilent: net.Server | undefined;
const routes: Record<string, string> = {};
let silent: net.Server | undefined;
let dir = '';
const files: { name: string; file: string }[] = [];
const skip = !postfixAvailable() ? 'needs Debian postfix and root (scripts/setup-postfix.sh)' : !sisimaiAvailable() ? 'needs libsisimai-perl (scripts/setup-bounce-oracle.sh)' : false;

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function submit(port: number, recipients: string[], size = 0): Promise<void> {
  const body = `From: sender@fanout.test\r\nTo: ${recipients.join(', ')}\r\nSubject: oracle\r\nMessage-ID: <${Date.now()}.${Math.random()}@fanout.test>\r\n\r\nhello\r\n${'x'.repeat(76).concat('\r\n').repeat(Math.ceil(size / 78))}`;
  const commands = ['EHLO oracle.test', 'MAIL FROM:<sender@fanout.test>', ...recipients.map((r) => `RCPT TO:<${r}>`), 'DATA'];
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let buffer = '';
  const replies: string[] = [];
  let wake: (() => void) | null = null;
  socket.on('data', (d: string) => {
    buffer += d;
    let m: RegExpExecArray | null;
    while ((m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n/.exec(buffer))) {
      buffer = buffer.slice(m[0].length);
      replies.push(m[0]);
      wake?.();
    }
  });
  const next = async (): Promise<string> => {
    while (replies.length === 0) await new Promise<void>((r) => (wake = r));
    return replies.shift() as string;
  };
  await next();
  for (const c of commands) {
    socket.write(`${c}\r\n`);
    const reply = await next();
    if (!/^[23]/.test(reply)) throw new Error(`postfix refused ${c}: ${reply}`);
  }
  socket.write(`${body.replace(/^\./gm, '..')}\r\n.\r\n`);
  const done = await next();
  if (!done.startsWith('250')) throw new Error(`postfix refused the message: ${done}`);
  socket.end('QUIT\r\n');
}

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-oracle-'));
  remote = await SmtpSink.start({ rules: REMOTE, default: 'accept', starttls: false, name: 'mx.remote.test' });
  bounces = await SmtpSink.start({ default: 'accept', starttls: false });
  // Accepts connections and never greets: the timeout case.
  silent = net.createServer(() => undefined);
  await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
  const silentPort = (silent.address() as net.AddressInfo).port;
  Object.assign(routes, {
    'remote.test': `127.0.0.1:${remote.port}`,
    'refused.test': `127.0.0.1:${await closedPort()}`,
    'silent.test': `127.0.0.1:${silentPort}`,
    'nohost.test': 'no-such-host.invalid:25',
  });
  if (eximAvailable()) {
    eximBounces = await SmtpSink.start({ default: 'accept', starttls: false });
    exim = await Exim.start({ routes, bounceTo: { host: '127.0.0.1', port: eximBounces.port } });
  }
  if (opensmtpdAvailable()) {
    opensmtpdBounces = await SmtpSink.start({ default: 'accept', starttls: false });
    opensmtpd = await OpenSmtpd.start({ routes, bounceTo: { host: '127.0.0.1', port: opensmtpdBounces.port } });
  }
  if (sendmailAvailable()) {
    // Sendmail gives every next hop one port: each hop is its own loopback address on it.
    sendmailRemote = await SmtpSink.start({ host: '127.0.0.2', rules: REMOTE, default: 'accept', starttls: false, name: 'mx.remote.test' });
    const port = sendmailRemote.port;
    sendmailBounces = await SmtpSink.start({ host: '127.0.0.3', port, default: 'accept', starttls: false });
    sendmailSilent = net.createServer(() => undefined);
    await new Promise<void>((r) => sendmailSilent!.listen(port, '127.0.0.5', r));
    sendmail = await Sendmail.start({
      port,
      localDomain: 'mx.fanout.test',
      routes: { 'remote.test': '127.0.0.2', 'fanout.test': '127.0.0.3', 'refused.test': '127.0.0.4', 'silent.test': '127.0.0.5', 'nohost.test': 'no-such-host.invalid' },
    });
  }
  postfix = await Postfix.start({
    domain: 'mx.fanout.test',
    mailboxes: ['user'],
    hostname: 'mta.fanout.test',
    relay: routes,
    bounceTo: { host: '127.0.0.1', port: bounces.port },
    settings: {
      // One try, then the DSN: the staged temporary failures (greylisting, refused and timed-out
      // connections, a name that does not resolve) come back as expired deliveries at once.
      maximal_queue_lifetime: '0',
      bounce_queue_lifetime: '0',
      smtp_connect_timeout: '2s',
      smtp_helo_timeout: '2s',
      // Postfix's own size limit for the local "message too big" DSN is not stageable on
      // submission (it refuses at SMTP); the remote 552 5.3.4 stands for it.
      message_size_limit: String(10 * 1024 * 1024),
    },
  });
});

after(async () => {
  await postfix?.stop();
  await remote?.close();
  await bounces?.close();
  await eximBounces?.close();
  await opensmtpd?.stop();
  await opensmtpdBounces?.close();
  sendmail?.stop();
  await sendmailRemote?.close();
  await sendmailBounces?.close();
  sendmailSilent?.close();
  exim?.stop();
  silent?.close();
  if (dir && !process.env.FANOUT_KEEP_ORACLE) fs.rmSync(dir, { recursive: true, force: true });
});

const STAGED: Staged[] = [
  ...Object.keys(REMOTE).map((local) => ({ name: `remote-${local}`, recipient: `${local}@remote.test` })),
  { name: 'local-unknown', recipient: 'nobody@mx.fanout.test' },
  { name: 'connection-refused', recipient: 'someone@refused.test' },
  { name: 'connection-timeout', recipient: 'someone@silent.test' },
  { name: 'host-not-found', recipient: 'someone@nohost.test' },
];

let comparisons: Comparison[] = [];

/** Waits for one bounce per staged failure at `sink`, names each after its failure and keeps it as a file. */
async function collect(mta: string, sink: SmtpSink, poke: () => Promise<void>, log: () => string, staged = STAGED): Promise<void> {
  // OpenSMTPD expires a connection that never greets only after its own timeouts (about 40 s).
  const until = Date.now() + 150_000;
  while (sink.messages.length < staged.length) {
    if (Date.now() > until) {
      const missing = staged.filter((s) => !sink.messages.some((m) => m.raw.toString('latin1').includes(s.recipient))).map((s) => s.name);
      throw new Error(`${mta}: ${sink.messages.length} of ${staged.length} bounces, none for ${missing.join(', ')}\n${log().slice(-4000)}`);
    }
    await poke().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
  }
  const mine: string[] = [];
  for (const m of sink.messages) {
    const raw = m.raw.toString('latin1');
    // One message per staged recipient: its address appears in its bounce and in no other.
    const which = staged.find((s) => raw.includes(s.recipient));
    assert.ok(which, `${mta}: a bounce for a staged recipient:\n${raw.slice(0, 2000)}`);
    const file = path.join(dir, `${mta}-${which.name}.eml`);
    fs.writeFileSync(file, m.raw);
    files.push({ name: `${mta}-${which.name}`, file });
    mine.push(which.name);
  }
  assert.deepEqual(mine.sort(), staged.map((s) => s.name).sort(), `${mta}: one bounce per staged failure`);
}

test('Postfix writes a DSN for every staged failure', { skip, timeout: 180_000 }, async () => {
  for (const s of STAGED) await submit(s.recipient.endsWith('@mx.fanout.test') ? postfix!.acceptAllPort : postfix!.port, [s.recipient]);
  await collect('postfix', bounces!, () => postfix!.flush(), () => postfix!.log());
});

test('Exim writes a bounce for every staged failure', { skip: skip || (!eximAvailable() ? 'needs Exim unpacked (scripts/setup-bounce-oracle.sh)' : false), timeout: 180_000 }, async () => {
  for (const s of STAGED) {
    const body = `From: sender@fanout.test\nTo: ${s.recipient}\nSubject: oracle\nMessage-ID: <${s.name}.${Date.now()}@fanout.test>\n\nhello\n`;
    await exim!.send('sender@fanout.test', [s.recipient], body);
  }
  // Past the two-second retry limit, a queue run bounces what was deferred.
  await new Promise((r) => setTimeout(r, 2500));
  await collect('exim', eximBounces!, () => exim!.runQueue(), () => exim!.log());
});

test('OpenSMTPD writes a bounce for every staged failure', { skip: skip || (!opensmtpdAvailable() ? 'needs OpenSMTPD unpacked (scripts/setup-bounce-oracle.sh)' : false), timeout: 240_000 }, async () => {
  // OpenSMTPD refuses an unknown local user at RCPT TO (no bounce to read); the rest is staged.
  const staged = STAGED.filter((s) => s.name !== 'local-unknown');
  for (const s of staged) await submit(opensmtpd!.port, [s.recipient]);
  await collect('opensmtpd', opensmtpdBounces!, async () => undefined, () => opensmtpd!.log(), staged);
});

test('Sendmail writes a bounce for every staged failure', { skip: skip || (!sendmailAvailable() ? 'needs Sendmail unpacked and m4 (scripts/setup-bounce-oracle.sh)' : false), timeout: 240_000 }, async () => {
  for (const s of STAGED) {
    const body = `From: sender@fanout.test\nTo: ${s.recipient}\nSubject: oracle\nMessage-ID: <${s.name}.${Date.now()}@fanout.test>\n\nhello\n`;
    await sendmail!.send('sender@fanout.test', [s.recipient], body);
  }
  await new Promise((r) => setTimeout(r, 1500));
  await collect('sendmail', sendmailBounces!, () => sendmail!.runQueue(), () => sendmail!.log());
});

test('Sisimai classifies every bounce', { skip }, async () => {
  comparisons = await compareWithSisimai(files.map((f) => f.file));
  assert.ok(comparisons.length >= files.length);
});

test('Fanout and Sisimai agree on every bounce, but for the kept disagreements', { skip }, () => {
  assert.ok(comparisons.length >= STAGED.length, 'every staged bounce was compared');
  const table = comparisons.map((c) => `${path.basename(c.file)} ${c.recipient}: fanout ${c.fanout}/${c.fanoutHard} sisimai ${c.sisimai}/${c.sisimaiHard}`).join('\n');
  const unexplained = comparisons.filter((c) => {
    if (c.fanout === c.sisimai && c.fanoutHard === c.sisimaiHard) return false;
    const kept = KEPT[`${path.basename(c.file, '.eml')} ${c.recipient}`];
    return !(kept && kept[0] === c.fanout && kept[1] === c.sisimai);
  });
  assert.deepEqual(unexplained.map((c) => `${path.basename(c.file)} ${c.recipient}`), [], table);
  // Agreement, reported for the record (the test output is read by people tracking it).
  const agree = comparisons.filter((c) => c.fanout === c.sisimai).length;
  const hard = comparisons.filter((c) => c.fanoutHard === c.sisimaiHard).length;
  console.log(`MTA oracle: reason ${agree}/${comparisons.length}, hard_bounce ${hard}/${comparisons.length}\n${table}`);
});
