interface ProgressBarProps {
  value: number;
  max: number;
  label: string;
  /** Where the bar counts as "enough" (a challenge's success rate), drawn as a mark. */
  targetPercent?: number;
}

export function ProgressBar({ value, max, label, targetPercent }: ProgressBarProps) {
  const percent = max > 0 ? Math.min(100, (value / max) * 100) : 0;
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value}>
      <div className="progress__fill" style={{ width: `${percent}%` }} />
      {targetPercent !== undefined && <div className="progress__target" style={{ left: `${targetPercent}%` }} />}
    </div>
  );
}
