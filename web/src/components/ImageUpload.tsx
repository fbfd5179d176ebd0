import { useId, useRef, useState, type ChangeEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { isNotFound } from '../api/client';
import { useUpload } from '../api/uploads';
import { ErrorNote, Spinner } from './States';

const ACCEPTED = ['image/png', 'image/jpeg', 'image/webp'];

interface ImageUploadProps {
  value: string | null;
  onChange: (url: string | null) => void;
  label: string;
  shape?: 'wide' | 'round';
}

/** Uploads a picked image at once and hands its URL up; a failed upload leaves the value as it was. */
export function ImageUpload({ value, onChange, label, shape = 'wide' }: ImageUploadProps) {
  const { t } = useTranslation();
  const upload = useUpload();
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  const [wrongType, setWrongType] = useState(false);

  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    upload.reset();
    setWrongType(!ACCEPTED.includes(file.type));
    if (!ACCEPTED.includes(file.type)) return;
    upload.mutate(file, { onSuccess: ({ url }) => onChange(url) });
  };

  return (
    <div className={`upload upload--${shape}`}>
      <div className="upload__preview">
        {value ? <img src={value} alt="" /> : <span className="upload__empty">{t('upload.none')}</span>}
        {upload.isPending && (
          <div className="upload__busy">
            <Spinner label={t('upload.uploading')} />
          </div>
        )}
      </div>
      <div className="upload__actions">
        <input
          ref={input}
          id={id}
          type="file"
          accept={ACCEPTED.join(',')}
          className="visually-hidden"
          onChange={onFile}
          aria-label={label}
        />
        <button type="button" className="btn btn--ghost btn--small" onClick={() => input.current?.click()} disabled={upload.isPending}>
          {value ? t('upload.change') : t('upload.choose')}
        </button>
        {value && (
          <button type="button" className="btn btn--ghost btn--small" onClick={() => onChange(null)} disabled={upload.isPending}>
            {t('upload.remove')}
          </button>
        )}
      </div>
      <p className="field__hint">{t('upload.hint')}</p>
      {wrongType && (
        <p className="error-note" role="alert">
          {t('upload.wrongType')}
        </p>
      )}
      {isNotFound(upload.error) ? (
        <p className="error-note" role="alert">
          {t('upload.unavailable')}
        </p>
      ) : (
        <ErrorNote error={upload.error} />
      )}
    </div>
  );
}
