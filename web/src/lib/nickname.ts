import type { TFunction } from 'i18next';

export const NICKNAME_MIN = 2;
export const NICKNAME_MAX = 20;
export const BIO_MAX = 300;

/** The server's nickname rule: 2–20 characters, no spaces at either end. */
export function validateNickname(value: string, t: TFunction): string | undefined {
  const length = [...value].length;
  if (length === 0) return t('validation.required');
  if (value !== value.trim()) return t('validation.noEdgeSpaces');
  if (length < NICKNAME_MIN || length > NICKNAME_MAX) {
    return t('validation.lengthBetween', { min: NICKNAME_MIN, max: NICKNAME_MAX });
  }
  return undefined;
}
