/** A badly behaved hook module for tests: hangs in a loop, throws or answers nonsense, as the subject says. */
import type { SubmissionMessage, SubmissionVerdict } from '../types.ts';

export default {
  'submission.message'(m: SubmissionMessage): SubmissionVerdict {
    const subject = /^subject: ([^\r\n]*)/im.exec(m.raw)?.[1] ?? '';
    if (subject.includes('hang')) for (;;) { /* a hook stuck in a loop */ }
    if (subject.includes('throw')) throw new Error('the hook broke');
    if (subject.includes('nonsense')) return { action: 'maybe' } as unknown as SubmissionVerdict;
    return { action: 'accept', addHeaders: [['X-Checked-By', 'unruly']] };
  },
};
