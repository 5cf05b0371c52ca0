import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Items } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime } from '../ui/format';
import { ErrorBox } from '../ui/Form';
import { Page } from '../ui/Page';
import { PAGE_SIZE, PagePager, Table, usePage } from '../ui/Table';
import { TenantPicker, useTenants } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';

export interface TemplateView {
  id: string;
  tenantId: string;
  name: string;
  subject: string;
  html: string | null;
  text: string | null;
  mjml: string | null;
  createdAt: string;
  updatedAt: string;
}

export default function Templates() {
  const { t } = useTranslation();
  const session = useSession();
  const tenants = useTenants();
  const page = usePage();
  const { values, set } = useUrlState(['tenantId'] as const);
  const { data, error, loading } = useApi<Items<TemplateView>>('/templates', { tenantId: values.tenantId || undefined });
  const all = data?.items ?? [];
  const rows = all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  return (
    <Page title={t('templates.title')} subtitle={t('templates.subtitle')}
      actions={session.can('templates.write') ? <Link className="btn btn-primary" to="/templates/new">{t('templates.create')}</Link> : null}>
      {!session.tenantScope ? <div className="filters"><TenantPicker allowAll value={values.tenantId} onChange={(v) => set({ tenantId: v })} /></div> : null}
      <ErrorBox error={error} />
      <Table<TemplateView> rows={data ? rows : undefined} loading={loading} rowKey={(x) => x.id} columns={[
        { key: 'name', header: t('templates.name'), cell: (x) => <Link to={`/templates/${x.id}`}>{x.name}</Link> },
        { key: 'subject', header: t('templates.subject'), className: 'wide', cell: (x) => x.subject },
        { key: 'format', header: t('templates.format'), cell: (x) => (x.mjml ? 'MJML' : x.html ? 'HTML' : t('templates.textOnly')) },
        ...(!session.tenantScope ? [{ key: 'tenant', header: t('common.tenant'), cell: (x: TemplateView) => tenants.name(x.tenantId) }] : []),
        { key: 'updated', header: t('common.updatedAt'), cell: (x) => formatDateTime(x.updatedAt) },
      ]} />
      <PagePager page={page} pageSize={PAGE_SIZE} total={all.length} count={rows.length} />
    </Page>
  );
}
