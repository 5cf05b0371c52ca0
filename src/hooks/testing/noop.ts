/** A hook that does nothing (the overhead benchmark and tests). */
import type { SubmissionVerdict } from '../types.ts';

export default {
  'submission.message'(): SubmissionVerdict {
    return { action: 'accept' };
  },
};
