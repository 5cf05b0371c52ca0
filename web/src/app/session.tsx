import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { api, request, setCsrfToken, setUnauthorizedHandler } from '../api/client';
import type { User } from '../api/types';
import { isLanguage, setLanguage } from '../i18n';
import type { Language } from '../i18n';
import { can } from './permissions';
import type { Capability } from './permissions';

interface LoginAnswer {
  user: User;
  csrfToken: string;
  totpRequired: boolean;
  /** A one-time password: nothing but POST /auth/password is allowed until it is changed. */
  mustChangePassword?: boolean;
}

export interface SessionState {
  /** undefined while the first /auth/me is in flight; null when signed out. */
  user: User | null | undefined;
  /** Password accepted, TOTP code still due. */
  totpPending: boolean;
  /** Signed out by choice (not by an expired session): sign-in starts afresh at the dashboard. */
  signedOut: boolean;
  can(capability: Capability): boolean;
  /** Operators are confined to their tenant; the console never asks for another one's data. */
  tenantScope: string | null;
  login(username: string, password: string): Promise<LoginAnswer>;
  submitTotp(code: string): Promise<void>;
  /**
   * Changes my password. The API ends every session of the user when it does, this one too, so
   * the console signs in again with the new password (the TOTP step follows when enrolled).
   */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  logout(): Promise<void>;
  refresh(): Promise<void>;
  changeLanguage(lang: Language): Promise<void>;
}

const Ctx = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/**
 * Each user's language is stored on them (PATCH /auth/me, any role). Once signed in, a
 * language asked for in the address is that user's choice and is stored; otherwise the user's
 * stored language applies, whatever another user chose earlier in this browser.
 */
async function settleLanguage(user: User): Promise<User> {
  const fromUrl = new URLSearchParams(window.location.search).get('lang');
  if (isLanguage(fromUrl)) return fromUrl === user.locale ? user : storeLocale(user, fromUrl);
  if (isLanguage(user.locale)) setLanguage(user.locale);
  return user;
}

/** Stores the language on the user; a session that may not yet (one-time password) keeps it in this browser only. */
async function storeLocale(user: User, lang: Language): Promise<User> {
  if (user.mustChangePassword) return user;
  try {
    return await api.patch<User>('/auth/me', { locale: lang });
  } catch {
    // The language is applied in this browser regardless; it is stored on the next choice.
    return user;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [totpPending, setTotpPending] = useState(false);
  const [signedOut, setSignedOut] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const me = await request<{ kind: string; user: User; csrfToken: string }>('GET', '/auth/me', undefined, { quiet401: true });
      setCsrfToken(me.csrfToken);
      setUser(await settleLanguage(me.user));
    } catch {
      setCsrfToken(null);
      setUser(null);
    }
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setCsrfToken(null);
      setUser(null);
      setTotpPending(false);
    });
    void refresh();
    return () => setUnauthorizedHandler(null);
  }, [refresh]);

  const value = useMemo<SessionState>(() => ({
    user,
    totpPending,
    signedOut,
    can: (c) => can(user?.role, c),
    tenantScope: user?.role === 'operator' ? user.tenantId : null,
    async login(username, password) {
      const answer = await request<LoginAnswer>('POST', '/auth/login', { username, password }, { quiet401: true });
      setCsrfToken(answer.csrfToken);
      setSignedOut(false);
      if (answer.totpRequired) {
        setTotpPending(true);
      } else {
        setUser(await settleLanguage(answer.user));
      }
      return answer;
    },
    async submitTotp(code) {
      const answer = await request<LoginAnswer>('POST', '/auth/totp', { code }, { quiet401: true });
      setCsrfToken(answer.csrfToken);
      setTotpPending(false);
      setUser(await settleLanguage(answer.user));
    },
    async changePassword(currentPassword, newPassword) {
      const username = user?.username;
      await api.post('/auth/password', { currentPassword, newPassword });
      if (!username) return;
      const answer = await request<LoginAnswer>('POST', '/auth/login', { username, password: newPassword }, { quiet401: true }).catch(() => null);
      if (!answer) {
        setCsrfToken(null);
        setUser(null);
        return;
      }
      setCsrfToken(answer.csrfToken);
      if (answer.totpRequired) {
        setTotpPending(true);
        setUser(null);
      } else {
        setUser(answer.user);
      }
    },
    async logout() {
      try {
        await api.post('/auth/logout');
      } finally {
        setCsrfToken(null);
        setTotpPending(false);
        setSignedOut(true);
        setUser(null);
      }
    },
    refresh,
    async changeLanguage(lang) {
      setLanguage(lang);
      if (user && user.locale !== lang) setUser(await storeLocale(user, lang));
    },
  }), [user, totpPending, signedOut, refresh]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
