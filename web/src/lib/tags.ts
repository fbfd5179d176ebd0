/**
 * Challenge tags, the client's copy of the server's rules (crates/domain/src/tag.rs): a tag as
 * typed is trimmed and loses one leading `#`; what remains is 1–20 characters with no white
 * space, control character, `#` or `,`; at most 5 per challenge, unique ignoring case.
 */
import type { TFunction } from 'i18next';
import { ApiError } from '../api/client';

export const TAGS_MAX = 5;
export const TAG_MAX_CHARS = 20;

/** The white space Rust's `trim` and `char::is_whitespace` know (Unicode White_Space). */
const WS = '\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const EDGES = new RegExp(`^[${WS}]+|[${WS}]+$`, 'g');
const FORBIDDEN = new RegExp(`[${WS}\\x00-\\x1f\\x7f-\\x9f#,]`);
/** What separates tags typed or pasted in one go: white space and commas. */
export const TAG_SEPARATOR = new RegExp(`[${WS},]+`);

export type TagProblem = 'required' | 'tooLong' | 'badChar' | 'tooMany' | 'duplicate';

/** The tag as the server stores it: trimmed, one leading `#` dropped. */
export function normalizeTag(raw: string): string {
  const trimmed = raw.replace(EDGES, '');
  return trimmed.startsWith('#') ? trimmed.slice(1) : trimmed;
}

/** Tags are unique, and filtered, ignoring case. */
export function tagKey(tag: string): string {
  return tag.toLowerCase();
}

/** What is wrong with one tag (already normalized), or null. */
export function tagProblem(tag: string): TagProblem | null {
  if (FORBIDDEN.test(tag)) return 'badChar';
  const length = [...tag].length;
  if (length === 0) return 'required';
  if (length > TAG_MAX_CHARS) return 'tooLong';
  return null;
}

/** Whether `tag` may join `tags`: its own shape, the count, no duplicate. */
export function addProblem(tags: readonly string[], tag: string): TagProblem | null {
  const own = tagProblem(tag);
  if (own) return own;
  if (tags.some((t) => tagKey(t) === tagKey(tag))) return 'duplicate';
  if (tags.length >= TAGS_MAX) return 'tooMany';
  return null;
}

/** The first problem of a whole list (as the server checks it), or null. */
export function tagsProblem(tags: readonly string[]): { problem: TagProblem; tag: string } | null {
  if (tags.length > TAGS_MAX) return { problem: 'tooMany', tag: '' };
  const seen = new Set<string>();
  for (const tag of tags) {
    const own = tagProblem(tag);
    if (own) return { problem: own, tag };
    if (seen.has(tagKey(tag))) return { problem: 'duplicate', tag };
    seen.add(tagKey(tag));
  }
  return null;
}

export function tagProblemText(t: TFunction, problem: TagProblem, tag = ''): string {
  switch (problem) {
    case 'required':
      return t('tags.errors.required');
    case 'tooLong':
      return t('tags.errors.tooLong', { max: TAG_MAX_CHARS });
    case 'badChar':
      return t('tags.errors.badChar');
    case 'tooMany':
      return t('tags.errors.tooMany', { max: TAGS_MAX });
    case 'duplicate':
      return t('tags.errors.duplicate', { tag });
  }
}

/**
 * The server's `VALIDATION_FAILED` on `tags` (or `tag`) in the reader's words. The server
 * names the field and the rule in its own sentence (Korean or English, by Accept-Language);
 * the rule is read from it, and anything unexpected falls back to a general sentence.
 */
export function serverTagErrorText(t: TFunction, error: ApiError): string {
  const m = error.message;
  if (/같은 값|same value/i.test(m)) return t('tags.errors.duplicateAny');
  if (/최대 \d+개|at most \d+ items/i.test(m)) return tagProblemText(t, 'tooMany');
  if (/\d+자 이하|characters long/i.test(m)) return tagProblemText(t, 'tooLong');
  if (/형식|format/i.test(m)) return tagProblemText(t, 'badChar');
  if (/입력해 주세요|is required/i.test(m)) return tagProblemText(t, 'required');
  return t('tags.errors.invalid');
}
