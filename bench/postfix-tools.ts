// Postfix's load generator and sink for the benchmarks: smtp-sink counting messages (its -c
// counters, read live from its output) and smtp-source runs.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export const SMTP_SOURCE = ['/usr/sbin/smtp-source', '/usr/bin/smtp-source'].find((p) => fs.existsSync(p)) ?? null;
export const SMTP_SINK = ['/usr/sbin/smtp-sink', '/usr/bin/smtp-sink'].find((p) => fs.existsSync(p)) ?? null;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** User + system CPU of a process so far, all threads (Linux clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Peak resident memory (VmHWM) of a process, MiB. */
export function peakRssMiB(pid: number): number {
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
}

/** Postfix's smtp-sink on a free loopback port, counting the messages it has taken. */
export class PostfixSink {
  readonly port: number;
  readonly #child: ChildProcess;
  #tail = '';

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.#child = child;
    child.stdout!.on('data', (d: Buffer) => {
      this.#tail = (this.#tail + d.toString('latin1')).slice(-256);
    });
  }

  static async start(): Promise<PostfixSink> {
    if (!SMTP_SINK) throw new Error('smtp-sink not found: install Postfix (scripts/setup-postfix.sh)');
    const port = await freePort();
    // As root smtp-sink must drop to another user (-u); 1,024 pending connections (backlog).
    const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
    const child = spawn(SMTP_SINK, ['-c', ...user, '-m', '1024', `127.0.0.1:${port}`, '1024'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sink = new PostfixSink(port, child);
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (up) return sink;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('smtp-sink did not start');
  }

  /** Messages taken so far (its running "mesg=" counter). */
  get messages(): number {
    const all = [...this.#tail.matchAll(/mesg=(\d+)/g)];
    return all.length ? Number(all[all.length - 1]![1]) : 0;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  async waitFor(count: number, timeoutMs: number, alive?: () => void): Promise<number> {
    const until = Date.now() + timeoutMs;
    while (this.messages < count) {
      if (Date.now() > until) throw new Error(`smtp-sink saw ${this.messages} of ${count} messages in ${timeoutMs / 1000} s`);
      alive?.();
      await new Promise((r) => setTimeout(r, 10));
    }
    return performance.now();
  }

  stop(): void {
    this.#child.kill('SIGTERM');
  }
}

/** Runs smtp-source with `flags` against 127.0.0.1:port; resolves when it exits. */
export function runSmtpSource(flags: string[], port: number): Promise<void> {
  if (!SMTP_SOURCE) throw new Error('smtp-source not found: install Postfix (scripts/setup-postfix.sh)');
  return new Promise((resolve, reject) => {
    const child = spawn(SMTP_SOURCE, [...flags, `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source ${flags.join(' ')} exited ${code}: ${err.slice(-500)}`))));
  });
}
