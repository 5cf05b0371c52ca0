/** The tracking capability's surface: what the other capabilities may use. */
export { unsubscribeHeaders } from './headers.ts';
export { addTracking, unsubscribeTargets } from './links-signed.ts';
export type { RecipientRef } from './links-signed.ts';
export { linkErrorPage } from './pages.ts';
export { signToken, verifyToken } from '../core/signed-tokens.ts';
export { applyUnsubscribe } from './unsubscribe.ts';
