/**
 * Levels follow from the all-time score (docs/api-additions.md): level 1 at 0, and going from
 * level L to L + 1 costs 100 + 20·(L − 1) points, so level L starts at 10·(L − 1)² + 90·(L − 1).
 */
export function levelStart(level: number): number {
  const l = Math.max(1, Math.floor(level)) - 1;
  return 10 * l * l + 90 * l;
}

/** How far into the current level a score is, 0–1 (the server gives `nextLevelScore`). */
export function levelProgress(score: number, level: number, nextLevelScore: number): number {
  const start = levelStart(level);
  const span = nextLevelScore - start;
  if (span <= 0) return 1;
  return Math.min(1, Math.max(0, (score - start) / span));
}
