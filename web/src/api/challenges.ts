import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { keys } from './keys';
import type {
  Challenge,
  ChallengeFilters,
  ChallengeInput,
  ChallengePage,
  MyChallengeState,
  Participant,
} from './types';

const PAGE_SIZE = 20;

export function useChallengeList(filters: ChallengeFilters) {
  return useInfiniteQuery({
    queryKey: keys.challengeList(filters),
    queryFn: ({ pageParam, signal }) =>
      api<ChallengePage>('/api/challenges', {
        signal,
        query: {
          q: filters.q.trim(),
          category: filters.category,
          status: filters.status,
          sort: filters.sort,
          limit: PAGE_SIZE,
          cursor: pageParam,
        },
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
}

export function useChallenge(id: number) {
  return useQuery({
    queryKey: keys.challenge(id),
    queryFn: ({ signal }) => api<Challenge>(`/api/challenges/${id}`, { signal }),
  });
}

export function useParticipants(id: number) {
  return useQuery({
    queryKey: keys.participants(id),
    queryFn: ({ signal }) =>
      api<{ items: Participant[] }>(`/api/challenges/${id}/participants`, { signal }),
    select: (data) => data.items,
  });
}

export function useMyChallenges(state: MyChallengeState) {
  return useQuery({
    queryKey: keys.myChallenges(state),
    queryFn: ({ signal }) =>
      api<{ items: Challenge[] }>('/api/me/challenges', { signal, query: { state } }),
    select: (data) => data.items,
  });
}

export function useCreateChallenge() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: ChallengeInput) =>
      api<Challenge>('/api/challenges', { method: 'POST', body: input }),
    onSuccess: async (challenge) => {
      queryClient.setQueryData(keys.challenge(challenge.id), challenge);
      await queryClient.invalidateQueries({ queryKey: keys.challenges });
    },
  });
}

export function useUpdateChallenge(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: Partial<ChallengeInput>) =>
      api<Challenge>(`/api/challenges/${id}`, { method: 'PATCH', body: input }),
    onSuccess: async (challenge) => {
      queryClient.setQueryData(keys.challenge(id), challenge);
      await queryClient.invalidateQueries({ queryKey: keys.challenges });
    },
  });
}

export function useDeleteChallenge(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>(`/api/challenges/${id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: keys.challenge(id) });
      await queryClient.invalidateQueries({ queryKey: keys.challenges });
    },
  });
}

/** Join (`true`) or cancel (`false`) a place; everything showing counts or `joined` refreshes. */
export function useMembership(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (join: boolean) =>
      join
        ? api<unknown>(`/api/challenges/${id}/participants`, { method: 'POST' })
        : api<void>(`/api/challenges/${id}/participants/me`, { method: 'DELETE' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.challenges }),
  });
}
