/**
 * What the live room says about an error code (a refused frame, an unconfirmed message), in the
 * reader's language; the socket's own messages are Korean only.
 *
 * In order: the room's own wording for the codes chat and entry run into (`live.errors.codes`,
 * plus the client-side TIMEOUT); one "reload the page" text for the codes that mean the app and
 * the server disagree about the protocol; the app-wide text every registry code has
 * (`errors.codes`). Only a code outside errorCodes.json (a newer server) falls back to the
 * generic text, which names the code.
 */
import type { TFunction } from 'i18next';
import { errorCodes, hasCodeText } from '../../api/errorCodes';
import { CHAT_MAX, CHAT_MIN } from '../../api/limits';
import ko from '../../i18n/ko.json';

const PROTOCOL_CODES = errorCodes('MALFORMED_JSON', 'MISSING_TYPE', 'UNKNOWN_TYPE', 'INVALID_FRAME', 'UNSUPPORTED_FRAME');

type RoomCode = keyof typeof ko.live.errors.codes;

function hasRoomText(code: string): code is RoomCode {
  return Object.hasOwn(ko.live.errors.codes, code);
}

export function roomErrorText(t: TFunction, code: string, language: string): string {
  if (hasRoomText(code)) return t(`live.errors.codes.${code}`, { min: CHAT_MIN, max: CHAT_MAX.toLocaleString(language) });
  if (PROTOCOL_CODES.has(code)) return t('live.errors.protocol', { code });
  if (hasCodeText(code)) return t(`errors.codes.${code}`);
  return t('live.errors.unknown', { code });
}
