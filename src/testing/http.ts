import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { FanoutConfig } from '../config/schema.ts';
import { buildHttpApp } from '../http/app.ts';
import { apiRoutes, loadAppConfig, publicRoutes } from '../app/capabilities.ts';
import type { Store } from '../store/store.ts';
import { createUser } from '../users/service.ts';

export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): FanoutConfig {
  return loadAppConfig({ env: {}, file: null, overrides: { dataDir, ...overrides } });
}

export async function testApp(store: Store, dataDir: string, overrides: Record<string, unknown> = {}): Promise<FastifyInstance> {
  return buildHttpApp({ store, config: testConfig(dataDir, overrides) }, apiRoutes, {}, publicRoutes);
}

/** A logged-in console user driving the API in-process, with the cookie and CSRF token. */
export class Session {
  readonly app: FastifyInstance;
  cookie = '';
  csrf = '';

  constructor(app: FastifyInstance) {
    this.app = app;
  }

  async login(username: string, password: string): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
    const setCookie = res.headers['set-cookie'];
    const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
    if (first) this.cookie = first.split(';')[0]!;
    if (res.statusCode === 200) this.csrf = res.json().csrfToken;
    return res;
  }

  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { cookie: this.cookie };
    if (method !== 'GET') headers['x-csrf-token'] = this.csrf;
    return this.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  }
}

let counter = 0;
/** Creates a user directly in the store and returns a logged-in session for it. */
export async function sessionFor(app: FastifyInstance, store: Store, role: 'administrator' | 'operator' | 'auditor' | 'support', tenantId?: string): Promise<Session> {
  const username = `${role}${++counter}${Date.now() % 100000}`;
  const password = 'test-password-1';
  await createUser(store, { operator: 'test', clientIp: '127.0.0.1', role: 'system' }, { username, password, role, tenantId });
  const s = new Session(app);
  const res = await s.login(username, password);
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`);
  return s;
}
