import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useUpdateMe } from '../api/auth';
import { ApiError, isApiError } from '../api/client';
import type { ProfileUpdate, User } from '../api/types';
import { BIO_MAX, validateNickname } from '../lib/nickname';
import { Field } from './Field';
import { describedBy } from '../lib/fields';
import { ImageUpload } from './ImageUpload';
import { ErrorNote } from './States';

/** Which field a server error is about; NICKNAME_TAKEN is the nickname's even if unnamed. */
function errorField(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.field ?? (error.code === 'NICKNAME_TAKEN' ? 'nickname' : undefined);
}

export function ProfileEditor({ user }: { user: User }) {
  const { t } = useTranslation();
  const update = useUpdateMe();
  const [nickname, setNickname] = useState(user.nickname);
  const [bio, setBio] = useState(user.bio);
  const [image, setImage] = useState(user.profileImage);
  const [saved, setSaved] = useState(false);

  const nicknameError = validateNickname(nickname, t);
  const bioError = [...bio].length > BIO_MAX ? t('validation.maxLength', { max: BIO_MAX }) : undefined;
  const serverField = errorField(update.error);
  const serverMessage = isApiError(update.error) ? update.error.message : undefined;
  const shownNicknameError = nicknameError ?? (serverField === 'nickname' ? serverMessage : undefined);
  const shownBioError = bioError ?? (serverField === 'bio' ? serverMessage : undefined);

  const changes: ProfileUpdate = {};
  if (nickname !== user.nickname) changes.nickname = nickname;
  if (bio !== user.bio) changes.bio = bio;
  if (image !== user.profileImage) changes.profileImage = image;
  const dirty = Object.keys(changes).length > 0;

  const edited = () => {
    setSaved(false);
    update.reset();
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (nicknameError || bioError || !dirty) return;
    update.mutate(changes, { onSuccess: () => setSaved(true) });
  };

  return (
    <form className="form profile-form" onSubmit={submit} noValidate>
      <Field id="profile-image" label={t('profile.image')} error={serverField === 'profileImage' ? serverMessage : undefined}>
        <ImageUpload
          id="profile-image"
          value={image}
          describedBy={serverField === 'profileImage' ? 'profile-image-error' : undefined}
          shape="round"
          label={t('profile.image')}
          onChange={(url) => {
            setImage(url);
            edited();
          }}
        />
      </Field>
      <Field id="profile-nickname" label={t('profile.nickname')} error={shownNicknameError}>
        <input
          id="profile-nickname"
          className="input"
          value={nickname}
          onChange={(e) => {
            setNickname(e.target.value);
            edited();
          }}
          maxLength={40}
          autoComplete="nickname"
          aria-invalid={Boolean(shownNicknameError)}
          aria-describedby={describedBy('profile-nickname', shownNicknameError)}
        />
      </Field>
      <Field
        id="profile-bio"
        label={t('profile.bio')}
        error={shownBioError}
        hint={t('form.counter', { count: [...bio].length, max: BIO_MAX })}
      >
        <textarea
          id="profile-bio"
          className="input"
          rows={3}
          value={bio}
          placeholder={t('profile.bioPlaceholder')}
          onChange={(e) => {
            setBio(e.target.value);
            edited();
          }}
          aria-invalid={Boolean(shownBioError)}
          aria-describedby={describedBy('profile-bio', shownBioError)}
        />
      </Field>
      {update.isError && !serverField && <ErrorNote error={update.error} />}
      {saved && (
        <p className="success-note" role="status">
          {t('profile.saved')}
        </p>
      )}
      <button type="submit" className="btn btn--primary" disabled={!dirty || update.isPending}>
        {t('profile.save')}
      </button>
    </form>
  );
}
