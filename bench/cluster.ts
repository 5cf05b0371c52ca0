// Cluster benchmark: 1, 2 and 3 `fanout serve` nodes (roles smtp + sender) on one fresh
// PostgreSQL database each run, 2 KB messages submitted by Postfix's smtp-source (sessions kept
// open, allowed address) spread over the nodes, delivered to Postfix's smtp-sink; measured from
// the first submission to the sink's last message. Then the shared limiter's cost: three nodes
// with a site rate limit far above what they reach (every send goes through the cluster's GCRA
// row) against the same without a rate limit, and the limiter alone (round trips a batch).
// Soak mode (not in CI): a fixed rate for a while, memory and latency every minute.
// Usage: npm run bench:cluster -- [messages=6000] [nodes=1,2,3]  (then the largest count again with
//        the limiter on every send, and with per-node limits)
//        npm run bench:cluster -- soak [minutes=60] [perSecond=50] [nodes=3]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import nodemailer from 'nodemailer';
import { PostfixSink, runSmtpSource } from './postfix-tools.ts';
import { benchMessage } from './pipelining-client.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_URL = process.env.FANOUT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DOMAIN = 'statements.bank.test';
const FROM = `statements@${DOMAIN}`;
const TO = 'client@dest.bench.test';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

interface Cluster {
  ports: number[];
  pids: number[];
  dataDir: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fanout_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A migrated database with a tenant, a domain (DKIM key) and an account that allows 127.0.0.1; N nodes on it. */
async function startCluster(nodes: number, sinkPort: number, databaseUrl: string, shaping: Record<string, unknown>): Promise<Cluster> {
  const { Store } = await import('../src/store/store.ts');
  const { migrations } = await import('../src/app/capabilities.ts');
  const { makeSender } = await import('../src/delivery/queue/fixtures.ts');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bench-cluster-'));
  const store = Store.open({ dataDir, databaseUrl });
  await store.migrate(migrations);
  await makeSender(store, { name: `bench-${randomBytes(3).toString('hex')}`, domain: DOMAIN, accountType: 'transactional', allowIps: ['127.0.0.1/32'], maxConnections: 1000, messagesPerMinute: 10_000_000 });
  await store.close();
  const configFile = path.join(dataDir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify({ delivery: { shaping } }));
  const procs: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < nodes; i++) {
    const env = {
      ...process.env, FANOUT_CONFIG: configFile, FANOUT_DATA_DIR: dataDir, FANOUT_DATABASE_URL: databaseUrl, FANOUT_SMTP_PORT: '0',
      FANOUT_ROUTES: `*=127.0.0.1:${sinkPort}`, FANOUT_NODE_ID: `bench-node-${i}`, FANOUT_ROLES: 'smtp,sender', FANOUT_LOG_LEVEL: 'info',
    };
    const child = spawn(process.execPath, [path.join(HERE, '../bin/fanout.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    procs.push(child);
    ports.push(await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`node ${i} did not start: ${out.slice(-2000)}`)), 120_000);
      child.stdout!.on('data', (d: Buffer) => {
        out = (out + d.toString()).slice(-8000);
        const m = out.match(/"port":(\d+)[^\n]*"msg":"SMTP submission listening"/);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    }));
    // Keep reading so the pipe never fills.
    child.stdout!.resume();
  }
  return {
    ports, pids: procs.map((p) => p.pid!), dataDir, databaseUrl,
    async stop() {
      await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      })));
      for (const p of procs) children.delete(p);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function throughput(nodes: number, messages: number, shaping: Record<string, unknown>): Promise<{ perSecond: number; seconds: number }> {
  const db = await freshDatabase();
  const sink = await PostfixSink.start();
  const cluster = await startCluster(nodes, sink.port, db.url, shaping);
  try {
    const each = Math.floor(messages / nodes);
    const total = each * nodes;
    const start = performance.now();
    await Promise.all(cluster.ports.map((port) => runSmtpSource(['-d', '-s', '10', '-l', '2048', '-m', String(each), '-N', '-f', FROM, '-t', TO], port)));
    const end = await sink.waitFor(total, 900_000);
    return { perSecond: total / ((end - start) / 1000), seconds: (end - start) / 1000 };
  } finally {
    await cluster.stop();
    sink.stop();
    await db.drop();
  }
}

/** The shared limiter alone: one process taking batches against one key, per message. */
async function limiterAlone(): Promise<{ batch: number; usPerMessage: number; msPerTrip: number }[]> {
  const { Store } = await import('../src/store/store.ts');
  const { migrations } = await import('../src/app/capabilities.ts');
  const { SharedLimits } = await import('../src/cluster/index.ts');
  const db = await freshDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bench-limiter-'));
  const store = Store.open({ dataDir, databaseUrl: db.url });
  await store.migrate(migrations);
  const limits = new SharedLimits(store, { nodeId: 'bench' });
  const out: { batch: number; usPerMessage: number; msPerTrip: number }[] = [];
  try {
    for (const batch of [1, 10, 50]) {
      const trips = 400;
      const t0 = performance.now();
      for (let i = 0; i < trips; i++) await limits.takeRate(`bench|${batch}`, batch, 60_000_000);
      const ms = performance.now() - t0;
      out.push({ batch, usPerMessage: (ms * 1000) / (trips * batch), msPerTrip: ms / trips });
    }
  } finally {
    await limits.stop();
    await store.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return out;
}

function rssMiB(pid: number): number {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** A fixed rate for `minutes`; every minute: delivered, latency (p50, p99), each node's memory. */
async function soak(minutes: number, perSecond: number, nodes: number): Promise<void> {
  const { SmtpSink } = await import('../src/testing/smtp-sink.ts');
  const db = await freshDatabase();
  const sink = await SmtpSink.start({ starttls: false, capture: true });
  const cluster = await startCluster(nodes, sink.port, db.url, {});
  const transports = cluster.ports.map((port) => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 4, maxMessages: Infinity }));
  const sentAt = new Map<string, number>();
  let seen = 0;
  let i = 0;
  const endAt = Date.now() + minutes * 60_000;
  console.log(`soak: ${nodes} nodes, ${perSecond} messages a second for ${minutes} min`);
  console.log('minute | sent | delivered | p50 ms | p99 ms | RSS MiB per node');
  let minute = 0;
  let nextReport = Date.now() + 60_000;
  while (Date.now() < endAt) {
    const tick = Date.now();
    for (let k = 0; k < perSecond; k++) {
      const n = i++;
      const subject = `soak ${n}`;
      sentAt.set(subject, Date.now());
      void transports[n % transports.length]!.sendMail({ envelope: { from: FROM, to: [TO] }, raw: benchMessage(n, FROM, TO).replace(/^Subject: .*$/m, `Subject: ${subject}`) }).catch(() => sentAt.delete(subject));
    }
    if (Date.now() >= nextReport) {
      minute++;
      nextReport += 60_000;
      const latencies: number[] = [];
      for (const m of sink.messages.splice(0)) {
        const subject = m.raw.toString('latin1').match(/^Subject: (.*)\r$/m)?.[1];
        const at = subject ? sentAt.get(subject) : undefined;
        if (at !== undefined && subject) {
          latencies.push(m.receivedAt - at);
          sentAt.delete(subject);
        }
      }
      seen += latencies.length;
      latencies.sort((a, b) => a - b);
      const q = (p: number) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! : 0;
      console.log(`${minute} | ${i} | ${seen} | ${q(0.5)} | ${q(0.99)} | ${cluster.pids.map(rssMiB).join(' / ')}`);
    }
    const wait = 1000 - (Date.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  for (const t of transports) t.close();
  await cluster.stop();
  await sink.close();
  await db.drop();
}

const args = process.argv.slice(2);
if (args[0] === 'soak') {
  await soak(Number(args[1] ?? 60), Number(args[2] ?? 50), Number(args[3] ?? 3));
} else {
  const messages = Number(args[0] ?? 6000);
  const counts = (args[1] ?? '1,2,3').split(',').map(Number);
  console.log(`cluster throughput: ${messages} messages of 2 KB, smtp-source (10 sessions kept open per node) → nodes on one PostgreSQL → smtp-sink`);
  console.log('nodes | msg/s end to end | seconds');
  for (const n of counts) {
    const r = await throughput(n, messages, {});
    console.log(`${n} | ${r.perSecond.toFixed(0)} | ${r.seconds.toFixed(1)}`);
  }
  const top = Math.max(...counts);
  const limited = await throughput(top, messages, { defaults: { messagesPerMinute: 60_000_000 } });
  console.log(`${top} nodes, every send through the shared rate limiter | ${limited.perSecond.toFixed(0)} | ${limited.seconds.toFixed(1)}`);
  const alone = await throughput(top, messages, { clusterWide: false });
  console.log(`${top} nodes, limits per node (shaping.clusterWide false) | ${alone.perSecond.toFixed(0)} | ${alone.seconds.toFixed(1)}`);
  console.log('shared limiter alone (one PostgreSQL round trip per batch):');
  console.log('batch | ms per round trip | µs per message');
  for (const r of await limiterAlone()) console.log(`${r.batch} | ${r.msPerTrip.toFixed(2)} | ${r.usPerMessage.toFixed(0)}`);
}
process.exit(0);
