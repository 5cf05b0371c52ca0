import { useTranslation } from 'react-i18next';
import type { Items, Tenant } from '../api/types';
import { useSession } from '../app/session';
import { SelectField } from './Form';
import { useApi } from './useApi';

/** The tenants the caller may see (an operator sees only their own), by id. */
export function useTenants() {
  const session = useSession();
  const list = useApi<Items<Tenant>>(session.can('tenants.read') ? '/tenants' : null);
  const names = new Map((list.data?.items ?? []).map((x) => [x.id, x.name]));
  return { tenants: list.data?.items ?? [], name: (id: string | null | undefined) => (id ? names.get(id) ?? id : '—'), loading: list.loading };
}

/**
 * Chooses the tenant a screen works on. Operators are confined to theirs, so they get no choice;
 * others pick one (or, with `allowAll`, every tenant).
 */
export function TenantPicker({ value, onChange, allowAll, name = 'tenantId', error }: { value: string; onChange: (id: string) => void; allowAll?: boolean; name?: string; error?: unknown }) {
  const { t } = useTranslation();
  const session = useSession();
  const { tenants } = useTenants();
  if (session.tenantScope) return null;
  return (
    <SelectField label={t('common.tenant')} name={name} value={value} onChange={(e) => onChange(e.target.value)} error={error}>
      <option value="">{allowAll ? t('common.allTenants') : t('common.chooseTenant')}</option>
      {tenants.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
    </SelectField>
  );
}

/** The tenant in effect: the operator's own, or the one chosen. */
export const effectiveTenant = (scope: string | null, chosen: string) => scope ?? chosen;
