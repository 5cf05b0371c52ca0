import type { Role } from '../api/types';

/**
 * What each role may do, as the API decides it (the requireRole lists of src/…/routes.ts).
 * The console hides what a role cannot do; the API refuses it regardless.
 */
const R = {
  readAll: ['administrator', 'operator', 'auditor', 'support'],
  admin: ['administrator'],
  writers: ['administrator', 'operator'],
  approvers: ['administrator', 'auditor'],
  verifyDomain: ['administrator', 'operator', 'support'],
  users: ['administrator', 'auditor', 'operator'],
  queue: ['administrator', 'auditor', 'support'],
  chain: ['administrator', 'auditor'],
  opsRead: ['administrator', 'support', 'auditor'],
  opsWork: ['administrator', 'support'],
  ticketsRead: ['administrator', 'support', 'auditor', 'operator'],
  ticketsOpen: ['administrator', 'support', 'operator'],
} as const satisfies Record<string, readonly Role[]>;

export type Capability =
  | 'tenants.read' | 'tenants.write'
  | 'accounts.write' | 'accounts.password' | 'apikeys.write'
  | 'domains.write' | 'domains.verify'
  | 'oplog.read' | 'oplog.verify'
  | 'delivery.read' | 'queue.read' | 'queue.control'
  | 'stats.read'
  | 'templates.write' | 'campaigns.write' | 'campaigns.approve'
  | 'lists.write' | 'suppressions.write'
  | 'users.read' | 'users.write'
  | 'inspections.read' | 'inspections.run'
  | 'tickets.read' | 'tickets.open' | 'tickets.comment' | 'tickets.work';

const MATRIX: Record<Capability, readonly Role[]> = {
  'tenants.read': R.readAll,
  'tenants.write': R.admin,
  'accounts.write': R.admin,
  'accounts.password': R.writers,
  'apikeys.write': R.writers,
  'domains.write': R.admin,
  'domains.verify': R.verifyDomain,
  'oplog.read': R.readAll,
  'oplog.verify': R.chain,
  'delivery.read': R.readAll,
  'queue.read': R.queue,
  'queue.control': R.writers,
  'stats.read': R.readAll,
  'templates.write': R.writers,
  'campaigns.write': R.writers,
  'campaigns.approve': R.approvers,
  'lists.write': R.writers,
  'suppressions.write': R.writers,
  'users.read': R.users,
  'users.write': R.admin,
  'inspections.read': R.opsRead,
  'inspections.run': R.opsWork,
  'tickets.read': R.ticketsRead,
  'tickets.open': R.ticketsOpen,
  'tickets.comment': R.ticketsOpen,
  // Status changes, assignment, the fault report and phone surveys.
  'tickets.work': R.opsWork,
};

export const can = (role: Role | undefined, capability: Capability): boolean => !!role && MATRIX[capability].includes(role);
