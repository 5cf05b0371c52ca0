/** The domains capability's surface: what the other capabilities may use. */
export { recordOptionsFromConfig } from './config.ts';
export { findSendingDomain } from './sending.ts';
export { activeDkimKey, canSendFrom, checkDomainDns, createDomain, dnsRecords, listDomains, registerDomainUsageCheck } from './service.ts';
export type { RecordCheck, SendingDomainInfo, SendingDomainView } from './service.ts';
