import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, NavLink, Outlet, useLocation } from 'react-router';
import { LANGUAGES } from '../i18n';
import type { Language } from '../i18n';
import { useSession } from './session';
import { ForcedPasswordChange } from '../screens/PasswordChange';
import type { Capability } from './permissions';

interface NavItem {
  to: string;
  key: string;
  needs?: Capability;
}

const NAV: { group: string; items: NavItem[] }[] = [
  { group: 'nav.groups.overview', items: [{ to: '/dashboard', key: 'nav.dashboard' }] },
  { group: 'nav.groups.statistics', items: [{ to: '/stats/sends', key: 'nav.statsSends', needs: 'stats.read' }, { to: '/stats/failures', key: 'nav.statsFailures', needs: 'stats.read' }] },
  { group: 'nav.groups.logs', items: [{ to: '/delivery-log', key: 'nav.deliveryLog', needs: 'delivery.read' }, { to: '/operation-log', key: 'nav.operationLog', needs: 'oplog.read' }] },
  { group: 'nav.groups.sending', items: [{ to: '/tenants', key: 'nav.tenants', needs: 'tenants.read' }, { to: '/domains', key: 'nav.domains' }, { to: '/suppressions', key: 'nav.suppressions' }] },
  { group: 'nav.groups.content', items: [{ to: '/lists', key: 'nav.lists' }, { to: '/templates', key: 'nav.templates' }, { to: '/campaigns', key: 'nav.campaigns' }] },
  { group: 'nav.groups.integration', items: [{ to: '/webhooks', key: 'nav.webhooks' }] },
  { group: 'nav.groups.operations', items: [{ to: '/ops/inspections', key: 'nav.inspections', needs: 'inspections.read' }, { to: '/ops/tickets', key: 'nav.tickets', needs: 'tickets.read' }, { to: '/ops/surveys', key: 'nav.surveys', needs: 'tickets.read' }] },
  { group: 'nav.groups.admin', items: [{ to: '/users', key: 'nav.users', needs: 'users.read' }] },
];

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  return (
    <label className="language-switch">
      <span className="sr-only">{t('common.language')}</span>
      <select value={i18n.language} aria-label={t('common.language')} onChange={(e) => void session.changeLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => <option key={l} value={l}>{t(`languages.${l}`)}</option>)}
      </select>
    </label>
  );
}

/** The signed-in frame: navigation for what the role may see, the user, the language, sign-out. */
export function Layout() {
  const { t } = useTranslation();
  const session = useSession();
  const location = useLocation();
  if (session.user === undefined) return <div className="boot">{t('common.loading')}</div>;
  if (session.user === null) return <Navigate to={session.signedOut ? '/login' : `/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  const user = session.user;
  if (user.mustChangePassword) return <ForcedPasswordChange />;
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">{t('app.name')}<span>{t('app.tagline')}</span></div>
        <nav aria-label={t('nav.label')}>
          {NAV.map((g) => {
            const items = g.items.filter((i) => !i.needs || session.can(i.needs));
            if (!items.length) return null;
            return (
              <div className="nav-group" key={g.group}>
                <div className="nav-group-title">{t(g.group)}</div>
                {items.map((i) => <NavLink key={i.to} to={i.to} className="nav-link">{t(i.key)}</NavLink>)}
              </div>
            );
          })}
        </nav>
      </aside>
      <div className="main">
        <header className="topbar">
          <div className="topbar-user">
            <NavLink to="/profile" className="user-link">{user.username}</NavLink>
            <span className="role">{t(`roles.${user.role}`)}</span>
          </div>
          <LanguageSwitch />
          <button type="button" className="btn btn-ghost" onClick={() => void session.logout()}>{t('auth.signOut')}</button>
        </header>
        <main className="content">
          <Suspense fallback={<div className="boot">{t('common.loading')}</div>}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </div>
  );
}
