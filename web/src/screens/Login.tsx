import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/client';
import { LanguageSwitch } from '../app/Layout';
import { useSession } from '../app/session';

/** Why a sign-in step failed, in words for the person at the keyboard. */
function loginMessage(t: TFunction, err: unknown, step: 'password' | 'totp'): string {
  if (!(err instanceof ApiError)) return t('errors.network');
  if (err.status === 423) return t('auth.locked', { minutes: Math.max(1, Math.ceil((err.retryAfter ?? 60) / 60)) });
  if (err.status === 401) return step === 'totp' ? t('auth.wrongCode') : t('auth.wrongPassword');
  if (err.status === 400) return step === 'totp' ? t('auth.codeFormat') : t('auth.fillBoth');
  if (err.status === 429) return t('auth.tooMany');
  return err.problem.detail;
}

export function Login() {
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = params.get('next');
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/dashboard';

  if (session.user) return <Navigate to={target} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (session.totpPending) {
        await session.submitTotp(totp.trim());
        navigate(target, { replace: true });
      } else {
        const answer = await session.login(username.trim(), password);
        if (!answer.totpRequired) navigate(target, { replace: true });
      }
    } catch (err) {
      setError(loginMessage(t, err, session.totpPending ? 'totp' : 'password'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-screen">
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <div className="login-brand">{t('app.name')}</div>
        <h1 id="login-title">{t('auth.title')}</h1>
        <p className="login-sub">{t('app.tagline')}</p>
        {!session.totpPending ? (
          <>
            <div className="field">
              <label htmlFor="login-username">{t('auth.username')}</label>
              <input id="login-username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
            </div>
            <div className="field">
              <label htmlFor="login-password">{t('auth.password')}</label>
              <input id="login-password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </div>
          </>
        ) : (
          <div className="field">
            <label htmlFor="login-totp">{t('auth.totp')}</label>
            <input id="login-totp" name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required value={totp} onChange={(e) => setTotp(e.target.value)} autoFocus aria-describedby="login-totp-hint" />
            <div className="field-hint" id="login-totp-hint">{t('auth.totpHint')}</div>
          </div>
        )}
        {error ? <div className="alert alert-error" role="alert">{error}</div> : null}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>{session.totpPending ? t('auth.verify') : t('auth.signIn')}</button>
        <div className="login-footer"><LanguageSwitch /></div>
      </form>
    </div>
  );
}
