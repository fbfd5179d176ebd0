import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
  type QueryKey,
} from '@tanstack/react-query';
import { api } from './client';
import { keys } from './keys';
import type {
  Challenge,
  ChallengeFilters,
  ChallengeInput,
  ChallengePage,
  MyChallengeState,
  Participant,
  PopularTag,
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
          tag: filters.tag,
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
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.challenges }),
        queryClient.invalidateQueries({ queryKey: keys.popularTags }),
      ]);
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
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.challenges }),
        queryClient.invalidateQueries({ queryKey: keys.popularTags }),
      ]);
    },
  });
}

export function useDeleteChallenge(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>(`/api/challenges/${id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: keys.challenge(id) });
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.challenges }),
        queryClient.invalidateQueries({ queryKey: keys.popularTags }),
      ]);
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

/** The most used tags among challenges that have not ended (the row above the list). */
export function usePopularTags() {
  return useQuery({
    queryKey: keys.popularTags,
    queryFn: ({ signal }) => api<PopularTag[]>('/api/tags/popular', { signal, query: { limit: 12 } }),
    staleTime: 60_000,
  });
}

/** My wish list (찜), newest wish first, page by page. */
export function useWishes() {
  return useInfiniteQuery({
    queryKey: keys.wishes,
    queryFn: ({ pageParam, signal }) =>
      api<ChallengePage>('/api/me/wishes', { signal, query: { limit: PAGE_SIZE, cursor: pageParam } }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
}

/** Sets (a text) or clears (`null`, blank) the notice; creator only, at any time. */
export function useUpdateNotice(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (notice: string | null) =>
      api<Challenge>(`/api/challenges/${id}/notice`, { method: 'PUT', body: { notice } }),
    onSuccess: async (challenge) => {
      queryClient.setQueryData(keys.challenge(id), challenge);
      patchCachedChallenge(queryClient, id, () => ({ notice: challenge.notice, noticeUpdatedAt: challenge.noticeUpdatedAt }));
      await queryClient.invalidateQueries({ queryKey: keys.challenges, refetchType: 'none' });
    },
  });
}

type Cached = Challenge | ChallengePage | InfiniteData<ChallengePage> | { items: Challenge[] } | undefined;

function isChallenge(value: unknown): value is Challenge {
  return typeof value === 'object' && value !== null && 'wishCount' in value && 'id' in value;
}

function patchOne(value: unknown, id: number, patch: (c: Challenge) => Partial<Challenge>): unknown {
  return isChallenge(value) && value.id === id ? { ...value, ...patch(value) } : value;
}

/**
 * Changes one challenge wherever the cache holds it: its detail, every list page, my
 * challenges, the wish list (all live under the `challenges` key).
 */
export function patchCachedChallenge(queryClient: QueryClient, id: number, patch: (c: Challenge) => Partial<Challenge>) {
  queryClient.setQueriesData<Cached>({ queryKey: keys.challenges }, (data) => {
    if (!data || typeof data !== 'object') return data;
    if ('pages' in data) {
      return { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.map((c) => patchOne(c, id, patch) as Challenge) })) };
    }
    if ('items' in data) {
      // Participants also come as `{items}`; only challenges are touched.
      return { ...data, items: data.items.map((c) => patchOne(c, id, patch) as Challenge) };
    }
    return patchOne(data, id, patch) as Challenge;
  });
}

/**
 * Puts a challenge on (`true`) or takes it off (`false`) my wish list. The heart and the count
 * change at once everywhere the challenge is shown; a failure puts them back. Toggles of one
 * challenge run one after another (a mutation scope), so the last click wins on the server too.
 */
export function useWish(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    scope: { id: `wish-${id}` },
    mutationFn: (wish: boolean) => api<void>(`/api/challenges/${id}/wish`, { method: wish ? 'PUT' : 'DELETE' }),
    onMutate: async (wish) => {
      // A detail fetch in flight would answer with the old heart; lists are left alone.
      await queryClient.cancelQueries({ queryKey: keys.challenge(id) });
      const before: [QueryKey, unknown][] = queryClient.getQueriesData({ queryKey: keys.challenges });
      patchCachedChallenge(queryClient, id, (c) =>
        c.wished === wish
          ? {}
          : {
              wished: wish,
              wishCount: Math.max(0, c.wishCount + (wish ? 1 : -1)),
              popularity: Math.max(0, c.popularity + (wish ? 1 : -1)),
            },
      );
      return { before };
    },
    onError: (_error, _wish, context) => {
      for (const [key, data] of context?.before ?? []) queryClient.setQueryData(key, data);
    },
    onSettled: async () => {
      // The wish list itself changes; other lists keep their order until they are next shown.
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.wishes }),
        queryClient.invalidateQueries({ queryKey: keys.challenge(id) }),
        queryClient.invalidateQueries({ queryKey: keys.challenges, refetchType: 'none' }),
      ]);
    },
  });
}
