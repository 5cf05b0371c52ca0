// The SMTP server engines side by side, with handlers that do nothing (no store, no DKIM):
// Fanout's own (src/smtp) and smtp-server 3.21 as shipped (its fixed 100 ms early-talker delay)
// and with that delay patched out (what a fork would give). Each runs in a child process and
// takes Postfix's smtp-source in three patterns; printed: messages a second and the engine's
// CPU per message (all threads), which does not depend on what else the machine runs.
// Usage: npm run bench:smtp-engines -- [messages=5000] [sequentialMessages=1000] [rounds=3]
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { processCpuMs, runSmtpSource } from './postfix-tools.ts';

type Kind = 'fanout' | 'smtp-server' | 'smtp-server-no-delay';

async function serve(kind: Kind): Promise<void> {
  if (kind === 'fanout') {
    const { SmtpServer } = await import('../src/smtp/server.ts');
    const s = new SmtpServer<null>({ name: 'bench', maxMessageBytes: 10_000_000, handlers: { state: () => null, mailFrom() {}, rcptTo() {}, async data() { return '2.0.0 Ok'; } } });
    process.send?.(await s.listen(0, '127.0.0.1'));
    return;
  }
  const { SMTPServer } = await import('smtp-server');
  if (kind === 'smtp-server-no-delay') {
    // smtp-server has no option for its early-talker delay: replace the method that arms it.
    const { SMTPConnection } = await import('smtp-server/lib/smtp-connection.js') as unknown as { SMTPConnection: { prototype: { init(): void; _setListeners(cb: () => void): void; connectionReady(): void } } };
    SMTPConnection.prototype.init = function (this: { _setListeners(cb: () => void): void; connectionReady(): void }) {
      this._setListeners(() => this.connectionReady());
    };
  }
  const s = new SMTPServer({
    disableReverseLookup: true, authOptional: true, logger: false, size: 10_000_000,
    onData(stream, _session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => cb(null));
    },
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  process.send?.((s.server.address() as { port: number }).port);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 5000);
  const sequential = Number(process.argv[3] ?? 1000);
  const rounds = Number(process.argv[4] ?? 3);
  const patterns: [string, string[], number][] = [
    ['20 sessions, new connection per message (-s 20)', ['-s', '20'], messages],
    ['one sequential client (-s 1)', ['-s', '1'], sequential],
    ['20 sessions kept open (-d -s 20)', ['-d', '-s', '20'], messages],
  ];
  console.log(`SMTP engines, no-op handlers: ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; median of ${rounds} interleaved rounds`);
  const kinds: Kind[] = ['fanout', 'smtp-server-no-delay', 'smtp-server'];
  const engines = await Promise.all(kinds.map(async (kind) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((r) => child.once('message', (m) => r(Number(m))));
    return { kind, child, port };
  }));
  const rows: string[] = [];
  for (const [label, flags, n] of patterns) {
    const runs = new Map<Kind, { rate: number[]; cpu: number[] }>(kinds.map((k) => [k, { rate: [], cpu: [] }]));
    // Engines take turns within each round, so a change in the machine's load hits them alike.
    for (let r = 0; r < rounds; r++) {
      for (const e of engines) {
        // The stock smtp-server waits 100 ms per connection: its sequential run is kept short.
        const count = e.kind === 'smtp-server' && flags[1] === '1' ? Math.min(n, 100) : n;
        const cpu0 = processCpuMs(e.child.pid!);
        const t0 = performance.now();
        await runSmtpSource([...flags, '-l', '2048', '-m', String(count), '-N', '-f', 'a@bench.test', '-t', 'c@dest.test'], e.port);
        runs.get(e.kind)!.rate.push(count / ((performance.now() - t0) / 1000));
        runs.get(e.kind)!.cpu.push((processCpuMs(e.child.pid!) - cpu0) / count);
      }
    }
    for (const k of kinds) {
      const x = runs.get(k)!;
      rows.push(`| ${k} | ${label} | ${Math.round(median(x.rate)).toLocaleString('en-US')} | ${median(x.cpu).toFixed(3)} ms |`);
    }
  }
  for (const e of engines) e.child.kill();
  console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('| engine | pattern | msg/s | engine CPU / msg |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

if (process.argv[2] === '--serve') await serve(process.argv[3] as Kind);
else await main();
