/**
 * Refuses a message that carries an unmasked payment card number (PAN) anywhere in its
 * subject or text: 13 to 19 digits, optionally grouped by spaces or hyphens, that pass the
 * Luhn check. Masked numbers (4111 **** **** 1111) pass. Answer: 550 5.7.1.
 *
 * Enable: FANOUT_HOOKS=examples/hooks/refuse-card-numbers.ts
 */
import { simpleParser } from 'mailparser';
import type { SubmissionMessage, SubmissionVerdict } from '../../src/hooks/types.ts';

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// Digits in groups separated by single spaces or hyphens, not glued to other digits.
const CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;

export function findPan(text: string): string | null {
  for (const m of text.matchAll(CANDIDATE)) {
    const digits = m[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) return digits;
  }
  return null;
}

export default {
  async 'submission.message'(m: SubmissionMessage): Promise<SubmissionVerdict> {
    const parsed = await simpleParser(m.raw, { skipImageLinks: true, skipTextLinks: true });
    const text = [parsed.subject ?? '', parsed.text ?? '', ...parsed.attachments.filter((a) => a.contentType.startsWith('text/')).map((a) => a.content.toString('utf8'))].join('\n');
    const pan = findPan(text);
    if (pan) return { action: 'reject', code: 550, enhanced: '5.7.1', message: `Message refused: it carries an unmasked card number ending ${pan.slice(-4)}; mask it before sending` };
    return { action: 'accept' };
  },
};
