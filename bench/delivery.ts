// End-to-end delivery benchmark: SMTP submission with AUTH into Fanout (a child process, SQLite
// store, DKIM on), delivered by its sender to a loopback sink (another child process), measured
// from the first submission to the last delivery; compared with the bare ceiling of Postfix's
// smtp-source into the same sink.
// Usage: npm run bench:delivery -- [messages=20000] [sessions=20]
import { execFileSync, fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmtpSink } from '../src/testing/smtp-sink.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function ask(child: ChildProcess, what: string): Promise<{ messages: number; cpuMs: number }> {
  return new Promise((resolve) => {
    child.once('message', (m: { messages: number; cpuMs: number }) => resolve(m));
    child.send(what);
  });
}

/** One pipelined SMTP client session (PIPELINING: MAIL, RCPT and DATA in one write). */
class Session {
  readonly #socket: net.Socket;
  #buf = '';
  #waiters: ((reply: string) => void)[] = [];

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buf += d;
      for (;;) {
        const m = /^(\d{3}) [^\r\n]*\r\n/m.exec(this.#buf);
        if (!m) break;
        const reply = this.#buf.slice(0, m.index + m[0].length);
        this.#buf = this.#buf.slice(m.index + m[0].length);
        this.#waiters.shift()?.(reply);
      }
    });
  }

  static open(port: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Session(s)));
      s.once('error', reject);
    });
  }

  replies(n: number): Promise<string[]> {
    return Promise.all(Array.from({ length: n }, () => new Promise<string>((r) => this.#waiters.push(r))));
  }

  async send(text: string, replies: number): Promise<string[]> {
    const p = this.replies(replies);
    this.#socket.write(text);
    return p;
  }

  end(): void {
    this.#socket.end('QUIT\r\n');
  }
}

/** User + system CPU of a process so far, all threads (Linux clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function message(i: number, from: string, to: string): string {
  const head = `From: Statements <${from}>\r\nTo: <${to}>\r\nSubject: Your statement ${i}\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const line = 'Dear client, your monthly statement is ready in online banking.\r\n';
  return head + line.repeat(Math.ceil((2048 - head.length) / line.length));
}

async function submitAll(port: number, user: string, pass: string, from: string, total: number, sessions: number): Promise<{ ok: number; refused: string[] }> {
  let next = 0;
  let ok = 0;
  const refused: string[] = [];
  const run = async () => {
    const s = await Session.open(port);
    await s.replies(1);
    await s.send('EHLO bench.client\r\n', 1);
    const auth = await s.send(`AUTH PLAIN ${Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64')}\r\n`, 1);
    if (!auth[0]!.startsWith('235')) throw new Error(`AUTH failed: ${auth[0]}`);
    while (next < total) {
      const i = next++;
      const to = `client${i}@dest.bench.test`;
      const r = await s.send(`MAIL FROM:<${from}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`, 3);
      if (!r[2]!.startsWith('354')) {
        refused.push(r.join(' | ').trim());
        continue;
      }
      const [done] = await s.send(`${message(i, from, to)}.\r\n`, 1);
      if (done!.startsWith('250')) ok++;
      else refused.push(done!.trim());
    }
    s.end();
  };
  await Promise.all(Array.from({ length: sessions }, run));
  return { ok, refused };
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 20000);
  const sessions = Number(process.argv[3] ?? 20);
  const sinkChild = fork(fileURLToPath(import.meta.url), ['--sink']);
  const sinkPort = await new Promise<number>((resolve) => sinkChild.once('message', (m: { port: number }) => resolve(m.port)));

  // 1. The ceiling: Postfix's smtp-source into the same sink, same message size.
  const smtpSource = ['/usr/sbin/smtp-source', '/usr/bin/smtp-source'].find((p) => fs.existsSync(p));
  let ceiling: number | null = null;
  if (smtpSource) {
    const t0 = performance.now();
    execFileSync(smtpSource, ['-s', '20', '-l', '2048', '-m', String(total), '-f', 'bench@source.test', '-t', 'sink@dest.bench.test', `127.0.0.1:${sinkPort}`], { stdio: 'ignore' });
    const secs = (performance.now() - t0) / 1000;
    const got = (await ask(sinkChild, 'count')).messages;
    ceiling = got / secs;
    console.log(`ceiling: smtp-source -s 20 -l 2048 -m ${total} → ${got} messages in ${secs.toFixed(2)} s = ${Math.round(ceiling)} msg/s`);
  } else {
    console.log('ceiling: smtp-source not found (run scripts/setup-postfix.sh as root); ratio not computed');
  }
  await ask(sinkChild, 'reset');

  // 2. Fanout: a fresh data folder, a tenant, a domain with its DKIM key and an account.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bench-'));
  const { Store } = await import('../src/store/store.ts');
  const { makeSender } = await import('../src/delivery/queue/fixtures.ts');
  const store = Store.open({ dataDir });
  await store.migrate();
  const f = await makeSender(store, { name: 'bench-statements', domain: 'statements.bank.test', accountType: 'transactional', maxConnections: 1000, messagesPerMinute: 10_000_000 });
  await store.close();

  // BENCH_PROFILE=<dir> writes a V8 CPU profile of the Fanout process there.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // Fanout as operators run it: `fanout serve` with the submission and sender roles, SQLite.
  // The sink is a smarthost on loopback: Fanout may open as many sessions to it as
  // smtp-source did (20) instead of the 10 of an unknown site, and keep each for 1,000 messages.
  const configFile = path.join(dataDir, 'bench.config.json');
  fs.writeFileSync(configFile, JSON.stringify({ delivery: { shaping: { defaults: { maxConnections: 20, messagesPerConnection: 1000 } } } }));
  const env = {
    ...process.env, FANOUT_CONFIG: configFile, FANOUT_DATA_DIR: dataDir, FANOUT_SMTP_PORT: '0', FANOUT_ROUTES: `*=127.0.0.1:${sinkPort}`,
    FANOUT_NODE_ID: 'bench', FANOUT_ROLES: 'smtp,sender', FANOUT_LOG_LEVEL: 'info',
  } as Record<string, string>;
  delete env.FANOUT_DATABASE_URL;
  const fanout = spawn(process.execPath, [...profile, path.join(HERE, '../bin/fanout.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  fanout.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const listening = /"port":(\d+)[^\n]*"msg":"SMTP submission listening"/;
  while (!listening.test(out)) {
    if (fanout.exitCode !== null) throw new Error(`Fanout did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(listening.exec(out)![1]);

  const sinkCpuBefore = (await ask(sinkChild, 'count')).cpuMs;
  const fanoutCpuBefore = processCpuMs(fanout.pid!);
  const clientCpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const submitting = submitAll(port, f.account.name, f.password, `statements@${f.domain}`, total, sessions);
  let tSubmitted = 0;
  void submitting.then(() => (tSubmitted = performance.now()));
  let delivered: number;
  for (;;) {
    delivered = (await ask(sinkChild, 'count')).messages;
    if (delivered >= total) break;
    if (fanout.exitCode !== null) throw new Error('Fanout exited during the run');
    await new Promise((r) => setTimeout(r, 20));
  }
  const t1 = performance.now();
  const sinkCpuMs = (await ask(sinkChild, 'count')).cpuMs - sinkCpuBefore;
  const submitted = await submitting;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const secs = (t1 - t0) / 1000;
  const rate = total / secs;

  // Peak memory (VmHWM) and CPU of the whole Fanout process, all threads, start-up included:
  // unlike messages/s the CPU per message does not depend on what else the machine runs.
  const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${fanout.pid}/status`, 'utf8'))?.[1] ?? 0);
  const cpuMs = processCpuMs(fanout.pid!);
  fanout.kill('SIGTERM');
  const exitCode = await new Promise<number | null>((r) => fanout.once('exit', (code) => r(code)));
  sinkChild.send('stop');
  fs.rmSync(dataDir, { recursive: true, force: true });

  const result = {
    messages: total, sessions, messageBytes: Buffer.byteLength(message(0, `statements@${f.domain}`, 'client0@dest.bench.test')),
    submitted: submitted.ok, refused: submitted.refused.length, delivered,
    submitSeconds: Number(((tSubmitted - t0) / 1000).toFixed(2)), endToEndSeconds: Number(secs.toFixed(2)),
    perSecond: Math.round(rate), ceilingPerSecond: ceiling === null ? null : Math.round(ceiling),
    ratio: ceiling === null ? null : Number((rate / ceiling).toFixed(3)),
    fanoutPeakRssMiB: Math.round(peakKiB / 1024),
    fanoutExitCode: exitCode,
    fanoutCpuMsPerMessage: Number((cpuMs / total).toFixed(3)),
    // The same from the first submission on: start-up (module loading, key decoding) left out.
    fanoutRunCpuMsPerMessage: Number(((cpuMs - fanoutCpuBefore) / total).toFixed(3)),
    // The other two programs sharing the machine during the run: this process (the SMTP
    // client) and the sink.
    clientCpuMsPerMessage: Number(((clientCpu.user + clientCpu.system) / 1000 / total).toFixed(3)),
    sinkCpuMsPerMessage: Number((sinkCpuMs / total).toFixed(3)),
    cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  if (submitted.refused.length) console.log('refused (first 3):', submitted.refused.slice(0, 3));
  console.log(`fanout serve: ${total} messages, SMTP AUTH submission → DKIM-signed delivery, first submission to last delivery ${secs.toFixed(2)} s = ${Math.round(rate)} msg/s${ceiling ? `, ${(rate / ceiling).toFixed(3)} of the ceiling` : ''}; peak RSS ${result.fanoutPeakRssMiB} MiB`);
  console.log(JSON.stringify(result));
}

if (process.argv[2] === '--sink') {
  const sink = await SmtpSink.start({ capture: false, starttls: false });
  process.send?.({ port: sink.port });
  process.on('message', (m) => {
    if (m === 'count') {
      const cpu = process.cpuUsage();
      process.send?.({ messages: sink.counters.messages, cpuMs: (cpu.user + cpu.system) / 1000 });
    }
    if (m === 'reset') {
      sink.reset();
      process.send?.({ messages: 0, cpuMs: 0 });
    }
    if (m === 'stop') void sink.close().then(() => process.exit(0));
  });
} else {
  await main();
}
