import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { printTable } from '../cli/context.ts';
import type { ContextOpener, GlobalOptions } from '../cli/context.ts';
import { resolveTenant } from '../tenants/service.ts';
import { recordOptionsFromConfig } from './config.ts';
import {
  activateDkimKey, createDomain, deleteDomain, dnsRecords, listDomains, resolveDomain, rotateDkimKey, setRequireVerification, verifyDomain, zoneFileLine,
} from './service.ts';
import type { DnsRecord, DnsResolver, SendingDomainView, VerificationReport } from './service.ts';

export interface DomainCommandOptions {
  /** DNS for `domains verify`; tests inject a fake. */
  resolver?: DnsResolver;
  /** Opens the store and configuration for one command; tests pass their own. */
  context: ContextOpener;
  /** Where lines go (console.log by default). */
  print?: (line: string) => void;
}

/**
 * The records as a zone-file fragment a DNS administrator can paste: comments start with ';',
 * one record per line, each followed by what it is for.
 */
export function zoneFileText(d: SendingDomainView, records: DnsRecord[], tenantName?: string): string[] {
  return [
    `; sending domain ${d.domain}${d.domainUnicode !== d.domain ? ` (${d.domainUnicode})` : ''}, id ${d.id}${tenantName ? `, tenant ${tenantName}` : ''}`,
    `; DKIM selector ${d.dkimSelector}, return path ${d.returnPathDomain}`,
    ...records.map((r) => `${zoneFileLine(r)}\t; ${r.purpose}${r.required ? '' : ' (recommended)'}: ${r.note}`),
  ];
}

function reportLines(r: VerificationReport): string[] {
  const lines = r.checks.map((c) => `${c.status.padEnd(13)} ${c.purpose.padEnd(15)} ${c.type.padEnd(4)} ${c.name}${c.required ? '' : ' (recommended)'}${c.status === 'ok' ? '' : `\n${' '.repeat(14)}${c.message}`}`);
  const verdict = r.status === 'verified' ? 'verified: every required record is published'
    : r.status === 'failed' ? `NOT verified: ${r.checks.filter((c) => c.required && (c.status === 'missing' || c.status === 'mismatch')).length} required record(s) missing or wrong`
      : 'unknown: DNS could not be asked (no network or no resolver); nothing was concluded';
  return [...lines, `${r.domain}: ${verdict}`];
}

function onOff(value: string): boolean {
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new InvalidArgumentError('expected on or off');
}

export function registerDomainCommands(program: Command, options: DomainCommandOptions): void {
  const globals = () => program.opts<GlobalOptions>();
  const run = options.context;
  const print = options.print ?? ((line: string) => console.log(line));

  const domains = program.command('domains').description('sending domains, DKIM keys and the DNS records to publish');
  domains.command('create').description('add a sending domain: makes its DKIM key and prints the DNS records to publish')
    .requiredOption('--tenant <tenant>', 'tenant name or id').requiredOption('--domain <domain>', 'the domain in From addresses (Unicode allowed)')
    .option('--selector <selector>', 'DKIM selector (default fo<yyyymm>)').option('--return-path <domain>', 'bounce domain (default bounces.<domain>)')
    .action((o: { tenant: string; domain: string; selector?: string; returnPath?: string }) => run(globals(), async ({ store, actor, config }) => {
      const tenant = await resolveTenant(store.db, o.tenant);
      const d = await createDomain(store, actor, { tenantId: tenant.id, domain: o.domain, selector: o.selector, returnPathDomain: o.returnPath });
      zoneFileText(d, dnsRecords(d, recordOptionsFromConfig(config)), tenant.name).forEach((l) => print(l));
    }));
  domains.command('list').description('list sending domains').option('--tenant <tenant>', 'tenant name or id').option('--json', 'one JSON object per line')
    .action((o: { tenant?: string; json?: boolean }) => run(globals(), async ({ store }) => {
      const tenantId = o.tenant ? (await resolveTenant(store.db, o.tenant)).id : null;
      const items = await listDomains(store.db, { tenantId });
      if (o.json) {
        items.forEach((d) => print(JSON.stringify(d)));
        return;
      }
      printTable(items.map((d) => ({ ...d, lastCheck: d.lastCheck?.status ?? 'never' })) as unknown as Record<string, unknown>[],
        ['id', 'domain', 'tenantId', 'dkimSelector', 'returnPathDomain', 'verified', 'requireVerification', 'canSend', 'lastCheck']);
    }));
  domains.command('records').description('print the DNS records to publish, zone-file style').argument('<domain>', 'domain name or id')
    .action((ref: string) => run(globals(), async ({ store, config }) => {
      const d = await resolveDomain(store.db, ref);
      zoneFileText(d, dnsRecords(d, recordOptionsFromConfig(config))).forEach((l) => print(l));
    }));
  domains.command('verify').description('look the DNS records up and say what is missing').argument('<domain>', 'domain name or id').option('--json', 'the report as JSON')
    .action((ref: string, o: { json?: boolean }) => run(globals(), async ({ store, actor, config }) => {
      const d = await resolveDomain(store.db, ref);
      const report = await verifyDomain(store, actor, d.id, options.resolver, recordOptionsFromConfig(config));
      if (o.json) print(JSON.stringify(report));
      else reportLines(report).forEach((l) => print(l));
    }));
  domains.command('rotate-dkim').description('make a new DKIM key under a new selector; the old key is retired but kept for mail in flight')
    .argument('<domain>', 'domain name or id').option('--selector <selector>', 'the new selector (default fo<yyyymm>, made unique)')
    .option('--prepare', 'only prepare the key: publish its record and verify, then run activate-dkim; the old key signs until then')
    .action((ref: string, o: { selector?: string; prepare?: boolean }) => run(globals(), async ({ store, actor }) => {
      const d = await resolveDomain(store.db, ref);
      const r = await rotateDkimKey(store, actor, d.id, o.selector, { activate: !o.prepare });
      const next = r.record.name.split('._domainkey.')[0];
      print(r.activated
        ? `; ${r.domain.domain}: selector ${next} signs from now on; keep the record of ${r.previousSelector} published for a week so mail in flight still verifies`
        : `; ${r.domain.domain}: selector ${next} prepared; publish this record, run "domains verify ${r.domain.domain}", then "domains activate-dkim ${r.domain.domain}"; ${r.previousSelector} signs until then`);
      print(zoneFileLine(r.record));
    }));
  domains.command('activate-dkim').description('make the prepared DKIM key sign; the previous key is retired but kept').argument('<domain>', 'domain name or id')
    .action((ref: string) => run(globals(), async ({ store, actor }) => {
      const d = await activateDkimKey(store, actor, (await resolveDomain(store.db, ref)).id);
      print(`${d.domain}: selector ${d.dkimSelector} signs from now on; ${d.verified ? 'still verified' : 'verify again once its record is published'}`);
    }));
  domains.command('require-verification').description('hold mail from the domain until DNS verification passes (on) or send regardless (off)')
    .argument('<domain>', 'domain name or id').argument('<on|off>', 'on or off', onOff)
    .action((ref: string, on: boolean) => run(globals(), async ({ store, actor }) => {
      const d = await setRequireVerification(store, actor, (await resolveDomain(store.db, ref)).id, on);
      print(`${d.domain}: verification ${d.requireVerification ? 'required' : 'not required'}; ${d.canSend ? 'may send' : 'mail is held until verification passes'}`);
    }));
  domains.command('delete').description('delete a sending domain and its DKIM keys').argument('<domain>', 'domain name or id')
    .action((ref: string) => run(globals(), async ({ store, actor }) => {
      const d = await resolveDomain(store.db, ref);
      await deleteDomain(store, actor, d.id);
      print(`${d.domain} deleted`);
    }));
}
