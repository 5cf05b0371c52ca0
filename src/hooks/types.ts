/**
 * The named hooks and what they receive and answer. These types are the extension API:
 * module authors import them (`import type { ... } from 'fanout/src/hooks/types.ts'`) and
 * they change only compatibly. See docs/extending.md.
 */

export interface SubmissionMessage {
  tenantId: string;
  accountId: string;
  /** transactional | bulk: the stream (lane) the message is queued on. */
  lane: string;
  mailFrom: string;
  recipients: string[];
  source: 'smtp' | 'api';
  /** The whole message as it will be queued (RFC 5322, headers included), as UTF-8 text. */
  raw: string;
}

export type SubmissionVerdict =
  | { action: 'accept'; addHeaders?: [string, string][]; lane?: 'transactional' | 'bulk' }
  | { action: 'reject'; code?: number; enhanced?: string; message: string };

export interface RouteRequest {
  tenantId: string;
  accountId: string;
  messageId: string;
  recipient: string;
  /** The recipient's domain, lower-cased. */
  domain: string;
  lane: string;
}

/** `nextHop` is `host:port` (or `host`, port 25); `sourceIp` one of the node's addresses. Null or {}: the normal route. */
export type RouteChoice = { nextHop?: string; sourceIp?: string } | null;

export interface ClassifyRequest {
  recipient: string | null;
  replyCode: number | null;
  status: string | null;
  text: string;
  /** The built-in classification (bounce reason vocabulary: userunknown, mailboxfull, ...). */
  reason: string | null;
}

/** A different reason, or null to keep the built-in one. */
export type ClassifyOverride = { reason: string } | null;

export interface HookModule {
  'submission.message'?: (m: SubmissionMessage) => SubmissionVerdict | Promise<SubmissionVerdict>;
  'delivery.route'?: (r: RouteRequest) => RouteChoice | Promise<RouteChoice>;
  'bounce.classify'?: (c: ClassifyRequest) => ClassifyOverride | Promise<ClassifyOverride>;
}

export const HOOK_NAMES = ['submission.message', 'delivery.route', 'bounce.classify'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
