import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { keys } from './keys';
import type { UserSummary } from './types';

/** `GET /api/challenges/{id}/hosts`: the creator, the co-hosts and today's lock. */
export interface Hosts {
  creator: UserSummary;
  cohosts: UserSummary[];
  locked: boolean;
}

export function useHosts(id: number) {
  return useQuery({
    queryKey: keys.hosts(id),
    queryFn: ({ signal }) => api<Hosts>(`/api/challenges/${id}/hosts`, { signal }),
    staleTime: 30_000,
  });
}

/** Whether `userId` hosts the room (the creator or a co-host). */
export function isHost(hosts: Hosts | undefined, userId: number): boolean {
  if (!hosts) return false;
  return hosts.creator.id === userId || hosts.cohosts.some((c) => c.id === userId);
}

export interface MemberMediaChange {
  userId: number;
  videoStopped?: boolean;
  audioStopped?: boolean;
}

/** A host stops (or allows again) a member's video or audio; the room learns it by `mediaStops`. */
export function useSetMemberMedia(challengeId: number) {
  return useMutation({
    mutationFn: ({ userId, ...body }: MemberMediaChange) =>
      api<unknown>(`/api/challenges/${challengeId}/participants/${userId}/media`, { method: 'PUT', body }),
  });
}

/** A host removes a member from the challenge (their sockets leave the room at once). */
export function useRemoveMember(challengeId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) => api<void>(`/api/challenges/${challengeId}/participants/${userId}`, { method: 'DELETE' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.participants(challengeId) }),
  });
}
