// What a hook that does nothing costs per message: BENCH_HOOK_CALLS submission.message calls
// (default 20,000) of a 2 KB message through src/hooks/testing/noop.ts, BENCH_HOOK_CONCURRENCY
// at a time (default 64, as many SMTP sessions commit at once), against the same loop with no
// hook. Prints wall time and process CPU (main thread and hook workers) per message.
import path from 'node:path';
import { loadAppConfig } from '../src/app/capabilities.ts';
import { HookHost, submissionInspector } from '../src/hooks/index.ts';

const calls = Number(process.env.BENCH_HOOK_CALLS ?? 20_000);
const concurrency = Number(process.env.BENCH_HOOK_CONCURRENCY ?? 64);
const raw = Buffer.from(`From: n@bank.test\r\nTo: c@client.example\r\nSubject: Statement\r\n\r\n${'Your statement is attached. '.repeat(75)}\r\n`);
const message = { tenantId: 'tn', accountId: 'ac', lane: 'transactional' as const, mailFrom: 'n@bank.test', recipients: ['c@client.example'], source: 'smtp' as const, raw };

async function run(inspect: ((m: typeof message) => Promise<unknown>) | undefined): Promise<{ wallMs: number; cpuMs: number }> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < calls) {
      next++;
      if (inspect) await inspect(message);
      else await Promise.resolve();
    }
  }));
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const config = { ...loadAppConfig({ env: {}, file: null }).hooks, modules: [path.join(import.meta.dirname, '../src/hooks/testing/noop.ts')], timeoutMs: 5000 };
const host = (await HookHost.start(config))!;
const inspect = submissionInspector(host)!;
await run(inspect); // warm-up: workers loaded, code compiled
const none = await run(undefined);
const hooked = await run(inspect);
await host.close();
const per = (ms: number) => (ms / calls).toFixed(4);
console.log(`${calls.toLocaleString()} messages, ${concurrency} at a time, ${config.workersPerModule} workers`);
console.log(`  no hook:    ${per(none.wallMs)} ms wall, ${per(none.cpuMs)} ms CPU per message`);
console.log(`  no-op hook: ${per(hooked.wallMs)} ms wall, ${per(hooked.cpuMs)} ms CPU per message`);
console.log(`  added:      ${per(hooked.wallMs - none.wallMs)} ms wall per message (target < 0.05 ms), ${per(hooked.cpuMs - none.cpuMs)} ms CPU`);
