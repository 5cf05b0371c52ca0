import Fastify, { LogController } from 'fastify';
import type { SubmissionInspect } from '../core/submission-inspect.ts';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Logger } from 'pino';
import type { FanoutConfig } from '../config/schema.ts';
import { newId } from '../core/ids.ts';
import type { Store } from '../store/store.ts';
import { accessHook, checkRouteAccess } from './access.ts';
import { authenticationHook } from './auth.ts';
import type { Identify } from './auth.ts';
import { parseJsonBody } from './json-body.ts';
import { errorHandler, sendProblem, toProblem } from './problems.ts';
import { registerListExports } from './exports.ts';

export interface HttpDeps {
  store: Store;
  config: FanoutConfig;
  /** The application's logger; Fastify logs through it. Absent in tests that need no logs. */
  logger?: Logger;
  /** Extension hooks' look at each message before it is queued (`submission.message`), when hooks are configured. */
  inspect?: SubmissionInspect;
  /** Recognises API keys and sessions (the accounts and users capabilities, wired by the root). */
  identify: Identify;
  /** The page a recipient sees when a link in their mail is broken (the tracking capability's). */
  recipientErrorPage?: (lang: 'en' | 'zh-CN') => string;
}

/** A capability's routes: registered under /api/v1 with the shared dependencies. */
export type RouteModule = (app: FastifyInstance, deps: HttpDeps) => void | Promise<void>;

const MAX_PATH_PARAM = 4096;

/** Paths recipients reach from their mail: errors there are pages for people, not problem+json. */
const RECIPIENT_PATH = /^\/(?:u|t|s)\//;

/**
 * Errors the router raises before any route runs (a path parameter longer than MAX_PATH_PARAM,
 * a malformed percent-encoding). A recipient's link gets the recipient's error page; the API
 * answers problem+json as everywhere else. The offending path is not echoed back.
 */
const frameworkErrors = (recipientErrorPage: HttpDeps['recipientErrorPage']) => (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
  if (recipientErrorPage && RECIPIENT_PATH.test(req.url)) {
    const lang = /^\s*en/i.test(String(req.headers['accept-language'] ?? '')) ? 'en' : 'zh-CN';
    void reply.code(400).type('text/html; charset=utf-8').send(recipientErrorPage(lang));
    return;
  }
  const problem = toProblem(err, undefined);
  const detail = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `a path segment is longer than ${MAX_PATH_PARAM} characters` : err.code === 'FST_ERR_BAD_URL' ? 'the path is not a valid URL' : problem.detail;
  void sendProblem(reply, { ...problem, detail, requestId: req.id });
};

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
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    // No line per request: paths carry recipients' signed tokens. Failures are logged by the
    // error handler, with the request id their problem response carries.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newId('req'),
    bodyLimit: deps.config.http.bodyLimitBytes,
    trustProxy: deps.config.http.trustProxy,
    // Signed recipient tokens travel in the path.
    routerOptions: { maxParamLength: MAX_PATH_PARAM },
    frameworkErrors: frameworkErrors(deps.recipientErrorPage),
    ...options,
  }) as unknown as FastifyInstance;
  const bodyAjv = makeAjv({ coerceTypes: false });
  const paramAjv = makeAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema));
  app.setErrorHandler(errorHandler);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, { type: 'https://fanout.dev/problems/not-found', title: 'Not found', status: 404, detail: `no route for ${req.method} ${req.url.split('?')[0]}`, instance: req.url.split('?')[0], requestId: req.id }));

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
  app.addHook('onRequest', authenticationHook(deps.identify));
  registerListExports(app);

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.decorateRequest('access', null);
  await app.register(async (api) => {
    // Every API route declares who may call it (config.access); one hook enforces it.
    api.addHook('onRoute', checkRouteAccess);
    api.addHook('preValidation', accessHook);
    for (const mod of modules) await mod(api, deps);
  }, { prefix: '/api/v1' });
  // Recipient-facing pages and redirects (unsubscribe, tracking) live outside the API prefix.
  for (const mod of publicModules) await mod(app, deps);
  return app;
}
