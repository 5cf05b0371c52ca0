import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

/** The archive's configuration section (`archive` in the config file). */
export const ArchiveConfigSchema = Type.Object({
  /** Keep every sent message in the archive. */
  enabled: Type.Boolean({ default: true }),
  /** Retention when a tenant has no policy of its own: seven years, the common term for bank statements. */
  defaultRetentionDays: Type.Integer({ minimum: 1, default: 2557 }),
  /** How often a node looks for signed messages to archive (once per cluster per period). */
  everySeconds: Type.Number({ minimum: 0.05, default: 5 }),
  /** Messages archived per transaction. */
  batchSize: Type.Integer({ minimum: 1, maximum: 5000, default: 200 }),
  /** Characters of a message's text kept for full-text search. */
  searchTextChars: Type.Integer({ minimum: 256, default: 65_536 }),
}, { additionalProperties: false, default: {} });

export type ArchiveConfig = Static<typeof ArchiveConfigSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    archive: ArchiveConfig;
  }
}
