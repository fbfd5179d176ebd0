/**
 * Korean first, English on request. The choice lives in localStorage and in `<html lang>`;
 * the API client reads `i18n.language` for Accept-Language.
 */
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import ko from './ko.json';
import en from './en.json';

export const LANGUAGES = ['ko', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

// Both files must have exactly the same keys: each is checked against the other's shape.
const enChecked: typeof ko = en;
const koChecked: typeof en = ko;

const STORAGE_KEY = 'ssgwan.language';

function storedLanguage(): Language {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'ko' || saved === 'en') return saved;
  } catch {
    // Storage can be off (private mode); Korean is the default anyway.
  }
  return 'ko';
}

function applyLanguage(language: string) {
  document.documentElement.lang = language;
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // Not remembered, still applied.
  }
}

void i18n.use(initReactI18next).init({
  resources: { ko: { translation: koChecked }, en: { translation: enChecked } },
  lng: storedLanguage(),
  fallbackLng: 'ko',
  supportedLngs: LANGUAGES,
  interpolation: { escapeValue: false },
  // Resources are bundled, so the language can be set before the first render.
  initAsync: false,
});

document.documentElement.lang = i18n.language;
i18n.on('languageChanged', applyLanguage);

export default i18n;
