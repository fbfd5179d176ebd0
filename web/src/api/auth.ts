import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from './client';
import { keys } from './keys';
import type { AuthProviders, LoginResponse, Profile, ProfileUpdate, User } from './types';

export function useProviders() {
  return useQuery({
    queryKey: keys.providers,
    queryFn: ({ signal }) => api<AuthProviders>('/api/auth/providers', { signal }),
    staleTime: Infinity,
  });
}

/** The signed-in user, or `null` when nobody is signed in (the server's 401). */
export function useMe() {
  return useQuery({
    queryKey: keys.me,
    queryFn: async ({ signal }) => {
      try {
        return await api<User>('/api/me', { signal });
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: 5 * 60_000,
  });
}

export function useDevLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (nickname: string) =>
      api<LoginResponse>('/api/auth/dev-login', { method: 'POST', body: { nickname } }),
    onSuccess: async ({ user }) => {
      queryClient.setQueryData(keys.me, user);
      // `joined` and friends depend on who asks.
      await queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
    },
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>('/api/auth/logout', { method: 'POST' }),
    onSettled: () => {
      queryClient.setQueryData(keys.me, null);
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
    },
  });
}

export function useUpdateMe() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (update: ProfileUpdate) => api<Profile>('/api/me', { method: 'PATCH', body: update }),
    onSuccess: async (user) => {
      queryClient.setQueryData(keys.me, user);
      queryClient.setQueryData(keys.user(user.id), user);
      // Nicknames and images appear inside challenges, participants and rankings.
      await queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
    },
  });
}

/** A public profile with level and recent points; `id` null (a malformed URL) asks nothing. */
export function useUser(id: number | null) {
  return useQuery({
    queryKey: keys.user(id ?? 0),
    queryFn: ({ signal }) => api<Profile>(`/api/users/${id}`, { signal }),
    enabled: id !== null,
  });
}
