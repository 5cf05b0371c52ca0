import type { Logger } from 'pino';
import { HookHost } from './host.ts';
import type { ClassifyRequest, RouteRequest, SubmissionMessage } from './types.ts';

export { HookHost, ModulePool } from './host.ts';
export type { ModuleStats } from './host.ts';
export { HooksConfigSchema } from './config.ts';
export type { HooksConfig } from './config.ts';
export type * from './types.ts';

/** What the submission paths (SMTP, HTTP) do with a message after the hooks have seen it. */
export interface SubmissionDecision {
  reject?: { code: number; enhanced: string; message: string };
  /** The message with the headers hooks added, when they added any. */
  raw?: Buffer;
  lane?: 'transactional' | 'bulk';
}

const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]{1,100}$/;
const HEADER_VALUE = /^[^\r\n\0]{0,998}$/;

function verdictProblem(v: unknown): string | null {
  if (!v || typeof v !== 'object') return 'answered neither accept nor reject';
  const o = v as Record<string, unknown>;
  if (o.action === 'reject') {
    if (typeof o.message !== 'string' || /[\r\n]/.test(o.message)) return 'a rejection needs a one-line message';
    if (o.code !== undefined && !(Number.isInteger(o.code) && Number(o.code) >= 400 && Number(o.code) <= 599)) return 'a rejection code is 4xx or 5xx';
    if (o.enhanced !== undefined && !/^[45]\.\d{1,3}\.\d{1,3}$/.test(String(o.enhanced))) return 'an enhanced status is like 5.7.1';
    return null;
  }
  if (o.action !== 'accept') return 'answered neither accept nor reject';
  if (o.lane !== undefined && o.lane !== 'transactional' && o.lane !== 'bulk') return 'lane is transactional or bulk';
  if (o.addHeaders !== undefined) {
    if (!Array.isArray(o.addHeaders)) return 'addHeaders is a list of [name, value]';
    for (const h of o.addHeaders as unknown[]) {
      if (!Array.isArray(h) || !HEADER_NAME.test(String(h[0])) || !HEADER_VALUE.test(String(h[1]))) return 'a header to add is [name, one-line value]';
    }
  }
  return null;
}

const TEMPFAIL = { code: 451, enhanced: '4.3.0', message: 'A content check is not available, try again later' };

/**
 * `submission.message`, run by every configured module in order before a message is queued:
 * the first rejection answers; headers added accumulate; the last lane set wins. A module that
 * throws, answers nonsense or is late gives the configured fallback.
 */
export function submissionInspector(host: HookHost): ((m: Omit<SubmissionMessage, 'raw'> & { raw: Buffer }) => Promise<SubmissionDecision>) | undefined {
  const modules = host.with('submission.message');
  if (!modules.length) return undefined;
  return async (m) => {
    const payload: SubmissionMessage = { ...m, raw: m.raw.toString('utf8') };
    const added: [string, string][] = [];
    let lane: SubmissionDecision['lane'];
    for (const mod of modules) {
      const r = await mod.call('submission.message', payload);
      const problem = r.ok ? verdictProblem(r.value) : r.error;
      if (problem) {
        if (r.ok) mod.stats.failures++;
        if (host.config.fallback === 'tempfail') return { reject: TEMPFAIL };
        continue;
      }
      const v = (r as { value: Record<string, unknown> }).value;
      if (v.action === 'reject') {
        const code = Number(v.code ?? 550);
        return { reject: { code, enhanced: String(v.enhanced ?? (code >= 500 ? '5.7.1' : '4.7.1')), message: String(v.message) } };
      }
      if (v.lane) lane = v.lane as SubmissionDecision['lane'];
      for (const h of (v.addHeaders as [string, string][] | undefined) ?? []) added.push([String(h[0]), String(h[1])]);
    }
    if (!added.length) return { lane };
    const head = Buffer.from(added.map(([n, v]) => `${n}: ${v}\r\n`).join(''), 'utf8');
    return { lane, raw: Buffer.concat([head, m.raw]) };
  };
}

export type RouteDecision = { nextHop?: string; sourceIp?: string; defer?: string } | null;

/** `delivery.route`: the first module that names a next hop or source IP decides; a failure defers (tempfail) or routes normally (continue). */
export function routeChooser(host: HookHost): ((r: RouteRequest) => Promise<RouteDecision>) | undefined {
  const modules = host.with('delivery.route');
  if (!modules.length) return undefined;
  return async (r) => {
    for (const mod of modules) {
      const out = await mod.call('delivery.route', r);
      const v = out.ok ? (out.value as Record<string, unknown> | null) : null;
      const bad = !out.ok || (v !== null && (typeof v !== 'object' || (v.nextHop !== undefined && typeof v.nextHop !== 'string') || (v.sourceIp !== undefined && typeof v.sourceIp !== 'string')));
      if (bad) {
        if (out.ok) mod.stats.failures++;
        if (host.config.fallback === 'tempfail') return { defer: `routing hook ${mod.file} failed: ${out.ok ? 'unreadable answer' : out.error}` };
        continue;
      }
      if (v && (v.nextHop || v.sourceIp)) return { nextHop: v.nextHop as string | undefined, sourceIp: v.sourceIp as string | undefined };
    }
    return null;
  };
}

/** `bounce.classify`: the first module that gives a reason overrides the built-in one; on failure the built-in one stands. */
export function classifyOverride(host: HookHost): ((c: ClassifyRequest) => Promise<string | null>) | undefined {
  const modules = host.with('bounce.classify');
  if (!modules.length) return undefined;
  return async (c) => {
    for (const mod of modules) {
      const out = await mod.call('bounce.classify', c);
      const v = out.ok ? (out.value as { reason?: unknown } | null) : null;
      if (v && typeof v.reason === 'string' && /^[a-z_]{1,40}$/.test(v.reason)) return v.reason;
    }
    return c.reason;
  };
}

export async function startHooks(config: Parameters<typeof HookHost.start>[0], log?: Logger): Promise<HookHost | null> {
  return HookHost.start(config, log);
}
