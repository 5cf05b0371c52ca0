// End-to-end delivery benchmark for every way business systems submit: Postfix's smtp-source
// (or, for AUTH + PIPELINING, the benchmark's own client) into `fanout serve` (SQLite, DKIM
// RSA-2048, durable queue, roles smtp + sender), delivered to Postfix's smtp-sink; measured from
// the first submission to the sink's last message. Each pattern's ceiling is the same client
// with the same flags straight into a fresh smtp-sink, in the same run, just before.
// Usage: npm run bench:delivery -- [messages=20000] [sequentialMessages=2000] [patterns=all|key,key]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PostfixSink, peakRssMiB, processCpuMs, runSmtpSource } from './postfix-tools.ts';
import { submitPipelined } from './pipelining-client.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DOMAIN = 'statements.bank.test';
const FROM = `statements@${DOMAIN}`;
const TO = 'client@dest.bench.test';
const PHASE_TIMEOUT_MS = 900_000;

interface Account { name: string; password: string }

interface Pattern {
  key: string;
  label: string;
  command: string;
  /** Smallest ratio to the ceiling the product asks for, or null. */
  target: number | null;
  messages: number;
  submit(port: number, account: Account, messages: number): Promise<void>;
}

const sourceFlags = (extra: string[], n: number) => [...extra, '-l', '2048', '-m', String(n), '-N', '-f', FROM, '-t', TO];

function patterns(messages: number, sequential: number): Pattern[] {
  const source = (extra: string[]) => (port: number, _a: Account, n: number) => runSmtpSource(sourceFlags(extra, n), port);
  return [
    { key: 'new-connection', label: '20 sessions, a new connection per message', command: 'smtp-source -s 20 -l 2048 -N', target: 0.4, messages, submit: source(['-s', '20']) },
    { key: 'sequential', label: 'one sequential client, a new connection per message', command: 'smtp-source -s 1 -l 2048 -N', target: 0.5, messages: sequential, submit: source(['-s', '1']) },
    { key: 'kept-open', label: '20 sessions kept open (allowed address, no AUTH)', command: 'smtp-source -d -s 20 -l 2048 -N', target: 0.2, messages, submit: source(['-d', '-s', '20']) },
    {
      key: 'auth-pipelining', label: '20 sessions kept open, AUTH PLAIN + PIPELINING', command: 'bench client: AUTH PLAIN, MAIL+RCPT+DATA in one write', target: null, messages,
      async submit(port, account, n) {
        const r = await submitPipelined(port, account.name, account.password, FROM, n, 20);
        if (r.refused.length) throw new Error(`${r.refused.length} refused, first: ${r.refused[0]}`);
      },
    },
  ];
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** The same client straight into a fresh smtp-sink: messages a second. */
async function ceiling(p: Pattern): Promise<{ perSecond: number; seconds: number }> {
  const sink = await PostfixSink.start();
  try {
    const account: Account = { name: 'bench', password: 'bench' };
    const t0 = performance.now();
    await p.submit(sink.port, account, p.messages);
    const t1 = await sink.waitFor(p.messages, PHASE_TIMEOUT_MS);
    const seconds = (t1 - t0) / 1000;
    return { perSecond: p.messages / seconds, seconds };
  } finally {
    sink.stop();
  }
}

/** A fresh data folder with a tenant, a domain (DKIM key) and an account that has a password and allows 127.0.0.1. */
async function prepareFanout(): Promise<{ dataDir: string; account: Account }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bench-'));
  const { Store } = await import('../src/store/store.ts');
  const { migrations } = await import('../src/app/capabilities.ts');
  const { makeSender } = await import('../src/delivery/queue/fixtures.ts');
  const store = Store.open({ dataDir });
  await store.migrate(migrations);
  const f = await makeSender(store, { name: 'bench-statements', domain: DOMAIN, accountType: 'transactional', allowIps: ['127.0.0.1/32'], maxConnections: 1000, messagesPerMinute: 10_000_000 });
  await store.close();
  return { dataDir, account: { name: f.account.name, password: f.password } };
}

interface FanoutRun { perSecond: number; seconds: number; submitSeconds: number; cpuMsPerMessage: number; peakRssMiB: number; exitCode: number | null }

async function throughFanout(p: Pattern): Promise<FanoutRun> {
  const { dataDir, account } = await prepareFanout();
  const sink = await PostfixSink.start();
  // The sink is a smarthost on loopback: Fanout may open 20 sessions to it (as the clients
  // do) instead of the 10 of an unknown site, and keep each for 1,000 messages.
  const configFile = path.join(dataDir, 'bench.config.json');
  fs.writeFileSync(configFile, JSON.stringify({ delivery: { shaping: { defaults: { maxConnections: 20, messagesPerConnection: 1000 } } } }));
  const env = {
    ...process.env, FANOUT_CONFIG: configFile, FANOUT_DATA_DIR: dataDir, FANOUT_SMTP_PORT: '0', FANOUT_ROUTES: `*=127.0.0.1:${sink.port}`,
    FANOUT_NODE_ID: 'bench', FANOUT_ROLES: 'smtp,sender', FANOUT_LOG_LEVEL: 'info',
  } as Record<string, string>;
  delete env.FANOUT_DATABASE_URL;
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of the Fanout process there.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const fanout = spawn(process.execPath, [...profile, path.join(HERE, '../bin/fanout.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(fanout);
  try {
    let out = '';
    fanout.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
    const listening = /"port":(\d+)[^\n]*"msg":"SMTP submission listening"/;
    while (!listening.test(out)) {
      if (fanout.exitCode !== null) throw new Error(`Fanout did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = Number(listening.exec(out)![1]);
    const cpu0 = processCpuMs(fanout.pid!);
    const t0 = performance.now();
    let tSubmitted = 0;
    const submitting = p.submit(port, account, p.messages).then(() => void (tSubmitted = performance.now()));
    let failed: unknown = null;
    submitting.catch((err: unknown) => (failed = err));
    const t1 = await sink.waitFor(p.messages, PHASE_TIMEOUT_MS, () => {
      if (failed) throw failed;
      if (fanout.exitCode !== null) throw new Error(`Fanout exited during the run:\n${out.slice(-3000)}`);
    });
    await submitting;
    const cpuMs = processCpuMs(fanout.pid!) - cpu0;
    const peak = peakRssMiB(fanout.pid!);
    fanout.kill('SIGTERM');
    const exitCode = await new Promise<number | null>((r) => fanout.once('exit', (code) => r(code)));
    const seconds = (t1 - t0) / 1000;
    return { perSecond: p.messages / seconds, seconds, submitSeconds: (tSubmitted - t0) / 1000, cpuMsPerMessage: cpuMs / p.messages, peakRssMiB: peak, exitCode };
  } finally {
    if (fanout.exitCode === null) fanout.kill('SIGKILL');
    children.delete(fanout);
    sink.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 20000);
  const sequential = Number(process.argv[3] ?? 2000);
  const only = (process.argv[4] ?? 'all').split(',');
  const chosen = patterns(messages, sequential).filter((p) => only.includes('all') || only.includes(p.key));
  console.log(`delivery benchmark: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: string[] = [];
  for (const p of chosen) {
    const load0 = os.loadavg()[0]!;
    try {
      const c = await ceiling(p);
      console.log(`${p.key}: ceiling (${p.command} into smtp-sink) ${p.messages} messages in ${c.seconds.toFixed(2)} s = ${fmt(c.perSecond)} msg/s`);
      const f = await throughFanout(p);
      const ratio = f.perSecond / c.perSecond;
      const load1 = os.loadavg()[0]!;
      console.log(`${p.key}: Fanout ${p.messages} messages, first submission to last delivery ${f.seconds.toFixed(2)} s = ${fmt(f.perSecond)} msg/s, ratio ${ratio.toFixed(3)}${p.target ? ` (target ${p.target})` : ''}; CPU ${f.cpuMsPerMessage.toFixed(3)} ms/msg; peak RSS ${f.peakRssMiB} MiB`);
      console.log(JSON.stringify({ pattern: p.key, messages: p.messages, ceilingPerSecond: Math.round(c.perSecond), perSecond: Math.round(f.perSecond), ratio: Number(ratio.toFixed(3)), target: p.target, submitSeconds: Number(f.submitSeconds.toFixed(2)), endToEndSeconds: Number(f.seconds.toFixed(2)), fanoutCpuMsPerMessage: Number(f.cpuMsPerMessage.toFixed(3)), fanoutPeakRssMiB: f.peakRssMiB, fanoutExitCode: f.exitCode, loadAverage: [Number(load0.toFixed(2)), Number(load1.toFixed(2))] }));
      const met = p.target === null ? '' : ratio >= p.target ? ' (met)' : ' (**not met**)';
      rows.push(`| ${p.label} (\`${p.command}\`) | ${fmt(p.messages)} | ${fmt(c.perSecond)} msg/s | **${fmt(f.perSecond)} msg/s** | **${ratio.toFixed(3)}** | ${p.target === null ? '—' : `≥ ${p.target}${met}`} | ${f.cpuMsPerMessage.toFixed(3)} ms | ${f.peakRssMiB} MiB | ${load0.toFixed(1)} → ${load1.toFixed(1)} |`);
    } catch (err) {
      console.log(`${p.key}: failed: ${(err as Error).message}`);
      rows.push(`| ${p.label} | ${fmt(p.messages)} | failed: ${(err as Error).message.split('\n')[0]} | | | | | | |`);
    }
  }
  console.log('\n| client pattern | messages | ceiling | Fanout end to end | ratio | target | Fanout CPU / msg | peak RSS | load (1 min) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
