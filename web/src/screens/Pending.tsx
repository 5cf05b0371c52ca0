import { useTranslation } from 'react-i18next';
import { isMissingEndpoint } from '../api/client';
import { formatDateTime } from '../ui/format';
import { ErrorBox } from '../ui/Form';
import { Page, Unavailable } from '../ui/Page';
import { Table } from '../ui/Table';
import { useApi } from '../ui/useApi';

type Kind = 'webhooks';

const ENDPOINT: Record<Kind, string> = { webhooks: '/webhooks' };

type Row = Record<string, unknown> & { id?: string };

/** Columns from the PRODUCT.md contract of each endpoint. */
const COLUMNS: Record<Kind, string[]> = {
  webhooks: ['url', 'events', 'description'],
};

const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') : typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? formatDateTime(v) : v === null || v === undefined ? '—' : String(v));

/**
 * Webhooks: the screen lists what the API returns and says
 * plainly when this server does not have that API yet (a 404 for the route). Nothing is made up.
 */
export default function Pending({ kind }: { kind: Kind }) {
  const { t } = useTranslation();
  const list = useApi<{ items: Row[] }>(ENDPOINT[kind]);
  const unavailable = isMissingEndpoint(list.error);
  return (
    <Page title={t(`pending.${kind}.title`)} subtitle={t(`pending.${kind}.subtitle`)}>
      {unavailable ? <Unavailable endpoint={`GET /api/v1${ENDPOINT[kind]}`} /> : <ErrorBox error={list.error} />}
      {!unavailable ? (
        <Table<Row> rows={list.data?.items} loading={list.loading} rowKey={(r) => String(r.id ?? JSON.stringify(r))}
          columns={COLUMNS[kind].map((c) => ({ key: c, header: t(`pending.columns.${c}`), cell: (r: Row) => show(r[c]) }))} />
      ) : null}
    </Page>
  );
}
