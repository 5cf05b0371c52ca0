/** HCL (Lotus) Domino and Notes: "not listed in Domino Directory", "Undeliverable message". */
import type { Lhost } from './types.ts';

export const domino: Lhost = {
  name: 'Domino',
  detect: (m) => /^DELIVERY(?:_| )FAILURE:/.test(m.subject),
  messages: [
    {
      reason: 'userunknown',
      phrases: ['not listed in domino directory', 'not listed in public name & address book', 'no se encuentra en el directorio de domino', "non répertorié dans l'annuaire domino", 'domino ディレクトリには見つかりません'],
    },
    { reason: 'filtered', phrases: ['cannot route mail to user'] },
    { reason: 'systemerror', phrases: ['several matches found in domino directory'] },
  ],
};

export const notes: Lhost = {
  name: 'Notes',
  detect: (m) => m.subject.startsWith('Undeliverable message'),
  messages: [
    { reason: 'userunknown', phrases: ['user not listed in public name & address book', 'ディレクトリのリストにありません'] },
    { reason: 'networkerror', phrases: ['message has exceeded maximum hop count'] },
  ],
};
