import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { RouteModule } from '../http/app.ts';
import { assertInScope, scopeOf } from '../http/access.ts';
import { actorOf } from '../http/auth.ts';
import { closed, IdParams } from '../http/schemas.ts';
import { recordOptionsFromConfig } from './config.ts';
import {
  activateDkimKey, createDomain, deleteDomain, dnsRecords, getDomain, listDomains, rotateDkimKey, setRequireVerification, verifyDomain, zoneFileLine,
} from './service.ts';
import type { DnsResolver, SendingDomainView } from './service.ts';

const DomainName = Type.String({ minLength: 1, maxLength: 253 });
const Selector = Type.String({ minLength: 1, maxLength: 63 });
const CreateBody = Type.Object({ domain: DomainName, selector: Type.Optional(Selector), returnPathDomain: Type.Optional(DomainName) }, closed);
const RotateBody = Type.Object({
  selector: Type.Optional(Selector),
  /** false prepares the key (publish its record first) instead of signing with it at once. */
  activate: Type.Optional(Type.Boolean()),
}, closed);
const RequireBody = Type.Object({ requireVerification: Type.Boolean() }, closed);
const TenantParams = Type.Object({ tenantId: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
const ListQuery = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, closed);

const READERS = ['administrator', 'auditor', 'support', 'operator', 'account'] as const;
// Verification only reads DNS and records the verdict: tenant operators and support engineers
// (health inspections) may run it; changing keys or policy is the administrator's.
const VERIFIERS = ['administrator', 'operator', 'support'] as const;

export interface DomainRouteOptions {
  /** DNS for verification; tests inject a fake, production uses node's resolver. */
  resolver?: DnsResolver;
}

export function createDomainRoutes(options: DomainRouteOptions = {}): RouteModule {
  return (app, { store, config }) => {
    const recordOptions = recordOptionsFromConfig(config);
    const withRecords = (d: SendingDomainView) => {
      const records = dnsRecords(d, recordOptions);
      return { ...d, records, zoneFile: records.map((r) => zoneFileLine(r)).join('\n') };
    };
    /** A domain the caller may see; another tenant's answers 404 like a missing one. */
    const visible = async (req: FastifyRequest, id: string) => {
      const d = await getDomain(store.db, id);
      assertInScope(req, d.tenantId, 'sending domain');
      return d;
    };

    app.get<{ Querystring: Static<typeof ListQuery> }>('/domains', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['domains'], summary: 'List sending domains', querystring: ListQuery } }, async (req) => {
      const scope = scopeOf(req);
      if (scope && req.query.tenantId && req.query.tenantId !== scope) return { items: [] };
      return { items: await listDomains(store.db, { tenantId: scope ?? req.query.tenantId ?? null }) };
    });
    app.post<{ Params: Static<typeof TenantParams>; Body: Static<typeof CreateBody> }>('/tenants/:tenantId/domains', { config: { access: { roles: ['administrator'] } },
      schema: { tags: ['domains'], summary: 'Add a sending domain: makes its DKIM key and returns the DNS records to publish', params: TenantParams, body: CreateBody },
    }, async (req, reply) => {
      const created = await createDomain(store, actorOf(req), { ...req.body, tenantId: req.params.tenantId });
      return reply.code(201).send(withRecords(created));
    });
    app.get<{ Params: Static<typeof IdParams> }>('/domains/:id', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['domains'], summary: 'A sending domain with its DNS records', params: IdParams } },
      async (req) => withRecords(await visible(req, req.params.id)));
    app.get<{ Params: Static<typeof IdParams> }>('/domains/:id/records', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['domains'], summary: 'The DNS records to publish, as objects and as zone-file lines', params: IdParams } }, async (req) => {
      const { records, zoneFile } = withRecords(await visible(req, req.params.id));
      return { items: records, zoneFile };
    });
    app.post<{ Params: Static<typeof IdParams> }>('/domains/:id/verify', { config: { access: { roles: VERIFIERS, tenant: 'caller' } }, schema: { tags: ['domains'], summary: 'Look the DNS records up and report what is missing', params: IdParams } }, async (req) => {
      const d = await visible(req, req.params.id);
      return verifyDomain(store, actorOf(req), d.id, options.resolver, recordOptions);
    });
    app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RotateBody> }>('/domains/:id/rotate-dkim', { config: { access: { roles: ['administrator'] } },
      schema: { tags: ['domains'], summary: 'Make a new DKIM key under a new selector: it signs at once (the old one is retired but kept) or, with activate: false, waits for activate-dkim', params: IdParams, body: RotateBody },
    }, async (req) => {
      const r = await rotateDkimKey(store, actorOf(req), req.params.id, req.body.selector, { activate: req.body.activate ?? true });
      return { ...r, zoneLine: zoneFileLine(r.record) };
    });
    app.post<{ Params: Static<typeof IdParams> }>('/domains/:id/activate-dkim', { config: { access: { roles: ['administrator'] } },
      schema: { tags: ['domains'], summary: 'Make the prepared DKIM key sign; the previous key is retired but kept', params: IdParams },
    }, async (req) => {
      return activateDkimKey(store, actorOf(req), req.params.id);
    });
    app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof RequireBody> }>('/domains/:id/require-verification', { config: { access: { roles: ['administrator'] } },
      schema: { tags: ['domains'], summary: 'Hold mail from the domain until DNS verification passes (or stop holding it)', params: IdParams, body: RequireBody },
    }, async (req) => {
      return setRequireVerification(store, actorOf(req), req.params.id, req.body.requireVerification);
    });
    app.delete<{ Params: Static<typeof IdParams> }>('/domains/:id', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['domains'], summary: 'Delete a sending domain and its keys', params: IdParams } }, async (req, reply) => {
      await deleteDomain(store, actorOf(req), req.params.id);
      return reply.code(204).send();
    });
  };
}

export const domainRoutes: RouteModule = createDomainRoutes();
