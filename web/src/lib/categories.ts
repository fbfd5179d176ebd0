import type { Category } from '../api/types';

/** Stands in for a missing thumbnail and decorates category chips. */
export const CATEGORY_ICONS: Record<Category, string> = {
  STUDY: '📚',
  WORKOUT: '💪',
  MORNING: '🌅',
  READING: '📖',
  HOBBY: '🎨',
  ETC: '✨',
};
