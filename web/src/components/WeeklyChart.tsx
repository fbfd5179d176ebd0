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

  return (
    <div className="chart">
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -24 }} barGap={2}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke={GRID} />
          <XAxis dataKey="label" tickLine={false} axisLine={false} fontSize={12} />
          <YAxis allowDecimals={false} tickLine={false} axisLine={false} fontSize={12} />
          <Tooltip cursor={{ fill: 'rgba(79, 70, 229, 0.06)' }} />
          <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} formatter={(value) => <span style={{ color: LEGEND_TEXT }}>{value}</span>} />
          <Bar dataKey="scheduledSessions" name={t('stats.scheduled')} fill={SCHEDULED} radius={[4, 4, 0, 0]} />
          <Bar dataKey="achievedSessions" name={t('stats.achieved')} fill={ACHIEVED} radius={[4, 4, 0, 0]} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
