import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../app/session';
import { ErrorBox, Notice, TextField, useAction } from '../ui/Form';
import { Card, Page } from '../ui/Page';
import { QrCode } from '../ui/QrCode';

/** My account: password, and TOTP enrolment with a QR code for the authenticator app. */
export default function Profile() {
  const { t } = useTranslation();
  const session = useSession();
  const user = session.user!;
  const [pw, setPw] = useState({ currentPassword: '', newPassword: '' });
  const [pwDone, setPwDone] = useState(false);
  const changePw = useAction(async () => {
    await session.changePassword(pw.currentPassword, pw.newPassword);
    setPw({ currentPassword: '', newPassword: '' });
    setPwDone(true);
  });
  // Enrolment moves the second factor: the API asks for the password again (and a current code
  // when TOTP is already on), so a session left open cannot move it to another phone.
  const [reauth, setReauth] = useState<{ password: string; code: string } | null>(null);
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauthUri: string } | null>(null);
  const [code, setCode] = useState('');
  const [enrolled, setEnrolled] = useState(false);
  const start = () => {
    if (user.totpEnabled && !window.confirm(t('profile.confirmReenrol'))) return;
    setEnrolled(false);
    setReauth({ password: '', code: '' });
  };
  const begin = useAction(async () => {
    if (!reauth) return;
    setEnrolment(await api.post('/auth/totp/enrol', user.totpEnabled ? { password: reauth.password, code: reauth.code.trim() } : { password: reauth.password }));
    setReauth(null);
  });
  const confirm = useAction(async () => {
    await api.post('/auth/totp/confirm', { code: code.trim() });
    setEnrolment(null);
    setCode('');
    setEnrolled(true);
    await session.refresh();
  });
  return (
    <Page title={t('profile.title')} subtitle={t('profile.subtitle', { name: user.username, role: t(`roles.${user.role}`) })}>
      <div className="grid-2">
        <Card title={t('profile.twoFactor')}>
          <p>{user.totpEnabled ? t('profile.totpOn') : t('profile.totpOff')}</p>
          {enrolled ? <Notice kind="success">{t('profile.enrolled')}</Notice> : null}
          {!enrolment && !reauth ? (
            <button className="btn btn-primary" onClick={start}>{user.totpEnabled ? t('profile.reenrol') : t('profile.enrol')}</button>
          ) : null}
          {reauth ? (
            <form className="form-stack" onSubmit={(e) => { e.preventDefault(); void begin.run(); }} aria-label={t('profile.reauth')}>
              <p className="muted small">{t('profile.reauth')}</p>
              <TextField label={t('profile.reauthPassword')} name="password" type="password" autoComplete="current-password" autoFocus required
                value={reauth.password} onChange={(e) => setReauth({ ...reauth, password: e.target.value })} error={begin.error} />
              {user.totpEnabled ? (
                <TextField label={t('profile.reauthCode')} name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} required
                  value={reauth.code} onChange={(e) => setReauth({ ...reauth, code: e.target.value })} error={begin.error} />
              ) : null}
              <div className="form-actions">
                <button className="btn btn-primary" disabled={begin.busy}>{t('profile.continue')}</button>
                <button type="button" className="btn" onClick={() => { setReauth(null); begin.setError(null); }}>{t('profile.cancel')}</button>
              </div>
            </form>
          ) : null}
          {enrolment ? (
            <div className="enrol">
              <ol className="steps">
                <li>{t('profile.step1')}</li>
                <li>{t('profile.step2')}</li>
              </ol>
              <QrCode text={enrolment.otpauthUri} label={t('profile.qrLabel')} />
              <p className="muted small">{t('profile.manualKey')} <code data-testid="totp-secret">{enrolment.secret}</code></p>
              <form className="form-row" onSubmit={(e) => { e.preventDefault(); void confirm.run(); }}>
                <TextField label={t('profile.code')} name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value)} error={confirm.error} required />
                <div className="form-actions"><button className="btn btn-primary" disabled={confirm.busy}>{t('profile.confirm')}</button></div>
              </form>
              <ErrorBox error={confirm.error} />
            </div>
          ) : null}
          <ErrorBox error={begin.error} />
        </Card>
        <Card title={t('profile.password')}>
          <form className="form-stack" onSubmit={(e) => { e.preventDefault(); setPwDone(false); void changePw.run(); }}>
            <TextField label={t('profile.currentPassword')} name="currentPassword" type="password" autoComplete="current-password" value={pw.currentPassword} onChange={(e) => setPw({ ...pw, currentPassword: e.target.value })} error={changePw.error} required />
            <TextField label={t('profile.newPassword')} name="newPassword" type="password" autoComplete="new-password" value={pw.newPassword} onChange={(e) => setPw({ ...pw, newPassword: e.target.value })} error={changePw.error} required />
            <div className="form-actions"><button className="btn btn-primary" disabled={changePw.busy}>{t('profile.changePassword')}</button></div>
          </form>
          {pwDone ? <Notice kind="success">{t('profile.passwordChanged')}</Notice> : null}
          <ErrorBox error={changePw.error} />
        </Card>
      </div>
    </Page>
  );
}
