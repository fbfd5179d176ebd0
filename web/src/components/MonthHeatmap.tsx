import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { isNotFound } from '../api/client';
import { useMonthlyStats } from '../api/stats';
import { DAYS, type DailyStat } from '../api/types';
import { addMonths, formatDate, formatMonth, weekdayIndex } from '../lib/dates';
import { EmptyState, ErrorState, LoadingState } from './States';

/** How a day looks: no session, a session still ahead, or a share of its sessions attended. */
type Level = 'none' | 'upcoming' | 'future' | 'l0' | 'l1' | 'l2' | 'l3';

const SCALE: Level[] = ['l0', 'l1', 'l2', 'l3'];

function levelOf(day: DailyStat, today: string): Level {
  const planned = Math.max(day.scheduledSessions, day.achievedSessions);
  if (day.date > today) return planned > 0 ? 'upcoming' : 'future';
  if (planned === 0) return 'none';
  const share = day.achievedSessions / planned;
  if (share >= 1) return 'l3';
  if (share >= 0.5) return 'l2';
  if (share > 0) return 'l1';
  return 'l0';
}

/** Rows of seven (Monday first), with nulls before the 1st and after the last day. */
function weeks(days: DailyStat[]): (DailyStat | null)[][] {
  const first = days[0];
  if (!first) return [];
  const cells: (DailyStat | null)[] = [...Array<null>(weekdayIndex(first.date)).fill(null), ...days];
  while (cells.length % 7) cells.push(null);
  const rows: (DailyStat | null)[][] = [];
  for (let i = 0; i < cells.length; i += 7) rows.push(cells.slice(i, i + 7));
  return rows;
}

interface MonthHeatmapProps {
  userId: number;
  /** `YYYY-MM-DD` today in the statistics' timezone; no paging past its month. */
  today: string;
}

/** A month as a calendar, each day coloured by the share of its scheduled sessions attended. */
export function MonthHeatmap({ userId, today }: MonthHeatmapProps) {
  const { t, i18n } = useTranslation();
  const thisMonth = today.slice(0, 7);
  const [month, setMonth] = useState(thisMonth);
  const [selected, setSelected] = useState<string | null>(null);
  const monthly = useMonthlyStats(userId, month);
  const language = i18n.language;

  const dayName = (date: string) => formatDate(date, language, { month: 'long', day: 'numeric' });
  const describe = (day: DailyStat): string => {
    const date = dayName(day.date);
    let text;
    if (day.date > today) {
      text = day.scheduledSessions > 0 ? t('stats.heat.cellUpcoming', { date, count: day.scheduledSessions }) : t('stats.heat.cellFuture', { date });
    } else if (Math.max(day.scheduledSessions, day.achievedSessions) === 0) {
      text = t('stats.heat.cellNone', { date });
    } else {
      text = t('stats.heat.cell', { date, achieved: day.achievedSessions, scheduled: Math.max(day.scheduledSessions, day.achievedSessions) });
    }
    return day.date === today ? t('stats.heat.today', { label: text }) : text;
  };

  const go = (months: number) => {
    setMonth(addMonths(month, months));
    setSelected(null);
  };

  let body;
  if (monthly.isPending) body = <LoadingState />;
  else if (monthly.isError && !monthly.data) {
    body = isNotFound(monthly.error) ? (
      <EmptyState title={t('stats.unavailable')} />
    ) : (
      <ErrorState error={monthly.error} onRetry={() => void monthly.refetch()} />
    );
  } else {
    const days = monthly.data;
    const past = days.filter((d) => d.date <= today);
    const achieved = past.reduce((sum, d) => sum + d.achievedSessions, 0);
    const scheduled = past.reduce((sum, d) => sum + Math.max(d.scheduledSessions, d.achievedSessions), 0);
    const activeDays = past.filter((d) => d.achievedSessions > 0).length;
    const minutes = days.reduce((sum, d) => sum + d.minutes, 0);
    const picked = days.find((d) => d.date === selected);
    const percent = scheduled ? new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 0 }).format(achieved / scheduled) : null;

    body = (
      <div className={monthly.isPlaceholderData ? 'heat__body heat__body--stale' : 'heat__body'} aria-busy={monthly.isPlaceholderData}>
        <table className="heat__grid" aria-label={t('stats.heat.gridLabel', { month: formatMonth(month, language) })}>
          <thead>
            <tr>
              {DAYS.map((d) => (
                <th key={d} scope="col" className={d === 'SAT' || d === 'SUN' ? 'heat__weekday heat__weekday--weekend' : 'heat__weekday'}>
                  {t(`days.${d}`)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {weeks(days).map((row, r) => (
              <tr key={r}>
                {row.map((day, c) =>
                  day ? (
                    <td key={day.date}>
                      <button
                        type="button"
                        className={[
                          'heat__cell',
                          `heat__cell--${levelOf(day, today)}`,
                          day.date === today ? 'heat__cell--today' : '',
                          day.date === selected ? 'heat__cell--selected' : '',
                        ]
                          .filter(Boolean)
                          .join(' ')}
                        data-date={day.date}
                        data-level={levelOf(day, today)}
                        title={describe(day)}
                        aria-label={describe(day)}
                        aria-pressed={day.date === selected}
                        onClick={() => setSelected(day.date === selected ? null : day.date)}
                      >
                        <span aria-hidden="true">{Number(day.date.slice(8))}</span>
                      </button>
                    </td>
                  ) : (
                    <td key={`blank-${c}`} aria-hidden="true" />
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>

        <div className="heat__side">
          <p className="heat__detail" aria-live="polite">
            {picked ? (
              <>
                <strong>{describe(picked)}</strong>
                {picked.minutes > 0 && <span className="muted"> · {t('stats.heat.minutes', { count: picked.minutes })}</span>}
              </>
            ) : (
              <span className="muted">{t('stats.heat.pick')}</span>
            )}
          </p>
          <dl className="heat__facts">
            <div>
              <dt>{t('stats.heat.sessions')}</dt>
              <dd>
                {scheduled ? t('stats.heat.sessionsValue', { achieved, scheduled }) : t('stats.heat.noSessions')}
                {percent && <span className="heat__percent">{percent}</span>}
              </dd>
            </div>
            <div>
              <dt>{t('stats.heat.activeDays')}</dt>
              <dd>{t('stats.daysValue', { count: activeDays })}</dd>
            </div>
            <div>
              <dt>{t('stats.heat.cameraTime')}</dt>
              <dd>{t('stats.heat.minutesValue', { count: minutes })}</dd>
            </div>
          </dl>
          <Legend />
        </div>
      </div>
    );
  }

  return (
    <div className="heat panel" data-testid="month-heatmap" data-month={month}>
      <div className="panel__head">
        <h3 className="panel__title">{t('stats.heat.title')}</h3>
        <div className="panel__nav">
          <button type="button" className="btn btn--ghost btn--small" onClick={() => go(-1)} aria-label={t('stats.heat.prevMonth')}>
            ‹
          </button>
          <span className="panel__range" aria-live="polite">
            {formatMonth(month, language)}
          </span>
          <button
            type="button"
            className="btn btn--ghost btn--small"
            onClick={() => go(1)}
            disabled={month >= thisMonth}
            aria-label={t('stats.heat.nextMonth')}
          >
            ›
          </button>
        </div>
      </div>
      {body}
    </div>
  );
}

function Legend() {
  const { t } = useTranslation();
  return (
    <div className="heat__legend" role="group" aria-label={t('stats.heat.legend')}>
      <span className="heat__legend-item">
        <span className="heat__swatch heat__cell--none" aria-hidden="true" />
        {t('stats.heat.legendNone')}
      </span>
      <span className="heat__legend-item">
        <span className="heat__swatch heat__cell--upcoming" aria-hidden="true" />
        {t('stats.heat.legendUpcoming')}
      </span>
      <span className="heat__legend-item">
        {t('stats.heat.legendScale')}
        <span className="heat__legend-scale">
          <span className="heat__legend-end">0%</span>
          {SCALE.map((level) => (
            <span key={level} className={`heat__swatch heat__cell--${level}`} aria-hidden="true" />
          ))}
          <span className="heat__legend-end">100%</span>
        </span>
      </span>
    </div>
  );
}
