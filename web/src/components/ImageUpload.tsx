import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorText } from '../api/client';
import { useUpload } from '../api/uploads';
import { Spinner } from './States';

/** What POST /api/uploads takes: these image types, up to 10 MiB. */
const UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;

/** Why a picked file was not sent, decided before sending. */
type Refusal = 'type' | 'size';

interface ImageUploadProps {
  /** The file input's id, so the field's `<label for>` opens the picker. */
  id: string;
  value: string | null;
  onChange: (url: string | null) => void;
  label: string;
  shape?: 'wide' | 'round';
  /** The id of the field's error line, when it shows one. */
  describedBy?: string;
}

/**
 * Picks an image, checks its type and size here, shows it at once from the file itself, uploads
 * it and hands the server's URL up. A failed upload leaves the value as it was and says why.
 */
export function ImageUpload({ id, value, onChange, label, shape = 'wide', describedBy }: ImageUploadProps) {
  const { t } = useTranslation();
  const upload = useUpload();
  const input = useRef<HTMLInputElement>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  // The picked file, shown while it uploads and afterwards while `value` is its upload.
  const [local, setLocal] = useState<{ preview: string; url: string | null } | null>(null);

  const preview = local?.preview;
  useEffect(() => {
    if (!preview) return;
    return () => URL.revokeObjectURL(preview);
  }, [preview]);

  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    upload.reset();
    const why: Refusal | null = !UPLOAD_TYPES.includes(file.type) ? 'type' : file.size > UPLOAD_MAX_BYTES ? 'size' : null;
    setRefusal(why);
    if (why) return;
    const picked = URL.createObjectURL(file);
    setLocal({ preview: picked, url: null });
    upload.mutate(file, {
      onSuccess: ({ url }) => {
        setLocal((l) => (l?.preview === picked ? { preview: picked, url } : l));
        onChange(url);
      },
      onError: () => setLocal((l) => (l?.preview === picked ? null : l)),
    });
  };

  const shown = local && (upload.isPending || local.url === value) ? local.preview : value;
  const message = refusal ? refusalText(refusal, t) : upload.error ? uploadErrorText(upload.error, t) : null;
  const messageId = `${id}-upload-error`;

  return (
    <div className={`upload upload--${shape}`} data-testid="image-upload">
      <div className="upload__preview">
        {shown ? <img src={shown} alt={t('upload.preview')} /> : <span className="upload__empty">{t('upload.none')}</span>}
        {upload.isPending && (
          <div className="upload__busy">
            <Spinner label={t('upload.uploading')} />
          </div>
        )}
      </div>
      <div className="upload__controls">
        <div className="upload__actions">
          <input
            ref={input}
            id={id}
            type="file"
            accept={UPLOAD_TYPES.join(',')}
            className="visually-hidden"
            onChange={onFile}
            aria-label={label}
            aria-invalid={Boolean(message)}
            aria-describedby={[message ? messageId : `${id}-hint`, describedBy].filter(Boolean).join(' ')}
          />
          <button type="button" className="btn btn--ghost btn--small" onClick={() => input.current?.click()} disabled={upload.isPending}>
            {value || upload.isPending ? t('upload.change') : t('upload.choose')}
          </button>
          {value && (
            <button
              type="button"
              className="btn btn--ghost btn--small"
              onClick={() => {
                setLocal(null);
                setRefusal(null);
                upload.reset();
                onChange(null);
              }}
              disabled={upload.isPending}
            >
              {t('upload.remove')}
            </button>
          )}
        </div>
        <p id={`${id}-hint`} className="field__hint">
          {t('upload.hint')}
        </p>
        {message && (
          <p id={messageId} className="error-note" role="alert" data-testid="upload-error">
            {message}
          </p>
        )}
      </div>
    </div>
  );
}

type T = ReturnType<typeof useTranslation>['t'];

function refusalText(refusal: Refusal, t: T): string {
  return refusal === 'type' ? t('upload.wrongType') : t('upload.tooLarge');
}

/** The server's refusals in the reader's words; anything else as the server put it. */
function uploadErrorText(error: unknown, t: T): string {
  if (error instanceof ApiError) {
    if (error.status === 413 || error.code === 'PAYLOAD_TOO_LARGE') return t('upload.tooLarge');
    if (error.status === 415 || error.code === 'UNSUPPORTED_MEDIA_TYPE') return t('upload.wrongType');
    if (error.code === 'VALIDATION_FAILED') return t('upload.broken');
    if (error.status === 404) return t('upload.unavailable');
  }
  return t('upload.failed', { reason: errorText(error) });
}
