/** The subscribers capability's surface: what the other capabilities may use. */
export { checkEmail } from '../core/email.ts';
export { memberPage, unsubscribe } from './subscribers.ts';
