import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router';
import { useMe } from '../api/auth';
import { useChallenge, useDeleteChallenge, useMembership } from '../api/challenges';
import { isNotFound } from '../api/client';
import { DAYS, type Challenge, type User } from '../api/types';
import { daysBetween, formatDate } from '../lib/dates';
import { Avatar } from './Avatar';
import { CategoryBadge, StatusBadge } from './Badges';
import { Thumbnail } from './ChallengeCard';
import { NoticeSection } from './NoticeSection';
import { ParticipantList } from './ParticipantList';
import { EmptyLinkState, ErrorNote, ErrorState, LoadingState } from './States';
import { TagList } from './Tags';
import { WishButton } from './WishButton';

/** Everything about one challenge; the same content is a full page or a modal over a list. */
export function ChallengeDetail({ id, onDeleted }: { id: number; onDeleted: () => void }) {
  const { t } = useTranslation();
  const challenge = useChallenge(id);
  const me = useMe();

  if (challenge.isPending) return <LoadingState />;
  if (challenge.isError) {
    return isNotFound(challenge.error) ? (
      <EmptyLinkState title={t('detail.notFound')} to="/" label={t('detail.backToList')} />
    ) : (
      <ErrorState error={challenge.error} onRetry={() => void challenge.refetch()} />
    );
  }

  const c = challenge.data;
  return (
    <article className="detail">
      <Thumbnail challenge={c} large />
      <div className="detail__badges">
        <CategoryBadge category={c.category} />
        <StatusBadge status={c.status} />
      </div>
      <div className="detail__head">
        <h1 className="detail__title">{c.title}</h1>
        <WishButton challenge={c} large />
      </div>
      <Link to={`/users/${c.creator.id}`} className="detail__creator">
        <Avatar user={c.creator} size={28} />
        <span>{t('detail.createdBy', { nickname: c.creator.nickname })}</span>
      </Link>
      <TagList tags={c.tags} />

      <NoticeSection challenge={c} isCreator={me.data?.id === c.creator.id} />

      <Actions challenge={c} me={me.data ?? null} onDeleted={onDeleted} />
      <Facts challenge={c} />
      <p>
        <a className="btn btn--ghost btn--small" href={`/api/challenges/${c.id}/calendar.ics`} download>
          {t('calendar.download')}
        </a>
      </p>

      {c.description && <p className="detail__description">{c.description}</p>}

      <section className="detail__section">
        <h2 className="section-title">
          {t('detail.participants')}{' '}
          <span className="muted">
            {c.participantCount}/{c.capacity}
          </span>
        </h2>
        <ParticipantList challenge={c} meId={me.data?.id ?? null} />
      </section>
    </article>
  );
}

function Facts({ challenge: c }: { challenge: Challenge }) {
  const { t, i18n } = useTranslation();
  const days = c.daysOfWeek.length === 7 ? t('detail.everyDay') : DAYS.filter((d) => c.daysOfWeek.includes(d)).map((d) => t(`days.${d}`)).join(', ');
  const date = (d: string) => formatDate(d, i18n.language, { year: 'numeric', weekday: 'short' });

  return (
    <dl className="facts">
      <div>
        <dt>{t('detail.period')}</dt>
        <dd>
          {date(c.startDate)} – {date(c.endDate)}{' '}
          <span className="muted">{t('detail.days', { count: daysBetween(c.startDate, c.endDate) + 1 })}</span>
        </dd>
      </div>
      <div>
        <dt>{t('detail.daysOfWeek')}</dt>
        <dd>{days}</dd>
      </div>
      <div>
        <dt>{t('detail.session')}</dt>
        <dd>
          {c.sessionStart}–{c.sessionEnd} <span className="muted">({c.timezone})</span>
        </dd>
      </div>
      <div>
        <dt>{t('detail.attendanceRule')}</dt>
        <dd>{t('detail.attendanceRuleValue', { minutes: c.minMinutes })}</dd>
      </div>
      <div>
        <dt>{t('detail.successRate')}</dt>
        <dd>{t('detail.successRateValue', { rate: c.successRate })}</dd>
      </div>
      <div>
        <dt>{t('detail.capacity')}</dt>
        <dd>{t('challenge.participantsCount', { count: c.participantCount, capacity: c.capacity })}</dd>
      </div>
    </dl>
  );
}

function Actions({ challenge: c, me, onDeleted }: { challenge: Challenge; me: User | null; onDeleted: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const membership = useMembership(c.id);
  const remove = useDeleteChallenge(c.id);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const [joinedNow, setJoinedNow] = useState(false);

  const isCreator = me?.id === c.creator.id;
  const full = c.participantCount >= c.capacity;

  const join = () =>
    membership.mutate(true, {
      onSuccess: () => setJoinedNow(true),
    });
  const cancel = () => {
    setJoinedNow(false);
    membership.mutate(false);
  };

  let primary;
  if (!me) {
    primary = (
      <button
        type="button"
        className="btn btn--primary btn--block"
        onClick={() => void navigate('/login', { state: { from: location } })}
      >
        {t('detail.loginToJoin')}
      </button>
    );
  } else if (c.joined) {
    primary = (
      <>
        {c.status === 'IN_PROGRESS' && (
          <Link to={`/challenges/${c.id}/live`} className="btn btn--primary btn--block">
            {t('detail.enterLive')}
          </Link>
        )}
        {c.status === 'RECRUITING' && !isCreator && (
          <button type="button" className="btn btn--ghost btn--block" onClick={cancel} disabled={membership.isPending}>
            {t('detail.cancel')}
          </button>
        )}
        {c.status === 'RECRUITING' && <p className="muted">{t('detail.startsSoon')}</p>}
      </>
    );
  } else if (c.status === 'ENDED') {
    primary = <p className="muted">{t('detail.ended')}</p>;
  } else {
    primary = (
      <button type="button" className="btn btn--primary btn--block" onClick={join} disabled={membership.isPending}>
        {full ? t('detail.joinFull') : t('detail.join')}
      </button>
    );
  }

  return (
    <div className="actions">
      {joinedNow && c.joined && (
        <p className="success-note" role="status">
          {t('detail.joinedNow')}
        </p>
      )}
      {primary}
      <ErrorNote error={membership.error} />
      {isCreator && c.status === 'RECRUITING' && (
        <div className="actions__owner">
          <Link to={`/challenges/${c.id}/edit`} className="btn btn--ghost btn--small">
            {t('detail.edit')}
          </Link>
          {confirmingDelete ? (
            <>
              <span className="muted">{t('detail.deleteConfirm')}</span>
              <button
                type="button"
                className="btn btn--danger btn--small"
                disabled={remove.isPending}
                onClick={() => remove.mutate(undefined, { onSuccess: onDeleted })}
              >
                {t('detail.deleteYes')}
              </button>
              <button type="button" className="btn btn--ghost btn--small" onClick={() => setConfirmingDelete(false)}>
                {t('common.cancel')}
              </button>
            </>
          ) : (
            <button type="button" className="btn btn--ghost btn--small" onClick={() => setConfirmingDelete(true)}>
              {t('detail.delete')}
            </button>
          )}
        </div>
      )}
      <ErrorNote error={remove.error} />
    </div>
  );
}
