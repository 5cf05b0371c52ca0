import { Writable } from 'node:stream';
import { createLogger } from '../app/logger.ts';
import { startServer } from '../app/server.ts';
import type { RunningServer } from '../app/server.ts';
import type { FanoutConfig } from '../config/schema.ts';
import { testConfig } from './http.ts';
import type { TestStore } from './stores.ts';

export interface TestServer {
  server: RunningServer;
  config: FanoutConfig;
  /** http://127.0.0.1:<port> of the listening HTTP API. */
  url: string;
  /** What the server announced on its console (the first administrator's password). */
  announced: string[];
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text, for "this never appears in the logs" checks. */
  logText(): string;
  fetch(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * A real Fanout (the composition root, `startServer`) over the test store's data folder or
 * database, listening on an ephemeral loopback port, logging into memory. Only the HTTP role
 * by default: the SMTP parts have their own tests.
 */
export async function startTestServer(t: TestStore, overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const config = testConfig(t.dataDir, {
    databaseUrl: t.databaseUrl, roles: ['http'], logLevel: 'info',
    ...overrides,
    http: { host: '127.0.0.1', port: 0, publicUrl: 'http://127.0.0.1:8080', trustProxy: false, bodyLimitBytes: 50 * 1024 * 1024, ...(overrides.http as object | undefined) },
  });
  const logs: Record<string, unknown>[] = [];
  let raw = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger(config, sink);
  const announced: string[] = [];
  const server = await startServer(config, logger, { announce: (text) => announced.push(text) });
  const port = (server.http!.server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    server, config, url, announced, logs,
    logText: () => raw,
    fetch(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${url}${path}`, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
    },
    stop: () => server.stop(),
  };
}
