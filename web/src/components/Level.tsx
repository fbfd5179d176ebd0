import { useTranslation } from 'react-i18next';
import type { Profile } from '../api/types';
import { levelProgress, levelStart } from '../lib/level';
import { ProgressBar } from './ProgressBar';
import { Sparkline } from './Sparkline';

/** "Lv.3", with the level in words for the tooltip and screen readers. */
export function LevelBadge({ level, large }: { level: number; large?: boolean }) {
  const { t } = useTranslation();
  return (
    <span className={large ? 'level level--large' : 'level'} title={t('level.title', { level })} data-testid="level">
      <span aria-hidden="true">{t('level.short', { level })}</span>
      <span className="visually-hidden">{t('level.title', { level })}</span>
    </span>
  );
}

/** Level, all-time score, progress to the next level and the last 7 days (my page, profiles). */
export function LevelSummary({ profile: p }: { profile: Profile }) {
  const { t, i18n } = useTranslation();
  const number = new Intl.NumberFormat(i18n.language);
  const start = levelStart(p.level);
  const toNext = Math.max(0, p.nextLevelScore - p.totalScore);
  const percent = Math.round(levelProgress(p.totalScore, p.level, p.nextLevelScore) * 100);
  const week = p.recentScores.reduce((sum, v) => sum + v, 0);

  return (
    <div className="level-card" data-testid="level-summary" data-level={p.level}>
      <div className="level-card__head">
        <LevelBadge level={p.level} large />
        <div className="level-card__score">
          <strong>{t('level.points', { count: p.totalScore, value: number.format(p.totalScore) })}</strong>
          <span className="muted">{t('level.totalScore')}</span>
        </div>
        <div className="level-card__recent">
          <Sparkline values={p.recentScores} width={96} height={30} />
          <span className="muted">{t('level.recent', { value: number.format(week) })}</span>
        </div>
      </div>
      <ProgressBar
        value={p.totalScore - start}
        max={p.nextLevelScore - start}
        label={t('level.progressLabel', { level: p.level + 1 })}
      />
      <p className="level-card__next muted">
        {t('level.toNext', { level: p.level + 1, value: number.format(toNext), percent })}
      </p>
    </div>
  );
}
