/**
 * The server's error codes (HTTP error bodies and socket `error` frames), read from the one
 * registry, `errorCodes.json`: a sorted JSON array that a server-side test compares with the
 * codes the server can send, so the web and the server cannot drift apart.
 *
 * JSON imports widen to `string[]`, so `ErrorCode` is a branded string: only `isErrorCode` and
 * `errorCodes` (which refuses a name the registry lacks) produce one.
 */
import ko from '../i18n/ko.json';
import registry from './errorCodes.json';

declare const errorCodeBrand: unique symbol;

/** A code from errorCodes.json. */
export type ErrorCode = string & { readonly [errorCodeBrand]: true };

export const ERROR_CODES: readonly ErrorCode[] = registry as ErrorCode[];

const known: ReadonlySet<string> = new Set(registry);

export function isErrorCode(code: string): code is ErrorCode {
  return known.has(code);
}

/**
 * The set of the named codes, for code tables (which codes refuse a chat message, which are
 * silent…). Throws on a name the registry lacks, so a typo fails the first test that loads
 * the table instead of quietly never matching.
 */
export function errorCodes(...names: string[]): ReadonlySet<string> {
  for (const name of names) {
    if (!isErrorCode(name)) throw new Error(`${name} is not in errorCodes.json`);
  }
  return new Set(names);
}

/** A code with an app-wide text in `errors.codes` of the i18n files (every registry code has one). */
export function hasCodeText(code: string): code is keyof typeof ko.errors.codes {
  return Object.hasOwn(ko.errors.codes, code);
}
