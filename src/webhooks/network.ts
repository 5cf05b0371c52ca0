import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses a webhook may connect to. Public unicast addresses always; loopback, private,
 * link-local (cloud metadata at 169.254.169.254 among them), unique-local, carrier NAT and
 * other special ranges only inside a network an administrator allowed
 * (`webhooks.allowedNetworks`, FANOUT_WEBHOOK_ALLOWED_NETWORKS).
 */
export class NetworkPolicy {
  readonly #allowed: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(allowedNetworks: string[]) {
    this.#allowed = allowedNetworks.map((cidr) => {
      try {
        return ipaddr.parseCIDR(cidr.includes('/') ? cidr : `${cidr}/${net.isIPv6(cidr) ? 128 : 32}`);
      } catch {
        throw new Error(`webhooks.allowedNetworks: "${cidr}" is not a CIDR network`);
      }
    });
  }

  /** Null when the address may be used, otherwise why not. */
  refusal(address: string): string | null {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.process(address);
    } catch {
      return `${address} is not an IP address`;
    }
    const range = ip.range();
    if (range === 'unicast') return null;
    for (const [networkAddress, bits] of this.#allowed) {
      if (networkAddress.kind() === ip.kind() && ip.match(networkAddress, bits)) return null;
    }
    return `${address} is a ${range} address; allow its network in webhooks.allowedNetworks (FANOUT_WEBHOOK_ALLOWED_NETWORKS) to deliver there`;
  }

  /**
   * A `lookup` for http.request: resolves the host and refuses the connection when any address
   * it resolves to is not allowed, so the check holds at connect time (no DNS rebinding between
   * a check and the connection).
   */
  lookup(): net.LookupFunction {
    return ((hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '', 0);
        const list = addresses as dns.LookupAddress[];
        for (const a of list) {
          const why = this.refusal(a.address);
          if (why) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${why}`), { code: 'EWEBHOOKREFUSED' }), '', 0);
        }
        if (options.all) return callback(null, list);
        return callback(null, list[0]!.address, list[0]!.family);
      });
    }) as net.LookupFunction;
  }
}
