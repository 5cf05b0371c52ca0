import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { NetworkPolicy } from './network.ts';

// Connections are kept open between deliveries (the address was checked when each was made).
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };

export interface PostResult {
  statusCode: number | null;
  /** From a Retry-After header (seconds or an HTTP date), in milliseconds. */
  retryAfterMs: number | null;
  error: string | null;
  durationMs: number;
}

export function retryAfterMs(header: string | undefined, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * One delivery attempt: a POST of the body, its answer's status. Redirects are not followed
 * (a 3xx is a failed attempt), addresses are checked when the connection is made, and the
 * response body is read and discarded up to a small limit.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: { timeoutMs: number; policy: NetworkPolicy }): Promise<PostResult> {
  const started = Date.now();
  const done = (r: Omit<PostResult, 'durationMs'>): PostResult => ({ ...r, durationMs: Date.now() - started });
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve(done({ statusCode: null, retryAfterMs: null, error: 'malformed URL' }));
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // An address in the URL is never looked up: check it here.
    if (net.isIP(host)) {
      const why = options.policy.refusal(host);
      if (why) return resolve(done({ statusCode: null, retryAfterMs: null, error: `refused: ${why}` }));
    }
    const secure = target.protocol === 'https:';
    const client = secure ? https : http;
    const req = client.request(target, {
      method: 'POST', lookup: options.policy.lookup(), timeout: options.timeoutMs, agent: secure ? agents.https : agents.http,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Fanout-Webhooks/1' },
    }, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > 64 * 1024) res.destroy();
      });
      const finish = () => resolve(done({ statusCode: res.statusCode ?? null, retryAfterMs: retryAfterMs(res.headers['retry-after'] as string | undefined), error: null }));
      res.once('end', finish);
      res.once('close', finish);
      res.once('error', finish);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.once('close', () => clearTimeout(timer));
    req.once('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.once('error', (err) => resolve(done({ statusCode: null, retryAfterMs: null, error: err.message.slice(0, 300) })));
    req.end(body);
  });
}
