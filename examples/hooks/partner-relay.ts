/**
 * Routes one recipient domain through a partner's relay instead of its MX: mail to
 * PARTNER_DOMAIN (e.g. a subsidiary's mail system) goes to PARTNER_RELAY (host:port).
 *
 * Enable: FANOUT_HOOKS=examples/hooks/partner-relay.ts PARTNER_DOMAIN=partner.example PARTNER_RELAY=relay.partner.example:25
 */
import type { RouteChoice, RouteRequest } from '../../src/hooks/types.ts';

const domain = (process.env.PARTNER_DOMAIN ?? 'partner.example').toLowerCase();
const relay = process.env.PARTNER_RELAY ?? 'relay.partner.example:25';

export default {
  'delivery.route'(r: RouteRequest): RouteChoice {
    return r.domain === domain || r.domain.endsWith(`.${domain}`) ? { nextHop: relay } : null;
  },
};
