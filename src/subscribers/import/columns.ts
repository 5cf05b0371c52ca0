import { invalid } from '../../core/errors.ts';
import { checkEmail } from '../../core/email.ts';

const norm = (h: string) => h.trim().toLowerCase().replace(/[\s_\-.]/g, '');
const EMAIL = new Set(['email', 'emailaddress', 'mail', 'mailaddress', 'e-mail', '邮箱', '邮箱地址', '电子邮箱', '电子邮件', '电子邮件地址', '邮件地址'].map(norm));
const NAME = new Set(['name', 'fullname', 'displayname', '姓名', '名字', '客户姓名', '称呼'].map(norm));
// Columns that an export writes but an import must not take as attributes or act on: a
// re-imported export never changes anyone's status.
const IGNORED = new Set(['status', 'createdat', 'updatedat', 'subscribedat', '状态'].map(norm));

export interface ColumnMap {
  width: number;
  email: number;
  name: number | null;
  attributes: [index: number, key: string][];
}

/** Maps a header row to columns; refuses the whole file when it cannot be imported at all. */
export function mapHeader(header: string[]): ColumnMap {
  const seen = new Map<string, number>();
  let email: number | null = null;
  let name: number | null = null;
  const attributes: [number, string][] = [];
  header.forEach((raw, i) => {
    const h = raw.trim();
    if (!h) return;
    const key = norm(h);
    if (seen.has(key)) throw invalid(`the header has the column "${h}" twice (columns ${seen.get(key)! + 1} and ${i + 1})`, [{ field: 'header', message: 'duplicate column' }]);
    seen.set(key, i);
    if (EMAIL.has(key)) email = i;
    else if (NAME.has(key)) name = i;
    else if (!IGNORED.has(key)) {
      if (h.length > 64) throw invalid(`the column name "${h.slice(0, 20)}…" is longer than 64 characters`, [{ field: 'header', message: 'column name too long' }]);
      attributes.push([i, h]);
    }
  });
  if (email === null) {
    // A header that is itself an address means the file has no header row.
    const looksLikeData = header.some((h) => checkEmail(h).ok);
    throw invalid(looksLikeData
      ? 'the first row holds an address: add a header row naming the columns (one of them "email")'
      : `no email column: the header (${header.map((h) => JSON.stringify(h.trim())).join(', ')}) needs a column named "email" or "邮箱"`, [{ field: 'header', message: 'no email column' }]);
  }
  return { width: header.length, email, name, attributes };
}
