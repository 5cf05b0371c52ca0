/** fml, a Japanese mailing-list manager: its refusals of posts from non-members and loops. */
import type { Lhost } from './types.ts';
import { reasonByMessages } from './match.ts';
import type { MessageRule } from './types.ts';

const FML_ERRORS: readonly MessageRule[] = [
  { reason: 'rejected', phrases: [' header may cause mail loop', 'not member article from ', 'reject mail from ', 'reject spammers:', 'you are not a member of this mailing list'] },
  { reason: 'systemerror', phrases: [' has detected a loop condition so that', 'duplicated message-id', 'loop back warning:'] },
  { reason: 'securityerror', phrases: ['security alert:'] },
];

/** The same meanings, said in the Subject. */
const FML_SUBJECTS: readonly MessageRule[] = [
  { reason: 'rejected', phrases: [' are not member', 'not member article from ', 'reject mail ', 'spam mail from a spammer is rejected'] },
  { reason: 'systemerror', phrases: ['fml system error message', 'loop alert: ', 'loop back warning: ', 'warning: unix from loop'] },
  { reason: 'securityerror', phrases: ['security alert'] },
];

export const fml: Lhost = {
  name: 'FML',
  detect: (m) => Boolean(m.header('x-mlserver')) && m.from.includes('-admin@') && m.header('message-id').includes('.FML'),
  read: (input, mail) => ({ reason: reasonByMessages(input.diagnostic, FML_ERRORS) ?? reasonByMessages(mail.subject.toLowerCase(), FML_SUBJECTS) }),
};
