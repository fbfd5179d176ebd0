import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate, useSearchParams, type Location } from 'react-router';
import { useDevLogin, useMe, useProviders } from '../api/auth';
import { errorText, isApiError } from '../api/client';
import { Field } from '../components/Field';
import { describedBy } from '../lib/fields';
import { ErrorState, LoadingState } from '../components/States';
import { validateNickname } from '../lib/nickname';

/** Codes the server's Kakao callback puts in `/login?error=`. */
const KNOWN_ERRORS = ['access_denied', 'invalid_state', 'invalid_request', 'kakao_unavailable', 'kakao_failed', 'server_error', 'account_suspended'] as const;
type KnownError = (typeof KNOWN_ERRORS)[number];

function useReturnPath(): string {
  const from = (useLocation().state as { from?: Location } | null)?.from;
  return from ? `${from.pathname}${from.search}` : '/';
}

export function LoginPage() {
  const { t } = useTranslation();
  const me = useMe();
  const providers = useProviders();
  const [params] = useSearchParams();
  const returnTo = useReturnPath();

  if (me.data) return <Navigate to={returnTo} replace />;

  const error = params.get('error');
  const errorMessage = error
    ? KNOWN_ERRORS.includes(error as KnownError)
      ? t(`login.errors.${error as KnownError}`)
      : t('login.errors.unknown')
    : null;

  return (
    <section className="login">
      <div className="login__panel">
        <div className="login__logo" aria-hidden="true">
          쓱관
        </div>
        <h1 className="login__title">{t('login.title')}</h1>
        <p className="login__lead">{t('login.lead')}</p>
        {errorMessage && (
          <p className="error-note login__error" role="alert">
            {errorMessage}
          </p>
        )}
        {providers.isPending ? (
          <LoadingState />
        ) : providers.isError ? (
          <ErrorState error={providers.error} onRetry={() => void providers.refetch()} />
        ) : (
          <>
            <KakaoButton enabled={providers.data.kakao} />
            {providers.data.devLogin && <DevLoginForm returnTo={returnTo} />}
          </>
        )}
      </div>
    </section>
  );
}

function KakaoButton({ enabled }: { enabled: boolean }) {
  const { t } = useTranslation();
  const content = (
    <>
      <svg className="kakao-btn__icon" viewBox="0 0 24 24" aria-hidden="true">
        <path
          fill="currentColor"
          d="M12 3C6.48 3 2 6.5 2 10.82c0 2.8 1.88 5.26 4.7 6.64-.2.76-.75 2.76-.86 3.19-.13.53.2.52.41.38.17-.11 2.68-1.82 3.77-2.56.64.09 1.3.14 1.98.14 5.52 0 10-3.5 10-7.8S17.52 3 12 3z"
        />
      </svg>
      <span>{t('login.kakao')}</span>
    </>
  );
  if (!enabled) {
    return (
      <>
        <button type="button" className="kakao-btn" disabled>
          {content}
        </button>
        <p className="field__hint">{t('login.kakaoUnavailable')}</p>
      </>
    );
  }
  // A full navigation: the server answers with a redirect to Kakao and back.
  return (
    <a className="kakao-btn" href="/api/auth/kakao">
      {content}
    </a>
  );
}

function DevLoginForm({ returnTo }: { returnTo: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const login = useDevLogin();
  const [nickname, setNickname] = useState('');
  const [submitted, setSubmitted] = useState(false);

  const clientError = submitted ? validateNickname(nickname, t) : undefined;
  const serverError = isApiError(login.error) && login.error.field === 'nickname' ? login.error.message : undefined;
  const fieldError = clientError ?? serverError;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (validateNickname(nickname, t)) return;
    login.mutate(nickname, { onSuccess: () => void navigate(returnTo, { replace: true }) });
  };

  return (
    <form className="dev-login" onSubmit={onSubmit} noValidate>
      <div className="dev-login__divider">
        <span>{t('login.devTitle')}</span>
      </div>
      <p className="field__hint">{t('login.devHint')}</p>
      <Field id="dev-nickname" label={t('profile.nickname')} error={fieldError}>
        <input
          id="dev-nickname"
          className="input"
          value={nickname}
          onChange={(e) => {
            setNickname(e.target.value);
            login.reset();
          }}
          autoComplete="nickname"
          maxLength={40}
          aria-invalid={Boolean(fieldError)}
          aria-describedby={describedBy('dev-nickname', fieldError)}
        />
      </Field>
      {login.isError && !serverError && (
        <p className="error-note" role="alert">
          {errorText(login.error)}
        </p>
      )}
      <button type="submit" className="btn btn--primary btn--block" disabled={login.isPending}>
        {t('login.devSubmit')}
      </button>
    </form>
  );
}
