import { Type } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;

/** Delivery engine settings; owned by the delivery capability. */
export const DeliveryConfigSchema = Type.Object({
  /** Static routes: destination domain or `*` → `host:port` (smarthost, tests, benchmark). */
  routes: Type.Record(Type.String(), Type.String(), { default: {} }),
  /** Name given in EHLO and the Received line. */
  heloName: Type.String({ default: 'fanout.local' }),
  retry: Type.Object({
    initialMinutes: Type.Number({ minimum: 0, default: 5 }),
    factor: Type.Number({ minimum: 1, default: 2 }),
    maxIntervalMinutes: Type.Number({ minimum: 0, default: 240 }),
    maxAgeHours: Type.Number({ minimum: 0, default: 120 }),
  }, { ...closed, default: {} }),
}, { ...closed, default: {} });
