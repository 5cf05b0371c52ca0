import { defineCapability } from '../platform/capability.ts';
import { HooksConfigSchema } from './config.ts';

/** Extension hooks: the modules the administrator configures (docs/extending.md). */
export const hooks = defineCapability({
  name: 'hooks',
  config: { hooks: HooksConfigSchema },
});
