import type { ChallengeFilters, MyChallengeState, RankingPeriod } from './types';

/** Every query key in one place, so invalidations can't drift from the queries they target. */
export const keys = {
  providers: ['auth', 'providers'] as const,
  me: ['me'] as const,
  user: (id: number) => ['users', id] as const,
  challenges: ['challenges'] as const,
  challengeList: (filters: ChallengeFilters) => ['challenges', 'list', filters] as const,
  challenge: (id: number) => ['challenges', 'detail', id] as const,
  participants: (id: number) => ['challenges', 'participants', id] as const,
  hosts: (id: number) => ['challenges', 'hosts', id] as const,
  myChallenges: (state: MyChallengeState) => ['challenges', 'mine', state] as const,
  /** Under `challenges` so anything that refreshes challenges refreshes the wish list too. */
  wishes: ['challenges', 'wishes'] as const,
  popularTags: ['tags', 'popular'] as const,
  rankings: (period: RankingPeriod) => ['rankings', period] as const,
  userStats: (userId: number) => ['stats', userId] as const,
  weeklyStats: (userId: number, startDate: string) => ['stats', userId, 'weekly', startDate] as const,
  monthlyStats: (userId: number, month: string) => ['stats', userId, 'monthly', month] as const,
};
