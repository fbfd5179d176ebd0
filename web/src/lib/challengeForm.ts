/**
 * The create/edit form's values and the client-side copy of the server's challenge rules
 * (PRODUCT.md §2, crates/domain). The server stays the judge; this only saves a round trip.
 */
import type { TFunction } from 'i18next';
import { CATEGORIES, DAYS, type Category, type Challenge, type ChallengeInput, type Day } from '../api/types';
import { addDays, daysBetween, isDate, isTimeZone, minutesOfDay, todayIn } from './dates';
import { normalizeTag, TAG_SEPARATOR, tagProblemText, tagsProblem } from './tags';

export const TITLE_MAX = 100;
export const DESCRIPTION_MAX = 5000;
export const CAPACITY_MIN = 2;
export const CAPACITY_MAX = 50;
export const MAX_SPAN_DAYS = 100;
export const MAX_DAYS_AHEAD = 365;
export const DEFAULT_TIMEZONE = 'Asia/Seoul';

export interface ChallengeFormValues {
  title: string;
  description: string;
  category: Category | '';
  thumbnail: string | null;
  capacity: string;
  startDate: string;
  endDate: string;
  daysOfWeek: Day[];
  sessionStart: string;
  sessionEnd: string;
  timezone: string;
  minMinutes: string;
  successRate: string;
  /** Tags added so far (as typed, `#` dropped). */
  tags: string[];
  /** What is typed in the tag box and not added yet; it is added on submit. */
  tagDraft: string;
}

export type ChallengeField = keyof ChallengeFormValues;
export type FieldErrors = Partial<Record<ChallengeField, string>>;

export function emptyForm(): ChallengeFormValues {
  const start = addDays(todayIn(DEFAULT_TIMEZONE), 1);
  return {
    title: '',
    description: '',
    category: '',
    thumbnail: null,
    capacity: '10',
    startDate: start,
    endDate: addDays(start, 13),
    daysOfWeek: [...DAYS],
    sessionStart: '06:00',
    sessionEnd: '07:00',
    timezone: DEFAULT_TIMEZONE,
    minMinutes: '30',
    successRate: '80',
    tags: [],
    tagDraft: '',
  };
}

export function formFromChallenge(c: Challenge): ChallengeFormValues {
  return {
    title: c.title,
    description: c.description,
    category: c.category,
    thumbnail: c.thumbnail,
    capacity: String(c.capacity),
    startDate: c.startDate,
    endDate: c.endDate,
    daysOfWeek: DAYS.filter((d) => c.daysOfWeek.includes(d)),
    sessionStart: c.sessionStart,
    sessionEnd: c.sessionEnd,
    timezone: c.timezone,
    minMinutes: String(c.minMinutes),
    successRate: String(c.successRate),
    tags: [...c.tags],
    tagDraft: '',
  };
}

const charCount = (s: string) => [...s].length;

function integerIn(value: string, min: number, max: number): boolean {
  if (!/^\d+$/.test(value.trim())) return false;
  const n = Number(value);
  return n >= min && n <= max;
}

/** The current local time in a timezone as minutes after midnight. */
function nowMinutesIn(timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date());
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

/** Whether any of the chosen weekdays falls between two dates (inclusive). */
function hasSession(start: string, end: string, days: Day[]): boolean {
  const span = daysBetween(start, end);
  for (let i = 0; i <= Math.min(span, 6); i++) {
    const weekday = new Date(`${addDays(start, i)}T00:00:00Z`).getUTCDay();
    if (days.includes(DAYS[(weekday + 6) % 7] as Day)) return true;
  }
  return false;
}

export function sessionMinutes(values: Pick<ChallengeFormValues, 'sessionStart' | 'sessionEnd'>): number | null {
  const start = minutesOfDay(values.sessionStart);
  const end = minutesOfDay(values.sessionEnd);
  return start !== null && end !== null && end > start ? end - start : null;
}

export function validateChallenge(v: ChallengeFormValues, t: TFunction): FieldErrors {
  const errors: FieldErrors = {};

  const title = v.title.trim();
  if (!title) errors.title = t('validation.required');
  else if (charCount(v.title) > TITLE_MAX) errors.title = t('validation.maxLength', { max: TITLE_MAX });

  if (charCount(v.description) > DESCRIPTION_MAX) {
    errors.description = t('validation.maxLength', { max: DESCRIPTION_MAX });
  }

  if (!CATEGORIES.includes(v.category as Category)) errors.category = t('validation.chooseCategory');

  if (!integerIn(v.capacity, CAPACITY_MIN, CAPACITY_MAX)) {
    errors.capacity = t('validation.range', { min: CAPACITY_MIN, max: CAPACITY_MAX });
  }

  const timezoneOk = isTimeZone(v.timezone.trim());
  if (!timezoneOk) errors.timezone = t('validation.timezone');
  const today = todayIn(timezoneOk ? v.timezone.trim() : DEFAULT_TIMEZONE);

  if (!isDate(v.startDate)) errors.startDate = t('validation.date');
  else if (v.startDate < today) errors.startDate = t('validation.startInPast');
  else if (daysBetween(today, v.startDate) > MAX_DAYS_AHEAD) {
    errors.startDate = t('validation.startTooFar', { days: MAX_DAYS_AHEAD });
  }

  if (!isDate(v.endDate)) errors.endDate = t('validation.date');
  else if (isDate(v.startDate) && v.endDate < v.startDate) errors.endDate = t('validation.endBeforeStart');
  else if (isDate(v.startDate) && daysBetween(v.startDate, v.endDate) > MAX_SPAN_DAYS) {
    errors.endDate = t('validation.spanTooLong', { days: MAX_SPAN_DAYS });
  }

  if (v.daysOfWeek.length === 0) errors.daysOfWeek = t('validation.chooseDays');
  else if (!errors.startDate && !errors.endDate && !hasSession(v.startDate, v.endDate, v.daysOfWeek)) {
    errors.daysOfWeek = t('validation.noSessions');
  }

  const start = minutesOfDay(v.sessionStart);
  const end = minutesOfDay(v.sessionEnd);
  if (start === null) errors.sessionStart = t('validation.time');
  if (end === null) errors.sessionEnd = t('validation.time');
  else if (start !== null && end <= start) errors.sessionEnd = t('validation.endBeforeStartTime');
  else if (timezoneOk && v.endDate === today && nowMinutesIn(v.timezone.trim()) >= end) {
    errors.sessionEnd = t('validation.sessionOver');
  }

  const length = sessionMinutes(v);
  if (!integerIn(v.minMinutes, 1, length ?? 1440)) {
    errors.minMinutes = length
      ? t('validation.range', { min: 1, max: length })
      : t('validation.minMinutesNeedsSession');
  }

  if (!integerIn(v.successRate, 1, 100)) errors.successRate = t('validation.range', { min: 1, max: 100 });

  const tags = tagsProblem(allTags(v));
  if (tags) errors.tags = tagProblemText(t, tags.problem, tags.tag);

  return errors;
}

/** The tags to send: those added, and what is still typed in the box (white space and commas separate). */
export function allTags(v: Pick<ChallengeFormValues, 'tags' | 'tagDraft'>): string[] {
  const typed = v.tagDraft.split(TAG_SEPARATOR).filter((piece) => piece !== '');
  return [...v.tags, ...typed.map(normalizeTag)];
}

export function toChallengeInput(v: ChallengeFormValues): ChallengeInput {
  return {
    title: v.title.trim(),
    description: v.description.trim(),
    category: v.category as Category,
    thumbnail: v.thumbnail,
    capacity: Number(v.capacity),
    startDate: v.startDate,
    endDate: v.endDate,
    daysOfWeek: DAYS.filter((d) => v.daysOfWeek.includes(d)),
    sessionStart: v.sessionStart,
    sessionEnd: v.sessionEnd,
    timezone: v.timezone.trim(),
    minMinutes: Number(v.minMinutes),
    successRate: Number(v.successRate),
    tags: allTags(v),
  };
}
