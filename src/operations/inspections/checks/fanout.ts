import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { queryDeliveryEvents } from '../../../delivery/index.ts';
import { searchArchive } from '../../../archive/index.ts';
import { fanoutVersion } from '../../nodes.ts';
import type { CheckDefinition } from '../types.ts';
import { result } from '../types.ts';

/** a < b for dotted numeric versions (pre-release tags ignored). */
export function olderThan(a: string, b: string): boolean {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  }
  return false;
}

async function readFeed(feed: string): Promise<{ version: string; url?: string; notes?: string }> {
  const text = /^https?:\/\//.test(feed)
    ? await fetch(feed, { signal: AbortSignal.timeout(10_000) }).then(async (r) => {
      if (!r.ok) throw new Error(`the feed answered ${r.status}`);
      return r.text();
    })
    : fs.readFileSync(feed, 'utf8');
  const body = JSON.parse(text) as { version?: unknown; latest?: unknown; url?: unknown; notes?: unknown };
  const version = typeof body.version === 'string' ? body.version : typeof body.latest === 'string' ? body.latest : null;
  if (!version) throw new Error('the feed has no "version"');
  return { version, ...(typeof body.url === 'string' ? { url: body.url } : {}), ...(typeof body.notes === 'string' ? { notes: body.notes } : {}) };
}

/** The running version, and a newer release only from the configured feed: no feed, no network call. */
const version: CheckDefinition = {
  key: 'version', light: false,
  async run({ deps }) {
    const running = fanoutVersion();
    const feed = deps.config.operations.releaseFeed;
    if (!feed) return result('version', 'fanout', 'ok', `Fanout ${running}; no release feed configured (operations.releaseFeed), so newer releases are not looked for`, { running, latest: null, upgradeAvailable: null });
    try {
      const latest = await readFeed(feed);
      const upgrade = olderThan(running, latest.version);
      return result('version', 'fanout', upgrade ? 'warning' : 'ok', upgrade ? `Fanout ${running}; release ${latest.version} is available${latest.url ? ` (${latest.url})` : ''}` : `Fanout ${running} is the latest release`,
        { running, latest: latest.version, upgradeAvailable: upgrade, ...(latest.url ? { url: latest.url } : {}), ...(latest.notes ? { notes: latest.notes } : {}) });
    } catch (err) {
      return result('version', 'fanout', 'unavailable', `Fanout ${running}; the release feed could not be read: ${(err as Error).message}`, { running, latest: null, upgradeAvailable: null });
    }
  },
};

/** Days until the SMTP certificate (submission and bounce listener STARTTLS) expires. */
const tlsCertificate: CheckDefinition = {
  key: 'tls_certificate', light: false,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    const file = deps.config.smtp.tlsCertFile ?? path.join(deps.config.dataDir, 'tls', 'submission-cert.pem');
    const threshold = { warnDays: t.certificateWarnDays, errorDays: t.certificateErrorDays };
    if (!fs.existsSync(file)) return result('tls_certificate', 'security', 'unavailable', `no certificate at ${file} (made on the first start of SMTP or the bounce listener)`, null, threshold);
    const cert = new X509Certificate(fs.readFileSync(file));
    const days = Math.floor((Date.parse(cert.validTo) - deps.now()) / 86_400_000);
    const selfSigned = cert.checkIssued(cert);
    const status = days < t.certificateErrorDays ? 'error' : days < t.certificateWarnDays ? 'warning' : 'ok';
    return result('tls_certificate', 'security', status, `${days < 0 ? 'expired' : `expires in ${days} day(s)`} (${cert.validTo})${selfSigned ? '; self-signed' : ''}`,
      days, threshold, { value: { daysLeft: days, validTo: new Date(cert.validTo).toISOString(), subject: cert.subject, issuer: cert.issuer, selfSigned, file }, numeric: days });
  },
};

/**
 * The seed's advanced functions (归档、审核、查询): approval of bulk sends (campaign four-eyes),
 * search (the delivery log answers a query) and the archive (switched on, and its search answers).
 */
const features: CheckDefinition = {
  key: 'features', light: false,
  async run({ deps }) {
    let started = performance.now();
    await queryDeliveryEvents(deps.store.db, { limit: 1 });
    const searchMs = Math.round(performance.now() - started);
    if (!deps.config.archive.enabled) {
      const value = { approval: 'ok', search: 'ok', archive: 'off', searchLatencyMs: searchMs };
      return result('features', 'fanout', 'warning', `approval (four-eyes) on; delivery log search answers in ${searchMs} ms; the archive is switched off (archive.enabled)`, value);
    }
    started = performance.now();
    const newest = await searchArchive(deps.store.db, deps.store.engine, {}, { limit: 1 });
    const archiveMs = Math.round(performance.now() - started);
    const lastArchivedAt = newest.items[0]?.sentAt ?? null;
    const value = { approval: 'ok', search: 'ok', archive: 'ok', searchLatencyMs: searchMs, archiveSearchLatencyMs: archiveMs, lastArchivedAt };
    return result('features', 'fanout', 'ok', `approval (four-eyes) on; delivery log search answers in ${searchMs} ms; archive on, its search answers in ${archiveMs} ms`, value);
  },
};

export const fanoutChecks: CheckDefinition[] = [version, tlsCertificate, features];
