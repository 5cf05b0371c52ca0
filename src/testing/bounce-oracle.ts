/**
 * The differential oracle: Debian's Sisimai (libsisimai-perl, installed by
 * scripts/setup-bounce-oracle.sh) classifies the same files as Fanout, recipient by recipient.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { classifyMessage } from '../bounces/index.ts';

const run = promisify(execFile);
const SCRIPT = path.join(import.meta.dirname, 'sisimai.pl');

export interface OracleAnswer {
  recipient: string;
  reason: string;
  hard_bounce: boolean;
  status: string;
}

export function sisimaiAvailable(): boolean {
  return fs.existsSync('/usr/share/perl5/Sisimai.pm');
}

/** Sisimai's answers for each file, by file then recipient order. */
export async function sisimaiClassify(files: string[]): Promise<Map<string, OracleAnswer[]>> {
  const out = new Map<string, OracleAnswer[]>(files.map((f) => [f, []]));
  if (files.length === 0) return out;
  const { stdout } = await run('perl', [SCRIPT, ...files], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const a = JSON.parse(line) as OracleAnswer & { file: string };
    out.get(a.file)?.push({ recipient: a.recipient.toLowerCase(), reason: a.reason, hard_bounce: a.hard_bounce, status: a.status });
  }
  return out;
}

export interface Comparison {
  file: string;
  recipient: string;
  fanout: string;
  sisimai: string;
  fanoutHard: boolean | null;
  sisimaiHard: boolean | null;
}

/** Fanout beside Sisimai for every recipient either of them found, matched by address. */
export async function compareWithSisimai(files: string[]): Promise<Comparison[]> {
  const oracle = await sisimaiClassify(files);
  const rows: Comparison[] = [];
  for (const file of files) {
    const ours = classifyMessage(fs.readFileSync(file)).recipients;
    const theirs = oracle.get(file) ?? [];
    const addresses = [...new Set([...theirs.map((t) => t.recipient), ...ours.map((o) => o.recipient)])];
    for (const recipient of addresses) {
      const o = ours.find((x) => x.recipient === recipient);
      const t = theirs.find((x) => x.recipient === recipient);
      rows.push({ file, recipient, fanout: o?.reason ?? '(none)', sisimai: t?.reason ?? '(none)', fanoutHard: o?.hardBounce ?? null, sisimaiHard: t?.hard_bounce ?? null });
    }
  }
  return rows;
}
