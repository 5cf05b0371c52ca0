import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import type { InboundMailbox } from '../../bounces/index.ts';
import type { OpsDeps } from '../context.ts';
import { opsResolver } from '../inspections/resolver.ts';

/** Local part of probe addresses: `fanout-probe-<token>`. */
export const PROBE_PREFIX = 'fanout-probe-';
const TOKEN = /^fanout-probe-([0-9a-z]{16,40})$/;

export function probeToken(localPart: string): string | null {
  return TOKEN.exec(localPart.toLowerCase())?.[1] ?? null;
}

/**
 * The probe's way back in: the bounce listener hands it every message for a probe address.
 * The arrival is written to the store (the node that sent the probe may be another one), with
 * the DKIM verdict checked against DNS through the configured resolver.
 */
export function probeMailbox(deps: OpsDeps): InboundMailbox {
  return {
    name: 'operations send/receive probe',
    accepts: (local) => probeToken(local) !== null,
    async deliver(mail) {
      const token = probeToken(mail.rcptTo.slice(0, mail.rcptTo.lastIndexOf('@')));
      if (!token) return;
      const receivedAt = deps.now();
      const resolver = opsResolver(deps.config.operations.dns.servers, deps.config.operations.dns.timeoutMs);
      let dkim = 'none';
      let detail = '';
      try {
        const res = await dkimVerify(mail.raw, { resolver: (name: string, type: string) => (type === 'TXT' ? resolver.resolveTxt(name) : Promise.reject(Object.assign(new Error('not asked'), { code: 'ENOTFOUND' }))) } as never);
        const first = res.results?.[0];
        if (first) {
          dkim = first.status.result;
          detail = `${first.signingDomain ?? ''} ${first.status.comment ?? ''}`.trim();
        }
      } catch (err) {
        dkim = 'temperror';
        detail = (err as Error).message;
      }
      await deps.store.db.updateTable('ops_probes').set({ received_at: receivedAt, dkim, detail: detail.slice(0, 500) }).where('token', '=', token).where('received_at', 'is', null).execute();
    },
  };
}
