import { spawn } from 'node:child_process';
import { FANOUT_BIN, ROOT } from './cli.ts';
import type { Actor } from '../audit/index.ts';
import { createAccount } from '../accounts/index.ts';
import { createDomain, dnsRecords } from '../domains/index.ts';
import type { SendingDomainView } from '../domains/index.ts';
import { recordOptionsFromConfig } from '../domains/index.ts';
import type { FanoutConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { createTenant } from '../tenants/index.ts';
import { createUser } from '../users/index.ts';
import type { TestDnsServer } from './dns-server.ts';

export const TEST_ACTOR: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'system' };

/** A tenant with sending domains and an account that may submit from loopback without AUTH. */
export async function tenantWithDomains(store: Store, names: string[], account = 'probe'): Promise<{ tenantId: string; domains: SendingDomainView[] }> {
  const tenant = await createTenant(store, TEST_ACTOR, { name: `Ops Bank ${names[0]}` });
  const domains: SendingDomainView[] = [];
  for (const d of names) domains.push(await createDomain(store, TEST_ACTOR, { tenantId: tenant.id, domain: d }));
  await createAccount(store, TEST_ACTOR, { tenantId: tenant.id, name: account, allowIps: ['127.0.0.1/32'] });
  return { tenantId: tenant.id, domains };
}

/** Publishes exactly the records Fanout asks for, or broken ones. */
export function publish(dns: TestDnsServer, config: FanoutConfig, domain: SendingDomainView, broken = false): void {
  for (const r of dnsRecords(domain, recordOptionsFromConfig(config))) {
    const zone = dns.records.get(r.name) ?? {};
    if (r.type === 'MX') zone.MX = [{ exchange: r.value, priority: r.priority ?? 10 }];
    else if (broken && r.purpose === 'dmarc') continue;
    else if (broken && r.purpose === 'return_path_spf') zone.TXT = [...(zone.TXT ?? []), 'v=spf1 ip4:203.0.113.9 -all'];
    else if (broken && r.purpose === 'dkim') zone.TXT = [...(zone.TXT ?? []), 'v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwrongkey'];
    else zone.TXT = [...(zone.TXT ?? []), r.value];
    dns.set(r.name, zone);
  }
}

export async function makeUser(store: Store, role: 'administrator' | 'operator' | 'auditor' | 'support', username: string, tenantId?: string): Promise<{ id: string; username: string; password: string }> {
  const password = 'test-password-1';
  const u = await createUser(store, TEST_ACTOR, { username, password, role, tenantId });
  return { id: u.id, username, password };
}

/** A console login against a listening server, over real HTTP. */
export class HttpSession {
  readonly base: string;
  cookie = '';
  csrf = '';

  constructor(base: string) {
    this.base = base;
  }

  async login(username: string, password: string): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    this.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    this.csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: () => unknown; text: string; bytes: Buffer; type: string }> {
    const res = await fetch(`${this.base}${path}`, {
      method, headers: { cookie: this.cookie, ...(method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString('utf8');
    return { status: res.status, json: () => JSON.parse(text), text, bytes, type: res.headers.get('content-type') ?? '' };
  }
}

/**
 * `fanout ARGS` in a child process without blocking this one: a Fanout started in the test's
 * own process must keep answering while the command talks to it.
 */
export function runCliAsync(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FANOUT_BIN, ...args], { env: { ...process.env, ...env, FANOUT_LOG_LEVEL: 'warn' }, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
