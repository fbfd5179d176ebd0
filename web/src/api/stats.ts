import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { keys } from './keys';
import type { DailyStat, RankingPeriod, Rankings, UserStats } from './types';

export function useRankings(period: RankingPeriod) {
  return useQuery({
    queryKey: keys.rankings(period),
    queryFn: ({ signal }) => api<Rankings>('/api/rankings', { signal, query: { period, limit: 100 } }),
  });
}

export function useUserStats(userId: number) {
  return useQuery({
    queryKey: keys.userStats(userId),
    queryFn: ({ signal }) => api<UserStats>(`/api/challenges/stats/user/${userId}`, { signal }),
  });
}

export function useWeeklyStats(userId: number, startDate: string) {
  return useQuery({
    queryKey: keys.weeklyStats(userId, startDate),
    queryFn: ({ signal }) =>
      api<DailyStat[]>(`/api/challenges/stats/user/${userId}/weekly`, { signal, query: { startDate } }),
  });
}
