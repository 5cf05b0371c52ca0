import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

/** Extension hooks (`hooks` in the config file; `FANOUT_HOOKS` lists the modules too). See docs/extending.md. */
export const HooksConfigSchema = Type.Object({
  /** Module files (JavaScript or TypeScript), run in this order. */
  modules: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** Longest a synchronous hook may take for one call, queueing included. */
  timeoutMs: Type.Integer({ minimum: 1, maximum: 60_000, default: 500 }),
  /**
   * What a hook that throws or times out answers: `tempfail` (the default: the submission gets
   * 451 4.3.0, the recipient is tried again later), or `continue` (as if the hook were absent).
   * A classification hook always falls back to the built-in classification.
   */
  fallback: Type.Union([Type.Literal('tempfail'), Type.Literal('continue')], { default: 'tempfail' }),
  /** Worker threads per module: a call that hangs holds one of them until its time limit. */
  workersPerModule: Type.Integer({ minimum: 1, maximum: 16, default: 2 }),
  /** Heap limit of each hook worker. */
  heapMb: Type.Integer({ minimum: 16, maximum: 4096, default: 128 }),
}, { additionalProperties: false, default: {} });

export type HooksConfig = Static<typeof HooksConfigSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    hooks: HooksConfig;
  }
}
