import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router';
import { useMe } from '../api/auth';
import { useWish } from '../api/challenges';
import { errorText } from '../api/client';
import type { Challenge } from '../api/types';

/**
 * The heart (찜) with the wish count. Changes at once and goes back if the server refuses;
 * someone signed out is sent to the login page and brought back.
 */
export function WishButton({ challenge: c, large }: { challenge: Challenge; large?: boolean }) {
  const { t, i18n } = useTranslation();
  const me = useMe();
  const wish = useWish(c.id);
  const navigate = useNavigate();
  const location = useLocation();
  const count = new Intl.NumberFormat(i18n.language).format(c.wishCount);
  const label = c.wished ? t('wish.remove', { count: c.wishCount }) : t('wish.add', { count: c.wishCount });

  const toggle = () => {
    if (!me.data) {
      void navigate('/login', { state: { from: location } });
      return;
    }
    wish.mutate(!c.wished);
  };

  return (
    <span className="wish-wrap">
      <button
        type="button"
        className={`wish${c.wished ? ' wish--on' : ''}${large ? ' wish--large' : ''}`}
        aria-pressed={c.wished}
        aria-label={label}
        title={label}
        onClick={toggle}
        data-testid="wish"
        data-count={c.wishCount}
      >
        <HeartIcon filled={c.wished} />
        <span className="wish__count" aria-hidden="true">
          {count}
        </span>
      </button>
      {wish.isError && (
        <span className="wish__error" role="alert">
          {errorText(wish.error)}
        </span>
      )}
    </span>
  );
}

function HeartIcon({ filled }: { filled: boolean }) {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" className="wish__icon">
      <path
        d="M12 20.5s-7.5-4.6-9.3-9.2C1.5 8.1 3.4 4.5 7 4.5c2 0 3.3 1 5 3 1.7-2 3-3 5-3 3.6 0 5.5 3.6 4.3 6.8-1.8 4.6-9.3 9.2-9.3 9.2z"
        fill={filled ? 'currentColor' : 'none'}
        stroke="currentColor"
        strokeWidth="2"
        strokeLinejoin="round"
      />
    </svg>
  );
}
