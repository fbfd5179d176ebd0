import { useTranslation } from 'react-i18next';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { DailyStat } from '../api/types';
import { formatDate } from '../lib/dates';

// SVG attributes take plain colours; these match the palette in styles.css.
const SCHEDULED = '#c7d2fe';
const ACHIEVED = '#4f46e5';
const GRID = '#e5e7eb';
const LEGEND_TEXT = '#4b5563';

/** Achieved vs scheduled sessions per day of one week. Loaded lazily: it pulls in recharts. */
export default function WeeklyChart({ data }: { data: DailyStat[] }) {
  const { t, i18n } = useTranslation();
  const rows = data.map((d) => ({
    ...d,
    label: formatDate(d.date, i18n.language, { month: undefined, day: undefined, weekday: 'short' }),
  }));

  // No growing bars for people who asked for less motion.
  const animate = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const most = Math.max(1, ...data.map((d) => Math.max(d.scheduledSessions, d.achievedSessions)));
  const step = Math.ceil(most / 4);
  const top = Math.ceil(most / step) * step;
  const ticks = Array.from({ length: top / step + 1 }, (_, i) => i * step);

  return (
    <div className="chart">
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -24 }} barGap={2}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke={GRID} />
          <XAxis dataKey="label" tickLine={false} axisLine={false} fontSize={12} />
          {/* Whole sessions up to the week's most, at most five lines (not a "nice" 4 over bars of 1). */}
          <YAxis
            allowDecimals={false}
            domain={[0, top]}
            ticks={ticks}
            interval={0}
            tickLine={false}
            axisLine={false}
            fontSize={12}
          />
          <Tooltip cursor={{ fill: 'rgba(79, 70, 229, 0.06)' }} />
          <Legend
            iconType="circle"
            wrapperStyle={{ fontSize: 12 }}
            // In the bars' order in every language (the default sorts by the translated name).
            itemSorter={(item) => (item.dataKey === 'scheduledSessions' ? 0 : 1)}
            formatter={(value) => <span style={{ color: LEGEND_TEXT }}>{value}</span>}
          />
          <Bar dataKey="scheduledSessions" name={t('stats.scheduled')} fill={SCHEDULED} radius={[4, 4, 0, 0]} isAnimationActive={animate} />
          <Bar dataKey="achievedSessions" name={t('stats.achieved')} fill={ACHIEVED} radius={[4, 4, 0, 0]} isAnimationActive={animate} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
