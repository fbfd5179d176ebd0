import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useMe } from '../api/auth';
import { isNotFound } from '../api/client';
import { useRankings } from '../api/stats';
import { RANKING_PERIODS, type RankingEntry, type RankingPeriod } from '../api/types';
import { Avatar } from '../components/Avatar';
import { LevelBadge } from '../components/Level';
import { Sparkline } from '../components/Sparkline';
import { EmptyState, ErrorState, LoadingState } from '../components/States';
import { Tabs } from '../components/Tabs';
import { useSearchParamChoice } from '../lib/searchParamChoice';

export function RankingsPage() {
  const { t } = useTranslation();
  const period = useSearchParamChoice<RankingPeriod>('period', RANKING_PERIODS, 'all');

  return (
    <section className="narrow">
      <h1 className="page-title">{t('rankings.title')}</h1>
      <p className="page-lead">{t('rankings.lead')}</p>
      <Tabs
        label={t('rankings.period')}
        items={RANKING_PERIODS.map((p) => ({ value: p, label: t(`rankings.periods.${p}`) }))}
        {...period}
      />
      <RankingTable period={period.value} />
    </section>
  );
}

function RankingTable({ period }: { period: RankingPeriod }) {
  const { t } = useTranslation();
  const rankings = useRankings(period);
  const me = useMe();
  const meId = me.data?.id;

  if (rankings.isPending) return <LoadingState />;
  if (rankings.isError) {
    return isNotFound(rankings.error) ? (
      <EmptyState title={t('rankings.unavailable')} />
    ) : (
      <ErrorState error={rankings.error} onRetry={() => void rankings.refetch()} />
    );
  }

  const { entries, me: mine } = rankings.data;
  if (entries.length === 0) return <EmptyState title={t('rankings.empty')} />;
  const meOutside = mine !== null && !entries.some((e) => e.userId === mine.userId);

  return (
    <table className="ranking">
      <thead>
        <tr>
          <th scope="col">{t('rankings.rank')}</th>
          <th scope="col" className="ranking__usercell">
            {t('rankings.user')}
          </th>
          <th scope="col" className="ranking__trend" title={t('rankings.recentHint')}>
            {t('rankings.recent')}
          </th>
          <th scope="col" className="num" title={t('rankings.completedHint')}>
            {t('rankings.completed')}
          </th>
          <th scope="col" className="num">
            {t('rankings.score')}
          </th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <RankingRow key={e.userId} entry={e} isMe={e.userId === meId} />
        ))}
        {meOutside && (
          <>
            <tr className="ranking__gap" aria-hidden="true">
              <td colSpan={5}>⋯</td>
            </tr>
            <RankingRow entry={mine} isMe />
          </>
        )}
      </tbody>
    </table>
  );
}

function RankingRow({ entry, isMe }: { entry: RankingEntry; isMe: boolean }) {
  const { t, i18n } = useTranslation();
  const number = new Intl.NumberFormat(i18n.language);
  const medal = ['🥇', '🥈', '🥉'][entry.rank - 1];
  return (
    <tr
      className={isMe ? 'ranking__row ranking__row--me' : 'ranking__row'}
      aria-current={isMe ? 'true' : undefined}
      data-user-id={entry.userId}
    >
      <td className="ranking__rank">{medal ?? entry.rank}</td>
      <td className="ranking__usercell">
        <Link to={`/users/${entry.userId}`} className="ranking__user">
          <Avatar user={entry} size={32} />
          <span className="ranking__who">
            <span className="ranking__name">{entry.nickname}</span>
            <span className="ranking__tags">
              {entry.level !== undefined && <LevelBadge level={entry.level} />}
              {isMe && <span className="badge badge--me">{t('common.me')}</span>}
            </span>
          </span>
        </Link>
      </td>
      <td className="ranking__trend">{entry.recentScores && <Sparkline values={entry.recentScores} />}</td>
      <td className="num">{number.format(entry.completedCount)}</td>
      <td className="num ranking__score">{number.format(entry.totalScore)}</td>
    </tr>
  );
}
