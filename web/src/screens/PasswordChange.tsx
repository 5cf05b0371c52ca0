import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { LanguageSwitch } from '../app/Layout';
import { useSession } from '../app/session';
import { ErrorBox, TextField, useAction } from '../ui/Form';

/**
 * Shown instead of every screen while the signed-in user still has a one-time password (the
 * first administrator): the API refuses everything else until it is changed.
 */
export function ForcedPasswordChange() {
  const { t } = useTranslation();
  const session = useSession();
  const [form, setForm] = useState({ currentPassword: '', newPassword: '', repeat: '' });
  const [mismatch, setMismatch] = useState(false);
  const change = useAction(async () => {
    await session.changePassword(form.currentPassword, form.newPassword);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const differs = form.newPassword !== form.repeat;
    setMismatch(differs);
    if (!differs) void change.run();
  };
  return (
    <div className="login-screen">
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby="must-change-title">
        <div className="login-brand">{t('app.name')}</div>
        <h1 id="must-change-title">{t('auth.mustChange.title')}</h1>
        <p className="login-sub">{t('auth.mustChange.body', { name: session.user?.username ?? '' })}</p>
        <TextField label={t('profile.currentPassword')} name="currentPassword" type="password" autoComplete="current-password" required autoFocus
          value={form.currentPassword} onChange={(e) => setForm({ ...form, currentPassword: e.target.value })} error={change.error} hint={t('auth.mustChange.currentHint')} />
        <TextField label={t('profile.newPassword')} name="newPassword" type="password" autoComplete="new-password" required minLength={8}
          value={form.newPassword} onChange={(e) => setForm({ ...form, newPassword: e.target.value })} error={change.error} hint={t('auth.mustChange.rules')} />
        <div className={`field${mismatch ? ' field-invalid' : ''}`}>
          <label htmlFor="must-change-repeat">{t('auth.mustChange.repeat')}</label>
          <input id="must-change-repeat" name="repeatPassword" type="password" autoComplete="new-password" required aria-invalid={mismatch}
            aria-describedby={mismatch ? 'must-change-repeat-error' : undefined} value={form.repeat} onChange={(e) => setForm({ ...form, repeat: e.target.value })} />
          {mismatch ? <div className="field-error" role="alert" id="must-change-repeat-error">{t('auth.mustChange.mismatch')}</div> : null}
        </div>
        <ErrorBox error={change.error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={change.busy}>{t('auth.mustChange.submit')}</button>
        <div className="login-footer">
          <LanguageSwitch />
          <button type="button" className="btn btn-ghost" onClick={() => void session.logout()}>{t('auth.signOut')}</button>
        </div>
      </form>
    </div>
  );
}
