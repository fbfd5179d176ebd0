import { useTranslation } from 'react-i18next';
import { Link, NavLink, useNavigate } from 'react-router';
import { useLogout, useMe } from '../api/auth';
import { Avatar } from './Avatar';
import { LanguageSwitch } from './LanguageSwitch';
import { NotificationBell } from './NotificationBell';

export function NavBar() {
  const { t } = useTranslation();
  const me = useMe();
  const logout = useLogout();
  const navigate = useNavigate();

  const onLogout = () => {
    logout.mutate(undefined, { onSettled: () => void navigate('/') });
  };

  return (
    <header className="nav">
      <div className="nav__inner">
        <Link to="/" className="nav__logo" aria-label={t('nav.home')}>
          쓱관
        </Link>
        <nav className="nav__links" aria-label={t('nav.main')}>
          <NavLink to="/" end>
            {t('nav.challenges')}
          </NavLink>
          <NavLink to="/rankings">{t('nav.rankings')}</NavLink>
          <NavLink to="/challenges/new">{t('nav.create')}</NavLink>
        </nav>
        <div className="nav__actions">
          <LanguageSwitch />
          {me.data ? (
            <>
              <NotificationBell />
              <Link to="/me" className="nav__me" title={t('nav.myPage')}>
                <Avatar user={me.data} size={32} />
                <span className="nav__nickname">{me.data.nickname}</span>
              </Link>
              <button type="button" className="btn btn--ghost btn--small" onClick={onLogout} disabled={logout.isPending}>
                {t('nav.logout')}
              </button>
            </>
          ) : (
            !me.isPending && (
              <Link to="/login" className="btn btn--primary btn--small">
                {t('nav.login')}
              </Link>
            )
          )}
        </div>
      </div>
    </header>
  );
}
