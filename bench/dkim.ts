// DKIM signing throughput, RSA-2048 relaxed/relaxed on a ~4 KB message:
//   mailauth dkimSign (decodes the PEM for every message)  vs  DkimSigner on the calling
//   thread (key decoded once)  vs  DkimSigner with a worker pool.
// Usage: node bench/dkim.ts [messages=2000] [workers=2]
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { DkimSigner } from '../src/delivery/dkim/index.ts';

const n = Number(process.argv[2] ?? 2000);
const workers = Number(process.argv[3] ?? 2);
const pem = (type: 'rsa' | 'ed25519') => (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsa = pem('rsa');
const ed = pem('ed25519');
const body = 'Dear client, your monthly statement is attached to this message. '.repeat(56).replace(/(.{72})/g, '$1\r\n');
const message = (i: number) => Buffer.from(
  `From: Statements <statements@bank.test>\r\nTo: client${i}@example.test\r\nSubject: Statement ${i}\r\n` +
  `Date: Wed, 25 Nov 2026 18:00:00 +0000\r\nMessage-ID: <${i}@bank.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
);
const msgs = Array.from({ length: n }, (_, i) => message(i));

async function measure(name: string, run: () => Promise<void>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const main0 = process.threadCpuUsage();
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const main = process.threadCpuUsage(main0);
  const each = (u: NodeJS.CpuUsage) => ((u.user + u.system) / 1000 / n).toFixed(3);
  console.log(`${name.padEnd(44)} ${String(Math.round((n / ms) * 1000)).padStart(6)} signatures/s   ${(ms / n).toFixed(3)} ms wall   CPU each: ${each(cpu)} ms all threads, ${each(main)} ms main thread`);
}

console.log(`${n} messages of ${msgs[0]!.length} bytes, ${os.availableParallelism()} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const opts = { signatureData: [{ signingDomain: 'bank.test', selector: 's1', privateKey: rsa }] } as unknown as Parameters<typeof dkimSign>[1];
await measure('mailauth dkimSign (PEM decoded per message)', async () => {
  for (const m of msgs) await dkimSign(m, opts);
});
const inline = new DkimSigner({ workers: 0 });
const key = { domain: 'bank.test', selector: 's1', privateKeyPem: rsa };
await measure('DkimSigner, calling thread, RSA', async () => {
  for (const m of msgs) await inline.signatureHeader(m, key);
});
await measure('DkimSigner, calling thread, Ed25519', async () => {
  for (const m of msgs) await inline.signatureHeader(m, { ...key, selector: 'e1', privateKeyPem: ed });
});
const pool = new DkimSigner({ workers });
await Promise.all(msgs.slice(0, 50).map((m) => pool.signatureHeader(m, key))); // start threads, send key
await measure(`DkimSigner, ${workers} worker threads, RSA`, async () => {
  let next = 0;
  const lane = async () => {
    while (next < n) await pool.signatureHeader(msgs[next++]!, key);
  };
  await Promise.all(Array.from({ length: 64 }, lane));
});
await pool.close();
