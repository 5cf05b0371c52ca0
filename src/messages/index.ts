/** The messages capability's surface: what the other capabilities may use. */
export { newMessageIdHeader, parseFrom } from './compose.ts';
export { sendMessages } from './service.ts';
