import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;

/** The bounce listener (`bounce` in the config file), owned by the bounces capability. */
export const BounceListenerConfigSchema = Type.Object({
  host: Type.String({ default: '0.0.0.0' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 2526 }),
  maxMessageBytes: Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024 }),
  /** Soft bounces within the window that suppress an address. */
  softBounceThreshold: Type.Integer({ minimum: 1, default: 3 }),
  softBounceWindowDays: Type.Integer({ minimum: 1, default: 7 }),
  /** Early-talker check on this internet-facing port: a client talking before the greeting is refused. */
  greetingDelayMs: Type.Integer({ minimum: 0, default: 100 }),
}, { ...closed, default: {} });

export type BounceListenerConfig = Static<typeof BounceListenerConfigSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    bounce: BounceListenerConfig;
  }
}
