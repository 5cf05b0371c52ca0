/**
 * What may refuse, extend or re-lane a message before it is queued (`submission.message`). The
 * hooks capability provides it; the SMTP submission server and the HTTP send API call it. It lives
 * here, below every capability, because the HTTP layer carries it to the send API.
 */
export type SubmissionInspect = (m: {
  tenantId: string;
  accountId: string;
  lane: 'transactional' | 'bulk';
  mailFrom: string;
  recipients: string[];
  source: 'smtp' | 'api';
  raw: Buffer;
}) => Promise<{
  reject?: { code: number; enhanced: string; message: string };
  raw?: Buffer;
  lane?: 'transactional' | 'bulk';
}>;
