import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../../api/client';
import { SCORE_FIELDS, TRANSITIONS } from '../../api/operations';
import type { Survey, Ticket, TicketStatus, TimelineEntry } from '../../api/operations';
import { useSession } from '../../app/session';
import { formatDateTime } from '../../ui/format';
import { ErrorBox, Notice, SelectField, TextAreaField, TextField, useAction } from '../../ui/Form';
import { Badge, Card, Page } from '../../ui/Page';
import { SlaClock } from '../../ui/SlaClock';
import { useTenants } from '../../ui/TenantPicker';
import { useApi } from '../../ui/useApi';
import { PriorityBadge, ReportLinks, TicketStatusBadge } from './common';
import { ReportDue } from './ReportDue';
import { usePeople } from './people';

/** The verb a move to `to` from `from` is, as people say it (in progress from waiting is "resume"). */
const verbOf = (from: TicketStatus, to: TicketStatus) => (to === 'open' ? 'reopen' : to === 'in_progress' && from === 'waiting_customer' ? 'resume' : to);

const timelineKind = (e: TimelineEntry) => (e.type === 'breach' ? 'bad' : e.type === 'escalation' || e.type === 'signal_failing' || e.type === 'reopened' ? 'warn' : e.toStatus === 'resolved' || e.type === 'signal_recovered' ? 'ok' : 'info');

function TimelineText({ e, people }: { e: TimelineEntry; people: ReturnType<typeof usePeople> }) {
  const { t } = useTranslation();
  const d = e.detail;
  const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v));
  let what: string;
  if (e.type === 'status' || e.type === 'reopened') what = t('timelineText.status', { from: t(`ticketStatus.${e.fromStatus}`, { defaultValue: e.fromStatus ?? '' }), to: t(`ticketStatus.${e.toStatus}`, { defaultValue: e.toStatus ?? '' }) });
  else if (e.type === 'created') what = t('timelineText.created', { priority: str(d.priority) });
  else if (e.type === 'assigned') what = d.assigneeId ? t('timelineText.assigned', { name: str(d.assignee) || people.name(str(d.assigneeId)) }) : t('timelineText.unassigned');
  else if (e.type === 'escalation') what = t('timelineText.escalation', { target: t(`sla.${str(d.target)}`, { defaultValue: str(d.target) }), percent: str(d.percent) });
  else if (e.type === 'breach') what = t('timelineText.breach', { target: t(`sla.${str(d.target)}`, { defaultValue: str(d.target) }) });
  else what = t(`timelineText.${e.type}`, { defaultValue: e.type });
  const note = str(d.note ?? d.text ?? d.mail ?? d.comments ?? '');
  return (
    <>
      <strong>{what}</strong> <span className="muted">· {e.actor}</span>
      {note ? <div className="reply note-text">{note}</div> : null}
    </>
  );
}

function Transitions({ ticket, onDone }: { ticket: Ticket; onDone: () => void }) {
  const { t } = useTranslation();
  const [note, setNote] = useState('');
  const act = useAction(async (to: TicketStatus) => {
    await api.post(`/tickets/${ticket.id}/status`, { status: to, ...(note.trim() ? { note: note.trim() } : {}) });
    setNote('');
    onDone();
  });
  const moves = TRANSITIONS[ticket.status] ?? [];
  return (
    <Card title={t('tickets.work')}>
      <TextAreaField label={t('tickets.note')} name="note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} error={act.error} hint={t('tickets.noteHint')} />
      <div className="row-actions">
        {moves.map((to) => {
          const verb = verbOf(ticket.status, to);
          return <button key={to} className={`btn${to === 'resolved' ? ' btn-primary' : to === 'waiting_customer' ? ' btn-warn' : ''}`} disabled={act.busy} onClick={() => void act.run(to)}>{t(`ticketActions.${verb}`)}</button>;
        })}
      </div>
      <ErrorBox error={act.error} />
    </Card>
  );
}

function Assign({ ticket, onDone }: { ticket: Ticket; onDone: () => void }) {
  const { t } = useTranslation();
  const session = useSession();
  const people = usePeople();
  const [choice, setChoice] = useState(ticket.assigneeId ?? '');
  const act = useAction(async (assigneeId: string | null) => {
    await api.post(`/tickets/${ticket.id}/assign`, { assigneeId });
    onDone();
  });
  const me = session.user!;
  return (
    <form className="form-row assign-form" onSubmit={(e) => { e.preventDefault(); void act.run(choice || null); }}>
      {people.assignable.length ? (
        <>
          <SelectField label={t('tickets.assignTo')} name="assigneeId" value={choice} onChange={(e) => setChoice(e.target.value)} error={act.error}>
            <option value="">{t('tickets.unassigned')}</option>
            {people.assignable.map((u) => <option key={u.id} value={u.id}>{u.username} · {t(`roles.${u.role}`)}</option>)}
          </SelectField>
          <div className="form-actions"><button className="btn" disabled={act.busy}>{t('tickets.assign')}</button></div>
        </>
      ) : (
        <div className="form-actions">
          {ticket.assigneeId !== me.id ? <button type="button" className="btn" disabled={act.busy} onClick={() => void act.run(me.id)}>{t('tickets.assignMe')}</button> : null}
          {ticket.assigneeId ? <button type="button" className="btn" disabled={act.busy} onClick={() => void act.run(null)}>{t('tickets.unassign')}</button> : null}
        </div>
      )}
      <ErrorBox error={act.error} />
    </form>
  );
}

function FaultReport({ ticket, onDone, canWork }: { ticket: Ticket; onDone: () => void; canWork: boolean }) {
  const { t } = useTranslation();
  const r = ticket.faultReport;
  const [f, setF] = useState({ handling: r.handling, degree: r.degree, lessons: r.lessons, customerOpinion: r.customerOpinion });
  const [saved, setSaved] = useState(false);
  const save = useAction(async (submit: boolean) => {
    await (submit ? api.post(`/tickets/${ticket.id}/report/submit`, f) : api.put(`/tickets/${ticket.id}/report`, f));
    setSaved(true);
    onDone();
  });
  const on = (k: keyof typeof f) => (e: { target: { value: string } }) => { setSaved(false); setF({ ...f, [k]: e.target.value }); };
  return (
    <Card title={t('faultReport.title')}>
      <ReportDue report={r} />
      {canWork ? (
        <form className="form-stack" onSubmit={(e) => { e.preventDefault(); void save.run(false); }}>
          <TextAreaField label={t('faultReport.handling')} name="handling" rows={3} value={f.handling} onChange={on('handling')} error={save.error} />
          <TextField label={t('faultReport.degree')} name="degree" value={f.degree} onChange={on('degree')} error={save.error} />
          <TextAreaField label={t('faultReport.lessons')} name="lessons" rows={2} value={f.lessons} onChange={on('lessons')} error={save.error} />
          <TextAreaField label={t('faultReport.customerOpinion')} name="customerOpinion" rows={2} value={f.customerOpinion} onChange={on('customerOpinion')} error={save.error} />
          <div className="form-actions">
            <button className="btn" disabled={save.busy}>{t('faultReport.save')}</button>
            <button type="button" className="btn btn-primary" disabled={save.busy || !ticket.resolvedAt} title={!ticket.resolvedAt ? t('faultReport.afterResolution') : undefined} onClick={() => void save.run(true)}>{t('faultReport.submit')}</button>
          </div>
        </form>
      ) : (
        <dl className="facts">
          <div><dt>{t('faultReport.handling')}</dt><dd>{r.handling || '—'}</dd></div>
          <div><dt>{t('faultReport.degree')}</dt><dd>{r.degree || '—'}</dd></div>
          <div><dt>{t('faultReport.lessons')}</dt><dd>{r.lessons || '—'}</dd></div>
          <div><dt>{t('faultReport.customerOpinion')}</dt><dd>{r.customerOpinion || '—'}</dd></div>
        </dl>
      )}
      {saved ? <Notice kind="success">{t('faultReport.saved')}</Notice> : null}
      <ErrorBox error={save.error} />
      <h3 className="subhead">{t('faultReport.document')}</h3>
      <ReportLinks base={`/tickets/${ticket.id}/report`} />
    </Card>
  );
}

function Surveys({ ticket, canWork, onDone }: { ticket: Ticket; canWork: boolean; onDone: () => void }) {
  const { t } = useTranslation();
  const surveys = ticket.surveys ?? [];
  const answered = surveys.some((s) => s.respondedAt);
  const [f, setF] = useState<Record<(typeof SCORE_FIELDS)[number], string> & { comments: string }>({ satisfaction: '5', attitude: '5', technical: '5', effect: '5', comments: '' });
  const record = useAction(async () => {
    await api.post<Survey>(`/tickets/${ticket.id}/survey`, {
      satisfaction: Number(f.satisfaction), attitude: Number(f.attitude), technical: Number(f.technical), effect: Number(f.effect),
      ...(f.comments.trim() ? { comments: f.comments.trim() } : {}),
    });
    onDone();
  });
  return (
    <Card title={t('surveys.ticketTitle')}>
      {surveys.length ? (
        <ul className="plain">
          {surveys.map((s) => (
            <li key={s.id} data-testid="survey">
              {s.respondedAt && s.scores ? (
                <>
                  <strong>{t('surveys.answered', { at: formatDateTime(s.respondedAt) })}</strong> · {t(`surveys.channels.${s.channel}`, { defaultValue: s.channel })}
                  {s.critical ? <> <Badge kind="bad">{t('surveys.critical')}</Badge></> : null}
                  <div>{SCORE_FIELDS.map((k) => `${t(`surveys.scores.${k}`)} ${s.scores![k]}`).join(' · ')}</div>
                  {s.comments ? <div className="reply">{s.comments}</div> : null}
                  {s.followUpTicketId ? <div><Link to={`/ops/tickets/${s.followUpTicketId}`}>{t('surveys.followUp')}</Link></div> : null}
                </>
              ) : (
                <span className="muted">{s.mailedAt ? t('surveys.mailed', { at: formatDateTime(s.mailedAt), to: s.contactEmail }) : t('surveys.notMailed')} · {t('surveys.expires', { at: formatDateTime(s.expiresAt) })}</span>
              )}
            </li>
          ))}
        </ul>
      ) : <p className="muted">{ticket.resolvedAt ? t('surveys.noneYet') : t('surveys.afterResolution')}</p>}
      {canWork && ticket.resolvedAt && !answered ? (
        <form className="form-stack" onSubmit={(e) => { e.preventDefault(); void record.run(); }}>
          <h3 className="subhead">{t('surveys.recordPhone')}</h3>
          <p className="muted small">{t('surveys.recordHint')}</p>
          <div className="form-grid score-grid">
            {SCORE_FIELDS.map((k) => (
              <SelectField key={k} label={t(`surveys.scores.${k}`)} name={k} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} error={record.error}>
                {[5, 4, 3, 2, 1, 0].map((n) => <option key={n} value={String(n)}>{t(`surveys.scale.${n}`)}</option>)}
              </SelectField>
            ))}
          </div>
          <TextAreaField label={t('surveys.comments')} name="comments" rows={2} value={f.comments} onChange={(e) => setF({ ...f, comments: e.target.value })} error={record.error} />
          <div className="form-actions"><button className="btn btn-primary" disabled={record.busy}>{t('surveys.record')}</button></div>
          <ErrorBox error={record.error} />
        </form>
      ) : null}
    </Card>
  );
}

function Comment({ ticket, onDone }: { ticket: Ticket; onDone: () => void }) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const act = useAction(async () => {
    await api.post(`/tickets/${ticket.id}/comments`, { text: text.trim() });
    setText('');
    onDone();
  });
  return (
    <form className="form-stack" onSubmit={(e) => { e.preventDefault(); void act.run(); }}>
      <TextAreaField label={t('tickets.comment')} name="text" rows={2} value={text} onChange={(e) => setText(e.target.value)} error={act.error} required />
      <div className="form-actions"><button className="btn" disabled={act.busy || !text.trim()}>{t('tickets.addComment')}</button></div>
      <ErrorBox error={act.error} />
    </form>
  );
}

/** A fault ticket: clocks, state changes, assignee, timeline, fault report and survey. */
export default function TicketDetail() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const session = useSession();
  const tenants = useTenants();
  const people = usePeople();
  const ticket = useApi<Ticket>(`/tickets/${encodeURIComponent(id)}`, undefined, { pollMs: 30_000 });
  const r = ticket.data;
  const canWork = session.can('tickets.work');
  const reload = ticket.reload;
  return (
    <Page title={r ? r.title : t('tickets.title')} subtitle={<><Link to="/ops/tickets">{t('tickets.back')}</Link>{r ? <> · <code>{r.id}</code></> : null}</>}>
      <ErrorBox error={ticket.error} />
      {r ? (
        <>
          <div className="ticket-head">
            <PriorityBadge priority={r.priority} /> <span className="muted">{t(`priorities.${r.priority}`)}</span>
            <TicketStatusBadge status={r.status} />
            {r.responseBreached ? <Badge kind="bad">{t('sla.responseBreached')}</Badge> : null}
            {r.resolutionBreached ? <Badge kind="bad">{t('sla.resolutionBreached')}</Badge> : null}
          </div>
          <div className="grid-2">
            <Card title={t('sla.title')}>
              <div className="clocks" data-testid="ticket-clocks">
                <SlaClock clock={r.sla.response} label={t('sla.response')} />
                <SlaClock clock={r.sla.resolution} label={t('sla.resolution')} />
              </div>
            </Card>
            <Card title={t('tickets.details')}>
              <dl className="facts">
                {!session.tenantScope ? <div><dt>{t('common.tenant')}</dt><dd>{r.tenantId ? tenants.name(r.tenantId) : t('tickets.platform')}</dd></div> : null}
                <div><dt>{t('tickets.assignee')}</dt><dd data-testid="ticket-assignee">{people.name(r.assigneeId) ?? t('tickets.unassigned')}</dd></div>
                <div><dt>{t('tickets.contact')}</dt><dd>{[r.contact.name, r.contact.email, r.contact.phone].filter(Boolean).join(' · ') || '—'}</dd></div>
                <div><dt>{t('tickets.place')}</dt><dd>{r.place || '—'}</dd></div>
                <div><dt>{t('tickets.occurredAt')}</dt><dd>{formatDateTime(r.occurredAt)}</dd></div>
                <div><dt>{t('tickets.createdAt')}</dt><dd>{formatDateTime(r.createdAt)} · {r.createdBy}</dd></div>
                <div><dt>{t('tickets.source')}</dt><dd>{t(`ticketSource.${r.source}`, { defaultValue: r.source })}{r.signalKey ? <> · <code>{r.signalKey}</code></> : null}{r.signalRecoveredAt ? ` · ${t('tickets.recoveredAt', { at: formatDateTime(r.signalRecoveredAt) })}` : ''}</dd></div>
                {r.parentTicketId ? <div><dt>{t('tickets.parent')}</dt><dd><Link to={`/ops/tickets/${r.parentTicketId}`}>{r.parentTicketId}</Link></dd></div> : null}
                {r.description ? <div><dt>{t('tickets.description')}</dt><dd className="note-text">{r.description}</dd></div> : null}
              </dl>
              {canWork ? <Assign ticket={r} onDone={reload} key={r.assigneeId ?? ''} /> : null}
            </Card>
          </div>
          {canWork ? <Transitions ticket={r} onDone={reload} /> : null}
          <div className="grid-2">
            <Card title={t('tickets.timeline')}>
              <ol className="timeline" data-testid="ticket-timeline">
                {(r.timeline ?? []).map((e) => (
                  <li key={e.id} className={`timeline-item timeline-${timelineKind(e)}`}>
                    <div className="timeline-time">{formatDateTime(e.at)}</div>
                    <div className="timeline-body"><TimelineText e={e} people={people} /></div>
                  </li>
                ))}
              </ol>
              {session.can('tickets.comment') ? <Comment ticket={r} onDone={reload} /> : null}
            </Card>
            <div>
              <FaultReport ticket={r} onDone={reload} canWork={canWork} key={`${r.faultReport.submittedAt}`} />
              <Surveys ticket={r} canWork={canWork} onDone={reload} />
            </div>
          </div>
        </>
      ) : null}
    </Page>
  );
}
