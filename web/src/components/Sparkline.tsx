import { useTranslation } from 'react-i18next';

interface SparklineProps {
  /** Oldest first; the last one is today. */
  values: number[];
  width?: number;
  height?: number;
}

/**
 * A tiny line of the last days' points: plain SVG (no chart library on the first page load),
 * described in words for screen readers and as a tooltip.
 */
export function Sparkline({ values, width = 64, height = 22 }: SparklineProps) {
  const { t, i18n } = useTranslation();
  const number = new Intl.NumberFormat(i18n.language);
  const total = values.reduce((sum, v) => sum + v, 0);
  const label = t('sparkline.label', { days: values.length, values: values.map((v) => number.format(v)).join(', '), total: number.format(total) });
  const max = Math.max(...values, 0);
  const pad = 2.5;
  const step = values.length > 1 ? (width - pad * 2) / (values.length - 1) : 0;
  const points = values.map((v, i) => {
    const x = pad + i * step;
    const y = max > 0 ? height - pad - (v / max) * (height - pad * 2) : height - pad;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10] as const;
  });
  const line = points.map(([x, y]) => `${x},${y}`).join(' ');
  const first = points[0];
  const last = points[points.length - 1];

  return (
    <svg
      className={total > 0 ? 'sparkline' : 'sparkline sparkline--flat'}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={label}
      data-testid="sparkline"
      data-values={values.join(',')}
    >
      <title>{label}</title>
      {first && last && (
        <>
          <polygon className="sparkline__area" points={`${first[0]},${height} ${line} ${last[0]},${height}`} />
          <polyline className="sparkline__line" points={line} />
          <circle className="sparkline__dot" cx={last[0]} cy={last[1]} r={2.2} />
        </>
      )}
    </svg>
  );
}
