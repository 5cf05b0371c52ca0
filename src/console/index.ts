import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteModule } from '../http/app.ts';
import { CLIENT_ROUTE_PREFIXES, CLIENT_ROUTES } from './client-routes.ts';
import { COMMON_HEADERS, CONSOLE_CSP, PREVIEW_FRAME_CSP } from './headers.ts';

/** Where `npm install` (the `prepare` script) puts the built console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fanout console not built</title></head>
<body><h1>The Fanout console has not been built</h1>
<p>The HTTP API under <code>/api</code> works; the console's files are missing from <code>web/dist/</code>.</p>
<p>Build them with <code>npm run build:console</code> (<code>npm install</code> and <code>npm ci</code> do it on their own), then reload.</p></body></html>`;

let warned = false;

export interface ConsoleOptions {
  /** The built console; the default is web/dist beside the sources. */
  distDir?: string;
}

/**
 * The web console: the single-page application's files under `/`, beside the API under `/api`.
 * Hashed assets are cached for a year; index.html is revalidated on every load, so a new build
 * is picked up at once. Unknown paths outside the client routes stay 404 problems.
 */
export function createConsoleRoutes(options: ConsoleOptions = {}): RouteModule {
  const dist = options.distDir ?? CONSOLE_DIST;
  return async (app) => {
    const indexFile = path.join(dist, 'index.html');
    const built = fs.existsSync(indexFile);
    if (!built && !warned) {
      warned = true;
      process.stderr.write(`Fanout: the web console is not built (${indexFile} is missing); / answers 503 until "npm run build:console" has run. The API is unaffected.\n`);
    }
    const index = built ? fs.readFileSync(indexFile) : null;

    const sendIndex = async (_req: FastifyRequest, reply: FastifyReply) => {
      reply.headers({ ...COMMON_HEADERS, 'content-security-policy': CONSOLE_CSP, 'cache-control': 'no-cache' });
      if (!index) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
      return reply.type('text/html; charset=utf-8').send(index);
    };
    for (const route of CLIENT_ROUTES) app.get(route, { schema: { hide: true } }, sendIndex);
    for (const prefix of CLIENT_ROUTE_PREFIXES) app.get(`${prefix}/*`, { schema: { hide: true } }, sendIndex);
    if (!built) return;

    // Content-hashed bundles: cached for a year, served pre-compressed (.br/.gz made at build time).
    await app.register(fastifyStatic, {
      root: path.join(dist, 'assets'), prefix: '/assets/', preCompressed: true, maxAge: '365d', immutable: true, index: false,
      setHeaders: (reply) => { reply.headers(COMMON_HEADERS); },
    });
    // The template preview frame and the icon: fixed names, so revalidated.
    await app.register(fastifyStatic, {
      root: path.join(dist, 'static'), prefix: '/static/', decorateReply: false, maxAge: 0, index: false,
      setHeaders: (reply, file) => {
        reply.headers({ ...COMMON_HEADERS, 'cache-control': 'no-cache' });
        if (file.endsWith('.html')) reply.header('content-security-policy', PREVIEW_FRAME_CSP);
      },
    });
  };
}

export const consoleRoutes: RouteModule = createConsoleRoutes();
