import { useRef, type ChangeEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { addProblem, normalizeTag, TAG_MAX_CHARS, TAG_SEPARATOR, TAGS_MAX } from '../lib/tags';

interface TagInputProps {
  id: string;
  tags: string[];
  draft: string;
  onChange: (tags: string[], draft: string) => void;
  /** The user tried to add what is typed (Enter, a comma or a space): show what is wrong with it. */
  onAttempt: () => void;
  invalid: boolean;
  describedBy: string;
}

/**
 * Tags as chips with a text box: Enter, a comma or a space adds what is typed (a leading `#`
 * is fine), × or Backspace in the empty box removes one. A piece that breaks a rule stays in
 * the box, and the form shows why.
 */
export function TagInput({ id, tags, draft, onChange, onAttempt, invalid, describedBy }: TagInputProps) {
  const { t } = useTranslation();
  /** Enter pressed while an IME was composing Hangul: add once the composition ends. */
  const addAfterComposition = useRef(false);

  /** Adds the complete pieces of `text` (all of them when `all`); returns what stays in the box. */
  const absorb = (text: string, all: boolean) => {
    const pieces = text.split(TAG_SEPARATOR);
    const tail = all ? '' : (pieces.pop() ?? '');
    const next = [...tags];
    let failedAt = -1;
    pieces.forEach((raw, i) => {
      if (failedAt >= 0 || raw === '') return;
      const tag = normalizeTag(raw);
      if (addProblem(next, tag)) failedAt = i;
      else next.push(tag);
    });
    const rest = failedAt >= 0 ? pieces.slice(failedAt).filter((p) => p !== '') : [];
    if (tail) rest.push(tail);
    onChange(next, rest.join(' '));
    if (failedAt >= 0) onAttempt();
  };

  const onInput = (e: ChangeEvent<HTMLInputElement>) => {
    const value = e.target.value;
    if (TAG_SEPARATOR.test(value) && !(e.nativeEvent as InputEvent).isComposing) absorb(value, false);
    else onChange(tags, value);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      // Enter adds a tag; it never submits the form from here.
      e.preventDefault();
      if (e.nativeEvent.isComposing) addAfterComposition.current = true;
      else if (draft.trim()) absorb(draft, true);
      else if (draft) onChange(tags, '');
    } else if (e.key === 'Backspace' && draft === '' && tags.length > 0) {
      onChange(tags.slice(0, -1), '');
    }
  };

  return (
    <div className={invalid ? 'tag-input tag-input--invalid' : 'tag-input'}>
      {tags.length > 0 && (
        <ul className="tag-input__tags" aria-label={t('tags.added', { count: tags.length, max: TAGS_MAX })}>
          {tags.map((tag, i) => (
            <li key={tag.toLowerCase()} className="tag tag--removable">
              <span>#{tag}</span>
              <button
                type="button"
                className="tag__remove"
                aria-label={t('tags.remove', { tag })}
                onClick={() => onChange(tags.filter((_, j) => j !== i), draft)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <input
        id={id}
        className="tag-input__box"
        value={draft}
        onChange={onInput}
        onKeyDown={onKeyDown}
        onCompositionEnd={(e) => {
          if (!addAfterComposition.current) return;
          addAfterComposition.current = false;
          const value = e.currentTarget.value;
          if (value.trim()) absorb(value, true);
        }}
        onBlur={() => {
          if (draft.trim()) absorb(draft, true);
        }}
        placeholder={tags.length >= TAGS_MAX ? t('tags.full', { max: TAGS_MAX }) : t('tags.placeholder')}
        maxLength={TAG_MAX_CHARS * 4}
        autoComplete="off"
        autoCapitalize="off"
        spellCheck={false}
        enterKeyHint="done"
        aria-invalid={invalid}
        aria-describedby={describedBy}
      />
    </div>
  );
}
