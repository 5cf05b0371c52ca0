import { useCallback, useId, useState } from 'react';
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';

/** Runs a form action, keeping its error (a problem response, shown by field and as a whole). */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (...args: A): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn(...args);
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, [fn]);
  return { busy, error, run, setError };
}

export const fieldError = (error: unknown, name: string): string | null => (error instanceof ApiError ? error.fieldMessage(name) : null);

interface FieldShell {
  label: string;
  /** The API's field name, so its problem shows here. */
  name: string;
  error?: unknown;
  hint?: ReactNode;
}

function Shell({ id, label, name, error, hint, children }: FieldShell & { id: string; children: ReactNode }) {
  const message = fieldError(error, name);
  return (
    <div className={`field${message ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !message ? <div className="field-hint" id={`${id}-hint`}>{hint}</div> : null}
      {message ? <div className="field-error" role="alert" id={`${id}-error`}>{message}</div> : null}
    </div>
  );
}

export function TextField({ label, name, error, hint, ...input }: FieldShell & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const invalid = !!fieldError(error, name);
  return (
    <Shell id={id} label={label} name={name} error={error} hint={hint}>
      <input id={id} name={name} aria-invalid={invalid} aria-describedby={invalid ? `${id}-error` : hint ? `${id}-hint` : undefined} {...input} />
    </Shell>
  );
}

export function SelectField({ label, name, error, hint, children, ...select }: FieldShell & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  const invalid = !!fieldError(error, name);
  return (
    <Shell id={id} label={label} name={name} error={error} hint={hint}>
      <select id={id} name={name} aria-invalid={invalid} aria-describedby={invalid ? `${id}-error` : undefined} {...select}>{children}</select>
    </Shell>
  );
}

export function TextAreaField({ label, name, error, hint, ...area }: FieldShell & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  const invalid = !!fieldError(error, name);
  return (
    <Shell id={id} label={label} name={name} error={error} hint={hint}>
      <textarea id={id} name={name} aria-invalid={invalid} aria-describedby={invalid ? `${id}-error` : undefined} {...area} />
    </Shell>
  );
}

/** The problem as a whole: its detail, unless every part of it is already shown at a field. */
export function ErrorBox({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  let text: string;
  if (error instanceof ApiError) {
    if (error.status === 403) text = t('errors.forbidden', { detail: error.problem.detail });
    else if (error.status === 404) text = t('errors.notFound', { detail: error.problem.detail });
    else text = error.problem.detail || error.problem.title;
  } else {
    text = t('errors.network');
  }
  return <div className="alert alert-error" role="alert">{text}</div>;
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'success' | 'warning' | 'error'; children: ReactNode }) {
  return <div className={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>{children}</div>;
}
