import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';

export interface Column<T> {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  className?: string;
}

export function Table<T>({ columns, rows, rowKey, caption, loading }: { columns: Column<T>[]; rows: T[] | undefined; rowKey: (row: T) => string | number; caption?: string; loading?: boolean }) {
  const { t } = useTranslation();
  return (
    <div className="table-wrap">
      <table>
        {caption ? <caption>{caption}</caption> : null}
        <thead>
          <tr>{columns.map((c) => <th key={c.key} scope="col" className={c.className}>{c.header}</th>)}</tr>
        </thead>
        <tbody>
          {rows && rows.length ? rows.map((r) => (
            <tr key={rowKey(r)}>{columns.map((c) => <td key={c.key} className={c.className}>{c.cell(r)}</td>)}</tr>
          )) : (
            <tr><td className="empty" colSpan={columns.length}>{loading || !rows ? t('common.loading') : t('common.empty')}</td></tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Keyset paging (newest first): the API hands back the cursor of the next page. Each page is
 * its own address, so the browser's back button returns to the newer page.
 */
export function CursorPager({ next, param = 'cursor' }: { next: number | string | null | undefined; param?: string }) {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const current = params.get(param);
  const go = (value: string | null) => setParams((prev) => {
    const n = new URLSearchParams(prev);
    if (value === null) n.delete(param);
    else n.set(param, value);
    return n;
  });
  return (
    <nav className="pager" aria-label={t('common.pagination')}>
      <button type="button" className="btn" disabled={!current} onClick={() => go(null)}>{t('common.firstPage')}</button>
      <button type="button" className="btn" disabled={next === null || next === undefined} onClick={() => go(String(next))}>{t('common.nextPage')}</button>
    </nav>
  );
}

/** Offset paging with a page number in the address. */
export function PagePager({ page, pageSize, total, count }: { page: number; pageSize: number; total?: number; count: number }) {
  const { t } = useTranslation();
  const [, setParams] = useSearchParams();
  const go = (p: number) => setParams((prev) => {
    const n = new URLSearchParams(prev);
    if (p <= 1) n.delete('page');
    else n.set('page', String(p));
    return n;
  });
  const pages = total !== undefined ? Math.max(1, Math.ceil(total / pageSize)) : null;
  const hasNext = pages !== null ? page < pages : count === pageSize;
  return (
    <nav className="pager" aria-label={t('common.pagination')}>
      <button type="button" className="btn" disabled={page <= 1} onClick={() => go(page - 1)}>{t('common.previousPage')}</button>
      <span className="pager-status">{pages !== null ? t('common.pageOf', { page, pages }) : t('common.page', { page })}</span>
      <button type="button" className="btn" disabled={!hasNext} onClick={() => go(page + 1)}>{t('common.nextPage')}</button>
      {total !== undefined ? <span className="pager-total">{t('common.totalRows', { count: total })}</span> : null}
    </nav>
  );
}

export const PAGE_SIZE = 25;

/** The page asked for in the address (1-based). */
export function usePage(): number {
  const [params] = useSearchParams();
  const n = Number(params.get('page') ?? '1');
  return Number.isInteger(n) && n > 0 ? n : 1;
}
