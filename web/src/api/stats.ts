import { keepPreviousData, useQuery } from '@tanstack/react-query';
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

/** Every day of `month` (`YYYY-MM`), in the server's timezone, for the heat map. */
export function useMonthlyStats(userId: number, month: string) {
  return useQuery({
    queryKey: keys.monthlyStats(userId, month),
    queryFn: ({ signal }) =>
      api<DailyStat[]>(`/api/challenges/stats/user/${userId}/monthly`, { signal, query: { month } }),
    // Paging months keeps the last month on screen (dimmed) until the next one arrives.
    placeholderData: keepPreviousData,
  });
}
