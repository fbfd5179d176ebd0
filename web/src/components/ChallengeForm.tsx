import { useState, type ChangeEvent, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { CATEGORIES, DAYS, type ChallengeInput, type Day } from '../api/types';
import {
  CAPACITY_MAX,
  CAPACITY_MIN,
  DESCRIPTION_MAX,
  sessionMinutes,
  TITLE_MAX,
  toChallengeInput,
  validateChallenge,
  type ChallengeField,
  type ChallengeFormValues,
} from '../lib/challengeForm';
import { todayIn, isTimeZone } from '../lib/dates';
import { CATEGORY_ICONS } from '../lib/categories';
import { Field } from './Field';
import { describedBy } from '../lib/fields';
import { ImageUpload } from './ImageUpload';
import { ErrorNote } from './States';
import { TagInput } from './TagInput';
import { serverTagErrorText, TAG_MAX_CHARS, TAGS_MAX } from '../lib/tags';

const WEEKDAYS: Day[] = ['MON', 'TUE', 'WED', 'THU', 'FRI'];
const WEEKEND: Day[] = ['SAT', 'SUN'];

// Intl lists every IANA zone the browser knows; older browsers get the default alone.
const TIMEZONES: string[] = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['Asia/Seoul'];

interface ChallengeFormProps {
  initial: ChallengeFormValues;
  submitLabel: string;
  pending: boolean;
  onSubmit: (input: ChallengeInput, onError: (error: unknown) => void) => void;
}

type TextField = Exclude<ChallengeField, 'category' | 'thumbnail' | 'daysOfWeek' | 'tags' | 'tagDraft'>;

const fieldId = (field: ChallengeField) => `challenge-${field}`;

export function ChallengeForm({ initial, submitLabel, pending, onSubmit }: ChallengeFormProps) {
  const { t } = useTranslation();
  const [values, setValues] = useState(initial);
  const [touched, setTouched] = useState<Partial<Record<ChallengeField, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);

  const errors = validateChallenge(values, t);
  const serverField = serverError instanceof ApiError ? (serverError.field as ChallengeField | undefined) : undefined;
  const errorOf = (field: ChallengeField): string | undefined => {
    if (serverField === field && serverError instanceof ApiError) {
      return field === 'tags' ? serverTagErrorText(t, serverError) : serverError.message;
    }
    return submitted || touched[field] ? errors[field] : undefined;
  };

  const set = <K extends ChallengeField>(field: K, value: ChallengeFormValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    if (serverField === field || !serverField) setServerError(null);
  };
  const touch = (field: ChallengeField) => () => setTouched((s) => ({ ...s, [field]: true }));

  // The props every plain text-like control shares; type-specific ones are written at the control.
  const text = (field: TextField) => ({
    id: fieldId(field),
    className: 'input',
    value: values[field],
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => set(field, e.target.value),
    onBlur: touch(field),
    'aria-invalid': Boolean(errorOf(field)),
    'aria-describedby': describedBy(fieldId(field), errorOf(field)),
  });

  const setTags = (tags: string[], tagDraft: string) => {
    setValues((v) => ({ ...v, tags, tagDraft }));
    if (serverField === 'tags' || !serverField) setServerError(null);
  };

  const toggleDay = (day: Day) =>
    set('daysOfWeek', values.daysOfWeek.includes(day) ? values.daysOfWeek.filter((d) => d !== day) : [...values.daysOfWeek, day]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    const first = (Object.keys(errors) as ChallengeField[])[0];
    if (first) {
      document.getElementById(fieldId(first))?.focus();
      return;
    }
    setServerError(null);
    onSubmit(toChallengeInput(values), setServerError);
  };

  const length = sessionMinutes(values);
  const today = todayIn(isTimeZone(values.timezone) ? values.timezone : 'Asia/Seoul');

  return (
    <form className="form" onSubmit={submit} noValidate>
      <Field id={fieldId('thumbnail')} label={t('form.thumbnail')} error={errorOf('thumbnail')}>
        <ImageUpload
          id={fieldId('thumbnail')}
          value={values.thumbnail}
          onChange={(url) => set('thumbnail', url)}
          label={t('form.thumbnail')}
          describedBy={errorOf('thumbnail') ? `${fieldId('thumbnail')}-error` : undefined}
        />
      </Field>

      <Field id={fieldId('title')} label={t('form.title')} error={errorOf('title')} hint={t('form.counter', { count: [...values.title].length, max: TITLE_MAX })}>
        <input {...text('title')} placeholder={t('form.titlePlaceholder')} maxLength={TITLE_MAX * 2} />
      </Field>

      <fieldset className={errorOf('category') ? 'field field--invalid' : 'field'} id={fieldId('category')} tabIndex={-1}>
        <legend className="field__label">{t('form.category')}</legend>
        <div className="chips">
          {CATEGORIES.map((c) => (
            <label key={c} className={values.category === c ? 'chip chip--active' : 'chip'}>
              <input
                type="radio"
                name="category"
                value={c}
                className="visually-hidden"
                checked={values.category === c}
                onChange={() => set('category', c)}
              />
              {CATEGORY_ICONS[c]} {t(`category.${c}`)}
            </label>
          ))}
        </div>
        {errorOf('category') && <p className="field__error" role="alert">{errorOf('category')}</p>}
      </fieldset>

      <Field
        id={fieldId('description')}
        label={t('form.description')}
        error={errorOf('description')}
        hint={t('form.counter', { count: [...values.description].length, max: DESCRIPTION_MAX })}
      >
        <textarea {...text('description')} rows={5} placeholder={t('form.descriptionPlaceholder')} />
      </Field>

      <Field
        id={fieldId('tags')}
        label={t('form.tags')}
        error={errorOf('tags')}
        hint={t('tags.hint', { count: values.tags.length, max: TAGS_MAX, chars: TAG_MAX_CHARS })}
      >
        <TagInput
          id={fieldId('tags')}
          tags={values.tags}
          draft={values.tagDraft}
          onChange={setTags}
          onAttempt={touch('tags')}
          invalid={Boolean(errorOf('tags'))}
          describedBy={describedBy(fieldId('tags'), errorOf('tags'))}
        />
      </Field>

      <div className="form__row">
        <Field id={fieldId('startDate')} label={t('form.startDate')} error={errorOf('startDate')}>
          <input {...text('startDate')} type="date" min={today} />
        </Field>
        <Field id={fieldId('endDate')} label={t('form.endDate')} error={errorOf('endDate')}>
          <input {...text('endDate')} type="date" min={values.startDate || today} />
        </Field>
      </div>

      <fieldset className={errorOf('daysOfWeek') ? 'field field--invalid' : 'field'} id={fieldId('daysOfWeek')} tabIndex={-1}>
        <legend className="field__label">{t('form.daysOfWeek')}</legend>
        <div className="days">
          {DAYS.map((d) => (
            <label key={d} className={values.daysOfWeek.includes(d) ? 'day day--active' : 'day'}>
              <input type="checkbox" className="visually-hidden" checked={values.daysOfWeek.includes(d)} onChange={() => toggleDay(d)} />
              {t(`days.${d}`)}
            </label>
          ))}
        </div>
        <div className="days__presets">
          <button type="button" className="link-btn" onClick={() => set('daysOfWeek', [...DAYS])}>
            {t('form.everyDay')}
          </button>
          <button type="button" className="link-btn" onClick={() => set('daysOfWeek', WEEKDAYS)}>
            {t('form.weekdays')}
          </button>
          <button type="button" className="link-btn" onClick={() => set('daysOfWeek', WEEKEND)}>
            {t('form.weekend')}
          </button>
        </div>
        {errorOf('daysOfWeek') && <p className="field__error" role="alert">{errorOf('daysOfWeek')}</p>}
      </fieldset>

      <div className="form__row">
        <Field id={fieldId('sessionStart')} label={t('form.sessionStart')} error={errorOf('sessionStart')}>
          <input {...text('sessionStart')} type="time" step={60} />
        </Field>
        <Field id={fieldId('sessionEnd')} label={t('form.sessionEnd')} error={errorOf('sessionEnd')}>
          <input {...text('sessionEnd')} type="time" step={60} />
        </Field>
      </div>

      <Field id={fieldId('timezone')} label={t('form.timezone')} error={errorOf('timezone')} hint={t('form.timezoneHint')}>
        <input {...text('timezone')} list="timezones" autoComplete="off" spellCheck={false} />
      </Field>
      <datalist id="timezones">
        {TIMEZONES.map((tz) => (
          <option key={tz} value={tz} />
        ))}
      </datalist>

      <div className="form__row">
        <Field
          id={fieldId('minMinutes')}
          label={t('form.minMinutes')}
          error={errorOf('minMinutes')}
          hint={length ? t('form.minMinutesHint', { length }) : undefined}
        >
          <input {...text('minMinutes')} type="number" inputMode="numeric" min={1} max={length ?? undefined} />
        </Field>
        <Field id={fieldId('successRate')} label={t('form.successRate')} error={errorOf('successRate')} hint={t('form.successRateHint')}>
          <input {...text('successRate')} type="number" inputMode="numeric" min={1} max={100} />
        </Field>
      </div>

      <Field id={fieldId('capacity')} label={t('form.capacity')} error={errorOf('capacity')} hint={t('form.capacityHint', { min: CAPACITY_MIN, max: CAPACITY_MAX })}>
        <input {...text('capacity')} type="number" inputMode="numeric" min={CAPACITY_MIN} max={CAPACITY_MAX} />
      </Field>

      {Boolean(serverError) && !serverField && <ErrorNote error={serverError} />}
      {submitted && Object.keys(errors).length > 0 && (
        <p className="error-note" role="alert">
          {t('form.fixErrors')}
        </p>
      )}
      <button type="submit" className="btn btn--primary btn--block" disabled={pending}>
        {submitLabel}
      </button>
    </form>
  );
}
