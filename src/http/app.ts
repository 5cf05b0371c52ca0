import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FanoutConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { authenticationHook } from './auth.ts';
import { errorHandler, sendProblem } from './problems.ts';

export interface HttpDeps {
  store: Store;
  config: FanoutConfig;
}

/** A capability's routes: registered under /api/v1 with the shared dependencies. */
export type RouteModule = (app: FastifyInstance, deps: HttpDeps) => void | Promise<void>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: AjvOptions): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

/**
 * Builds the HTTP application without listening, so tests inject requests in-process.
 * Bodies are validated strictly (no type coercion, unknown fields refused); query strings
 * and path parameters are coerced, since they arrive as text.
 */
export async function buildHttpApp(deps: HttpDeps, modules: RouteModule[], options: FastifyServerOptions = {}, publicModules: RouteModule[] = []): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.config.http.bodyLimitBytes,
    trustProxy: deps.config.http.trustProxy,
    // Signed recipient tokens travel in the path.
    routerOptions: { maxParamLength: 4096 },
    ...options,
  });
  const bodyAjv = makeAjv({ coerceTypes: false });
  const paramAjv = makeAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, { type: 'https://fanout.dev/problems/not-found', title: 'Not found', status: 404, detail: `no route for ${req.method} ${req.url.split('?')[0]}`, instance: req.url }));

  await app.register(cookie);
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Fanout API', version: '1', description: 'Bulk and transactional email platform. Errors are application/problem+json (RFC 9457).' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An account API key: fo_<prefix>_<secret>' },
          session: { type: 'apiKey', in: 'cookie', name: 'fanout_session' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
  });
  app.decorateRequest('principal', null);
  app.addHook('onRequest', authenticationHook(deps.store));

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  await app.register(async (api) => {
    for (const mod of modules) await mod(api, deps);
  }, { prefix: '/api/v1' });
  // Recipient-facing pages and redirects (unsubscribe, tracking) live outside the API prefix.
  for (const mod of publicModules) await mod(app, deps);
  return app;
}
