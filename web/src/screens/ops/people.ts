import type { Items, User } from '../../api/types';
import { useSession } from '../../app/session';
import { useApi } from '../../ui/useApi';

/**
 * Names of the people tickets are assigned to. Roles that may list users see every name;
 * support engineers (who may not list users) see their own, and ids otherwise.
 */
export function usePeople() {
  const session = useSession();
  const list = useApi<Items<User>>(session.can('users.read') ? '/users' : null);
  const users = list.data?.items ?? [];
  const names = new Map(users.map((u) => [u.id, u.username]));
  const me = session.user;
  if (me) names.set(me.id, me.username);
  return {
    name: (id: string | null | undefined) => (id ? names.get(id) ?? id : null),
    /** Who a ticket can be assigned to, where the caller can see them. */
    assignable: users.filter((u) => !u.disabled && (u.role === 'support' || u.role === 'administrator')),
  };
}
