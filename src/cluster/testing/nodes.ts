import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import nodemailer from 'nodemailer';
import { startServe } from '../../testing/cli.ts';
import type { SmtpSink } from '../../testing/smtp-sink.ts';
import { sampleMessage } from '../../delivery/submission/smtp-client.ts';
import type { SenderFixture } from '../../delivery/queue/fixtures.ts';

/** A real `fanout serve` process (SMTP submission + sender) of a multi-node test. */
export interface ClusterNode {
  name: string;
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  /** Exit code, or null while it runs. */
  exitCode(): number | null;
  output(): string;
}

export interface NodeSetup {
  name: string;
  dataDir: string;
  databaseUrl: string | null;
  sinkPort: number;
  /** Extra configuration (merged into a config file), e.g. `{ delivery: { leaseSeconds: 6 } }`. */
  config?: Record<string, unknown>;
  /** The secret key every node of one cluster shares (sealed secrets in the store). */
  secretKeyFile?: string;
}

/** A data folder of one node; nodes of one PostgreSQL cluster share the secret key file. */
export function nodeDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-node-'));
}

export async function startNode(setup: NodeSetup): Promise<ClusterNode> {
  const configFile = path.join(setup.dataDir, `config-${setup.name}-${randomBytes(3).toString('hex')}.json`);
  fs.writeFileSync(configFile, JSON.stringify(setup.config ?? {}));
  const env: Record<string, string> = {
    FANOUT_DATA_DIR: setup.dataDir, FANOUT_SMTP_PORT: '0', FANOUT_ROUTES: `*=127.0.0.1:${setup.sinkPort}`,
    FANOUT_NODE_ID: setup.name, FANOUT_ROLES: 'smtp,sender', FANOUT_LOG_LEVEL: 'info', FANOUT_CONFIG: configFile,
  };
  if (setup.databaseUrl) env.FANOUT_DATABASE_URL = setup.databaseUrl;
  if (setup.secretKeyFile) env.FANOUT_SECRET_KEY_FILE = setup.secretKeyFile;
  const serve = startServe(env);
  const exited = new Promise<number | null>((resolve) => {
    if (serve.child.exitCode !== null) resolve(serve.child.exitCode);
    else serve.child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)));
  });
  // Generous: on a loaded machine a node takes tens of seconds to start (TLS key, argon2, migrations checked).
  const m = await serve.waitFor(/"port":(\d+)[^\n]*"msg":"SMTP submission listening"/, 150_000).catch(async (err: unknown) => {
    // A node that did not come up is not left behind.
    serve.child.kill('SIGKILL');
    await exited;
    throw err;
  });
  return { name: setup.name, child: serve.child, port: Number(m[1]), exited, exitCode: () => serve.child.exitCode ?? (serve.child.signalCode ? -1 : null), output: serve.output };
}

export interface SubmitResult {
  /** Recipients whose message was answered 250: each must arrive. */
  accepted: Set<string>;
  /** Every SMTP reply code a refusal carried (4xx expected while the store is away; never 5xx). */
  refusals: number[];
  /** Refusals without a reply code (connection closed or reset). */
  dropped: number;
}

/**
 * Submits `count` two-recipient messages over SMTP, spread over `ports` (one pooled client per
 * node), until done or `stopWhen` says so. A refused message is tried again once later, as an
 * MTA would, so the run keeps submitting through an outage.
 */
export async function submit(ports: number[], f: SenderFixture, prefix: string, count: number, options: { connections?: number; stopWhen?: () => boolean; pauseMs?: number; bodyBytes?: number } = {}): Promise<SubmitResult> {
  const filler = options.bodyBytes ? `${'0123456789'.repeat(7)}abcdef\r\n`.repeat(Math.ceil(options.bodyBytes / 78)) : undefined;
  const transports = ports.map((port) => nodemailer.createTransport({
    host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: options.connections ?? 3, maxMessages: Infinity,
    auth: { user: f.account.name, pass: f.password }, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000,
  }));
  const accepted = new Set<string>();
  const refusals: number[] = [];
  let dropped = 0;
  let next = 0;
  const worker = async (w: number) => {
    while (next < count && !(options.stopWhen?.() ?? false)) {
      const i = next++;
      const to = [`${prefix}${i}a@example.org`, `${prefix}${i}b@example.net`];
      const transport = transports[(i + w) % transports.length]!;
      try {
        const info = await transport.sendMail({ envelope: { from: `bulk@${f.domain}`, to }, raw: sampleMessage(`bulk@${f.domain}`, to[0]!, `Message ${i}`, filler) });
        if (/^250 /.test(info.response)) for (const r of to) accepted.add(r);
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        if (typeof code === 'number') refusals.push(code);
        else dropped++;
      }
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: ports.length * (options.connections ?? 3) }, (_, w) => worker(w)));
  for (const t of transports) t.close();
  return { accepted, refusals, dropped };
}

/** How often each recipient reached the sink. */
export function deliveries(sink: SmtpSink): Map<string, number> {
  const seen = new Map<string, number>();
  for (const m of sink.messages) for (const r of m.recipients) seen.set(r, (seen.get(r) ?? 0) + 1);
  return seen;
}

/** Polls until `check` holds; returns the ms it took, or throws after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - start;
}
