import type { ReactNode } from 'react';
import { useEffect } from 'react';
import type { MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { isMissingEndpoint } from '../api/client';

export function Page({ title, actions, children, subtitle }: { title: string; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  const { t } = useTranslation();
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  }, [title, t]);
  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1>{title}</h1>
          {subtitle ? <p className="page-subtitle">{subtitle}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Card({ title, actions, children, className }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <div className={`card${className ? ` ${className}` : ''}`}>
      {title || actions ? (
        <div className="card-header">
          {title ? <h2>{title}</h2> : <span />}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </div>
      ) : null}
      <div className="card-body">{children}</div>
    </div>
  );
}

/** A screen whose API this server does not have yet: says so instead of showing anything made up. */
export function Unavailable({ endpoint }: { endpoint: string }) {
  const { t } = useTranslation();
  return (
    <div className="alert alert-warning unavailable" role="status" data-testid="api-unavailable">
      <strong>{t('unavailable.title')}</strong>
      <p>{t('unavailable.body', { endpoint })}</p>
    </div>
  );
}

export const missing = isMissingEndpoint;

export function Badge({ kind = 'neutral', children }: { kind?: 'neutral' | 'ok' | 'warn' | 'bad' | 'info'; children: ReactNode }) {
  return <span className={`badge badge-${kind}`}>{children}</span>;
}

export function Progress({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value}>
      <div className="progress-bar" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const { t } = useTranslation();
  const copy = async (e: MouseEvent<HTMLButtonElement>) => {
    const button = e.currentTarget;
    try {
      await navigator.clipboard.writeText(text);
      button.dataset.copied = 'true';
    } catch {
      // Clipboard refused (insecure context): select the text for Ctrl+C instead.
      const range = document.createRange();
      const target = button.parentElement?.querySelector('code');
      if (target) {
        range.selectNodeContents(target);
        window.getSelection()?.removeAllRanges();
        window.getSelection()?.addRange(range);
      }
      button.dataset.copied = 'select';
    }
    window.setTimeout(() => delete button.dataset.copied, 1500);
  };
  return <button type="button" className="btn btn-small copy" onClick={copy}>{label ?? t('common.copy')}</button>;
}
