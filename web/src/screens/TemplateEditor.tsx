import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, isMissingEndpoint } from '../api/client';
import type { Account, Items } from '../api/types';
import { useSession } from '../app/session';
import { ErrorBox, Notice, SelectField, TextAreaField, TextField, useAction } from '../ui/Form';
import { Card, Page } from '../ui/Page';
import { PreviewFrame } from '../ui/PreviewFrame';
import { effectiveTenant, TenantPicker } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import type { TemplateView } from './Templates';

/** The starting template, in the console's language. `%name%`-style marks become Liquid variables. */
function sampleTemplate(t: TFunction) {
  const liquid = (text: string) => text.replace(/%(\w+)%/g, '{{ $1 }}');
  return {
    subject: liquid(t('templates.sample.subject')),
    body: `<mjml>
  <mj-body background-color="#f4f6f9">
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text font-size="18px" color="#1f4e8c">${liquid(t('templates.sample.greeting'))}</mj-text>
        <mj-text>{% if amount %}${liquid(t('templates.sample.amount'))}{% else %}${t('templates.sample.noAmount')}{% endif %}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`,
    vars: JSON.stringify({ name: t('templates.sample.name'), amount: '1,280.00' }, null, 2),
  };
}

const WIDTHS = { desktop: 680, mobile: 375 } as const;

interface Rendered {
  subject: string;
  html: string | null;
  text: string;
}

function parseVars(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A template with its live preview (Liquid + MJML rendered by the server with sample variables) and a test send. */
export default function TemplateEditor() {
  const { t } = useTranslation();
  const { id } = useParams();
  const navigate = useNavigate();
  const session = useSession();
  const writer = session.can('templates.write');
  const existing = useApi<TemplateView>(id ? `/templates/${id}` : null);
  const [chosenTenant, setChosenTenant] = useState('');
  const [sample0] = useState(() => sampleTemplate(t));
  const [f, setF] = useState({ name: '', subject: sample0.subject, kind: 'mjml' as 'mjml' | 'html', body: sample0.body, text: '' });
  const [vars, setVars] = useState(sample0.vars);
  const [width, setWidth] = useState<keyof typeof WIDTHS>('desktop');
  const [rendered, setRendered] = useState<Rendered | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    const x = existing.data;
    if (x) setF({ name: x.name, subject: x.subject, kind: x.mjml ? 'mjml' : 'html', body: x.mjml ?? x.html ?? '', text: x.text ?? '' });
  }, [existing.data]);

  const tenantId = existing.data?.tenantId ?? effectiveTenant(session.tenantScope, chosenTenant);
  const sample = parseVars(vars);

  // Live preview: the server renders what is on screen, a moment after typing stops.
  useEffect(() => {
    if (!sample) return;
    const timer = window.setTimeout(async () => {
      const content = { subject: f.subject, ...(f.kind === 'mjml' ? { mjml: f.body } : { html: f.body }), ...(f.text.trim() ? { text: f.text } : {}) };
      try {
        const r = writer
          ? await api.post<Rendered>('/templates/preview', { ...content, vars: sample })
          : id ? await api.post<Rendered>(`/templates/${id}/preview`, { vars: sample }) : null;
        setRendered(r);
        setPreviewError(null);
      } catch (err) {
        if (isMissingEndpoint(err) && id) {
          setRendered(await api.post<Rendered>(`/templates/${id}/preview`, { vars: sample }).catch(() => null));
        } else setPreviewError(err);
      }
    }, 400);
    return () => window.clearTimeout(timer);
  }, [f, vars, writer, id]);

  const save = useAction(async () => {
    const body = { name: f.name.trim(), subject: f.subject, html: f.kind === 'html' ? f.body : undefined, mjml: f.kind === 'mjml' ? f.body : undefined, text: f.text.trim() ? f.text : undefined };
    setSaved(false);
    if (id) {
      await api.put(`/templates/${id}`, body);
      existing.reload();
      setSaved(true);
    } else {
      const created = await api.post<TemplateView>('/templates', { ...body, ...(session.tenantScope ? {} : { tenantId }) });
      navigate(`/templates/${created.id}`, { replace: true });
    }
  });

  const accounts = useApi<Items<Account>>(id && writer && tenantId ? '/accounts' : null, { tenantId });
  const [test, setTest] = useState({ accountId: '', from: '', to: '' });
  const [testSent, setTestSent] = useState(false);
  const testSend = useAction(async () => {
    setTestSent(false);
    await api.post(`/templates/${id}/test-send`, { accountId: test.accountId, from: test.from.trim(), to: test.to.trim(), vars: sample ?? {} });
    setTestSent(true);
  });

  const on = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const previewMessage = previewError instanceof ApiError ? previewError.problem.detail : previewError ? t('errors.network') : null;

  return (
    <Page title={id ? f.name || t('templates.title') : t('templates.create')} subtitle={<Link to="/templates">{t('templates.back')}</Link>}>
      <ErrorBox error={existing.error} />
      <div className="editor">
        <Card title={t('templates.content')}>
          <form className="form-stack" onSubmit={(e: FormEvent) => { e.preventDefault(); void save.run(); }}>
            {!id ? <TenantPicker value={chosenTenant} onChange={setChosenTenant} error={save.error} /> : null}
            <TextField label={t('templates.name')} name="name" value={f.name} onChange={on('name')} error={save.error} required readOnly={!writer} />
            <TextField label={t('templates.subject')} name="subject" value={f.subject} onChange={on('subject')} error={save.error ?? previewError} required readOnly={!writer} />
            <SelectField label={t('templates.format')} name="kind" value={f.kind} onChange={on('kind')} disabled={!writer}>
              <option value="mjml">{t('templates.mjml')}</option>
              <option value="html">{t('templates.html')}</option>
            </SelectField>
            <TextAreaField label={f.kind === 'mjml' ? t('templates.mjmlBody') : t('templates.htmlBody')} name={f.kind} className="code" rows={14} value={f.body} onChange={on('body')} error={save.error ?? previewError} spellCheck={false} readOnly={!writer} />
            <TextAreaField label={t('templates.text')} name="text" className="code" rows={3} value={f.text} onChange={on('text')} error={save.error} hint={t('templates.textHint')} readOnly={!writer} />
            <TextAreaField label={t('templates.sampleVars')} name="vars" className="code" rows={5} value={vars} onChange={(e) => setVars(e.target.value)} hint={sample ? t('templates.sampleHint') : t('templates.sampleInvalid')} spellCheck={false} />
            {writer ? <div className="form-actions"><button className="btn btn-primary" disabled={save.busy || (!id && !tenantId)}>{t('common.save')}</button></div> : null}
            {saved ? <Notice kind="success">{t('common.saved')}</Notice> : null}
            <ErrorBox error={save.error} />
          </form>
        </Card>
        <Card title={t('templates.preview')} actions={
          <div className="segmented" role="group" aria-label={t('templates.width')}>
            {(Object.keys(WIDTHS) as (keyof typeof WIDTHS)[]).map((w) => (
              <button key={w} type="button" className={`btn btn-small${width === w ? ' btn-selected' : ''}`} aria-pressed={width === w} onClick={() => setWidth(w)}>{t(`templates.widths.${w}`)}</button>
            ))}
          </div>
        }>
          {previewMessage ? <div className="alert alert-error" role="alert" data-testid="preview-error">{previewMessage}</div> : null}
          {rendered ? (
            <>
              <div className="preview-subject"><span className="muted">{t('templates.subject')}:</span> <strong data-testid="preview-subject">{rendered.subject}</strong></div>
              {rendered.html !== null ? <PreviewFrame html={rendered.html} width={WIDTHS[width]} /> : <pre className="preview-text">{rendered.text}</pre>}
            </>
          ) : <p className="muted">{t('common.loading')}</p>}
        </Card>
      </div>
      {id && writer ? (
        <Card title={t('templates.testSend')}>
          <form className="form-row" onSubmit={(e) => { e.preventDefault(); void testSend.run(); }}>
            <SelectField label={t('templates.account')} name="accountId" value={test.accountId} onChange={(e) => setTest({ ...test, accountId: e.target.value })} error={testSend.error} required>
              <option value="">{t('common.choose')}</option>
              {(accounts.data?.items ?? []).map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            </SelectField>
            <TextField label={t('templates.from')} name="from" value={test.from} onChange={(e) => setTest({ ...test, from: e.target.value })} error={testSend.error} required placeholder={t('placeholders.from')} />
            <TextField label={t('templates.to')} name="to" type="email" value={test.to} onChange={(e) => setTest({ ...test, to: e.target.value })} error={testSend.error} required />
            <div className="form-actions"><button className="btn btn-primary" disabled={testSend.busy}>{t('templates.sendTest')}</button></div>
          </form>
          {testSent ? <Notice kind="success">{t('templates.testQueued')}</Notice> : null}
          <ErrorBox error={testSend.error} />
        </Card>
      ) : null}
    </Page>
  );
}
