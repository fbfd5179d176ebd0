import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router';
import type { Challenge } from '../api/types';
import { withBackground } from '../lib/background';
import { formatDate } from '../lib/dates';
import { CategoryBadge, StatusBadge } from './Badges';
import { CATEGORY_ICONS } from '../lib/categories';
import { TagList } from './Tags';
import { WishButton } from './WishButton';

export function ChallengeCard({ challenge }: { challenge: Challenge }) {
  const { t, i18n } = useTranslation();
  const location = useLocation();
  const c = challenge;
  const full = c.participantCount >= c.capacity;

  // The title's link covers the whole card (its ::after); tags and the heart sit above it, so
  // no control is nested inside a link.
  return (
    <article className="card" data-challenge-id={c.id}>
      <Thumbnail challenge={c} />
      <div className="card__body">
        <div className="card__badges">
          <CategoryBadge category={c.category} />
          <StatusBadge status={c.status} />
          {c.joined && <span className="badge badge--joined">{t('challenge.joinedBadge')}</span>}
        </div>
        <h3 className="card__title">
          <Link to={`/challenges/${c.id}`} state={withBackground(location)} className="card__link">
            {c.title}
          </Link>
        </h3>
        <p className="card__meta">
          {t('challenge.dateRange', {
            start: formatDate(c.startDate, i18n.language),
            end: formatDate(c.endDate, i18n.language),
          })}
          {' · '}
          {c.sessionStart}–{c.sessionEnd}
        </p>
        <p className={full ? 'card__meta card__meta--full' : 'card__meta'}>
          {t('challenge.participantsCount', { count: c.participantCount, capacity: c.capacity })}
          {full && ` · ${t('challenge.full')}`}
        </p>
        <div className="card__foot">
          <TagList tags={c.tags} className="card__tags" />
          <WishButton challenge={c} />
        </div>
      </div>
    </article>
  );
}

export function Thumbnail({ challenge, large }: { challenge: Challenge; large?: boolean }) {
  const className = large ? 'thumb thumb--large' : 'thumb';
  if (challenge.thumbnail) {
    return <img className={className} src={challenge.thumbnail} alt="" loading="lazy" />;
  }
  return (
    <div className={`${className} thumb--placeholder thumb--${challenge.category.toLowerCase()}`} aria-hidden="true">
      {CATEGORY_ICONS[challenge.category]}
    </div>
  );
}
