import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { isNotFound } from '../api/client';
import { useUserStats, useWeeklyStats } from '../api/stats';
import { addDays, formatDate, mondayOf, todayIn } from '../lib/dates';
import { MonthHeatmap } from './MonthHeatmap';
import { EmptyState, ErrorState, LoadingState } from './States';

// The chart library is large; only pages that chart load it, and only when they do.
const WeeklyChart = lazy(() => import('./WeeklyChart'));

/** Weeks and streaks follow the server's timezone (Asia/Seoul by default, PRODUCT.md §2). */
const STATS_TIMEZONE = 'Asia/Seoul';

export function StatsSection({ userId }: { userId: number }) {
  const { t } = useTranslation();
  const stats = useUserStats(userId);
  // While the server has no statistics endpoints, one note says so instead of two.
  const unavailable = stats.isError && isNotFound(stats.error);
  return (
    <section className="stats">
      <h2 className="section-title">{t('stats.title')}</h2>
      {unavailable ? (
        <EmptyState title={t('stats.unavailable')} />
      ) : (
        <>
          <Summary userId={userId} />
          <Weekly userId={userId} />
          <MonthHeatmap userId={userId} today={todayIn(STATS_TIMEZONE)} />
        </>
      )}
    </section>
  );
}

function Summary({ userId }: { userId: number }) {
  const { t, i18n } = useTranslation();
  const stats = useUserStats(userId);

  if (stats.isPending) return <LoadingState />;
  if (stats.isError) return <ErrorState error={stats.error} onRetry={() => void stats.refetch()} />;

  const s = stats.data;
  const percent = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 1 }).format(s.completionRate);
  return (
    <div className="tiles">
      <Tile label={t('stats.completionRate')} value={`${percent}%`} detail={t('stats.completedOf', { completed: s.completedChallenges, total: s.totalChallenges })} />
      <Tile label={t('stats.currentStreak')} value={t('stats.daysValue', { count: s.currentStreak })} />
      <Tile label={t('stats.longestStreak')} value={t('stats.daysValue', { count: s.longestStreak })} />
    </div>
  );
}

function Tile({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div className="tile">
      <span className="tile__label">{label}</span>
      <strong className="tile__value">{value}</strong>
      {detail && <span className="tile__detail">{detail}</span>}
    </div>
  );
}

function Weekly({ userId }: { userId: number }) {
  const { t, i18n } = useTranslation();
  const thisWeek = mondayOf(todayIn(STATS_TIMEZONE));
  const [start, setStart] = useState(thisWeek);
  const weekly = useWeeklyStats(userId, start);

  let body;
  if (weekly.isPending) body = <LoadingState />;
  else if (weekly.isError) {
    body = isNotFound(weekly.error) ? (
      <EmptyState title={t('stats.unavailable')} />
    ) : (
      <ErrorState error={weekly.error} onRetry={() => void weekly.refetch()} />
    );
  } else {
    const minutes = weekly.data.reduce((sum, d) => sum + d.minutes, 0);
    body = (
      <>
        <Suspense fallback={<LoadingState />}>
          <WeeklyChart data={weekly.data} />
        </Suspense>
        <p className="muted stats__minutes">{t('stats.weekMinutes', { count: minutes })}</p>
      </>
    );
  }

  return (
    <div className="weekly panel">
      <div className="panel__head">
        <h3 className="panel__title">{t('stats.weekly')}</h3>
        <div className="panel__nav">
          <button type="button" className="btn btn--ghost btn--small" onClick={() => setStart(addDays(start, -7))} aria-label={t('stats.prevWeek')}>
            ‹
          </button>
          <span className="panel__range">
            {formatDate(start, i18n.language)} – {formatDate(addDays(start, 6), i18n.language)}
          </span>
          <button
            type="button"
            className="btn btn--ghost btn--small"
            onClick={() => setStart(addDays(start, 7))}
            disabled={start >= thisWeek}
            aria-label={t('stats.nextWeek')}
          >
            ›
          </button>
        </div>
      </div>
      {body}
    </div>
  );
}
