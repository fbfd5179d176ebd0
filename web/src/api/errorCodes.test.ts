import { createInstance } from 'i18next';
import { describe, expect, it } from 'vitest';
import { roomErrorText } from '../components/live/errorText';
import en from '../i18n/en.json';
import ko from '../i18n/ko.json';
import registry from './errorCodes.json';
import { ERROR_CODES, errorCodes, isErrorCode } from './errorCodes';

const languages = { ko, en } as const;

function translator(lng: keyof typeof languages) {
  const i18n = createInstance();
  void i18n.init({
    resources: { ko: { translation: ko }, en: { translation: en } },
    lng,
    fallbackLng: false,
    interpolation: { escapeValue: false },
    initAsync: false,
  });
  return i18n.t;
}

describe('errorCodes.json', () => {
  it('is a sorted list of distinct upper-case codes', () => {
    expect(registry.length).toBeGreaterThan(0);
    expect([...registry].sort()).toEqual(registry);
    expect(new Set(registry).size).toBe(registry.length);
    for (const code of registry) expect(code).toMatch(/^[A-Z][A-Z_]*[A-Z]$/);
    expect(ERROR_CODES).toEqual(registry);
  });

  it('isErrorCode and errorCodes accept the registry and nothing else', () => {
    expect(isErrorCode('RATE_LIMITED')).toBe(true);
    expect(isErrorCode('RATE_LIMIT')).toBe(false);
    expect(errorCodes('FORBIDDEN', 'NOT_IN_ROOM').has('FORBIDDEN')).toBe(true);
    expect(() => errorCodes('FORBIDDEN', 'FORBIDEN')).toThrow(/FORBIDEN/);
  });
});

describe('error messages', () => {
  it.each(Object.keys(languages) as (keyof typeof languages)[])('every registry code has its own text in %s, and no other code does', (lng) => {
    const texts: Record<string, string> = languages[lng].errors.codes;
    for (const code of registry) {
      expect(texts[code], `${lng} errors.codes.${code}`).toEqual(expect.stringMatching(/\S/));
    }
    expect(Object.keys(texts).sort()).toEqual(registry);
  });

  it.each(Object.keys(languages) as (keyof typeof languages)[])('the live room names no registry code with the generic fallback in %s', (lng) => {
    const t = translator(lng);
    const fallback = (code: string) => t('live.errors.unknown', { code });
    for (const code of registry) {
      const text = roomErrorText(t, code, lng);
      expect(text, code).not.toBe(fallback(code));
      // A missing key would come back as the key itself.
      expect(text, code).not.toMatch(/(^|\s)(live\.)?errors\./);
      expect(text, code).not.toMatch(/\{\{/);
    }
  });

  it('the live room falls back to the generic text, naming the code, only for codes outside the registry', () => {
    const t = translator('en');
    expect(roomErrorText(t, 'SOMETHING_NEW', 'en')).toBe(t('live.errors.unknown', { code: 'SOMETHING_NEW' }));
    expect(roomErrorText(t, 'SOMETHING_NEW', 'en')).toContain('SOMETHING_NEW');
  });

  it('the live room words chat refusals for chat, with the chat limit from api/limits', () => {
    expect(roomErrorText(translator('ko'), 'VALIDATION_FAILED', 'ko')).toBe('메시지는 1~1,000자로 보내 주세요.');
    expect(roomErrorText(translator('en'), 'VALIDATION_FAILED', 'en')).toBe('Messages must be 1 to 1,000 characters.');
    expect(roomErrorText(translator('ko'), 'RATE_LIMITED', 'ko')).toMatch(/너무 빨리/);
    expect(roomErrorText(translator('en'), 'TIMEOUT', 'en')).toBe(en.live.errors.codes.TIMEOUT);
    const t = translator('en');
    expect(roomErrorText(t, 'INVALID_FRAME', 'en')).toBe(t('live.errors.protocol', { code: 'INVALID_FRAME' }));
  });
});
