import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import zhCN from './zh-CN.json';

export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = 'fanout.language';

export const isLanguage = (v: unknown): v is Language => v === 'zh-CN' || v === 'en';

/**
 * The language to start in: `?lang=` in the address wins (and is remembered), then the last
 * choice made in this browser, then the browser's own preference. After sign-in the user's
 * stored locale applies unless the address or a choice in this browser says otherwise.
 */
export function initialLanguage(): Language {
  const fromUrl = new URLSearchParams(window.location.search).get('lang');
  if (isLanguage(fromUrl)) {
    rememberLanguage(fromUrl);
    return fromUrl;
  }
  const stored = window.localStorage.getItem(STORAGE_KEY);
  if (isLanguage(stored)) return stored;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** Only the language choice is kept in local storage: never a token or other secret. */
export const rememberLanguage = (lang: Language) => window.localStorage.setItem(STORAGE_KEY, lang);
export const rememberedLanguage = (): Language | null => {
  const v = window.localStorage.getItem(STORAGE_KEY);
  return isLanguage(v) ? v : null;
};

export function setLanguage(lang: Language): void {
  rememberLanguage(lang);
  void i18next.changeLanguage(lang);
  document.documentElement.lang = lang;
}

export async function initI18n(): Promise<void> {
  const lng = initialLanguage();
  document.documentElement.lang = lng;
  await i18next.use(initReactI18next).init({
    lng,
    fallbackLng: false,
    supportedLngs: [...LANGUAGES],
    resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
    interpolation: { escapeValue: false },
    returnNull: false,
    // A key missing from the catalogue is an error in the browser console (the browser tests
    // fail on it); keys looked up with a fallback (values from the API) are not.
    saveMissing: true,
    missingKeyHandler: (_lngs, _ns, key, _fallback, _update, options) => {
      if ((options as { defaultValue?: unknown } | undefined)?.defaultValue === undefined) console.error(`missing translation: ${key}`);
    },
  });
}

export default i18next;
