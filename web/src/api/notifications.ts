/**
 * Notifications (the bell and its list), notification settings and the calendar feed address.
 * The bell's count is live: `notification` frames on the tab's socket carry the new unread
 * count, and reading sends the new one back in the answer.
 */
import { useEffect } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { realtime } from '../realtime/socket';
import { api } from './client';

export type NotificationKind =
  | 'SESSION_REMINDER'
  | 'SESSION_ACHIEVED'
  | 'CHALLENGE_COMPLETED'
  | 'CHALLENGE_FAILED'
  | 'RANK_UP'
  | 'NOTICE_CHANGED'
  | 'NEW_MEMBER'
  | 'REMOVED_FROM_CHALLENGE'
  | 'REPORT_RECEIVED'
  | 'MODERATION_WARNING';

/** The kinds a user may turn off (moderation notices are always sent). */
export type SettableKind = Exclude<NotificationKind, 'REMOVED_FROM_CHALLENGE' | 'REPORT_RECEIVED' | 'MODERATION_WARNING'>;

export interface AppNotification {
  id: number;
  kind: NotificationKind;
  challengeId: number | null;
  data: {
    challengeTitle?: string;
    minutes?: number;
    startsAt?: string;
    date?: string;
    rank?: number;
    previousRank?: number;
    nickname?: string;
    reason?: string;
  };
  createdAt: string;
  read: boolean;
}

export interface NotificationPage {
  items: AppNotification[];
  nextCursor: string | null;
  unreadCount: number;
}

export const notificationKeys = {
  list: ['notifications'] as const,
  settings: ['notifications', 'settings'] as const,
  calendar: ['calendar'] as const,
};

export function useNotifications(enabled: boolean) {
  return useQuery({
    queryKey: notificationKeys.list,
    queryFn: ({ signal }) => api<NotificationPage>('/api/me/notifications', { signal, query: { limit: 20 } }),
    enabled,
  });
}

/** Keeps the socket open while signed in and folds `notification` frames into the list. */
export function useLiveNotifications(enabled: boolean) {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!enabled) return undefined;
    const release = realtime.acquire();
    const unsubscribe = realtime.onFrame((frame) => {
      if (frame.type !== 'notification') return;
      queryClient.setQueryData<NotificationPage>(notificationKeys.list, (page) => {
        const items = page?.items ?? [];
        if (items.some((n) => n.id === frame.notification.id)) return page;
        return {
          items: [frame.notification, ...items],
          nextCursor: page?.nextCursor ?? null,
          unreadCount: frame.unreadCount,
        };
      });
    });
    return () => {
      unsubscribe();
      release();
    };
  }, [enabled, queryClient]);
}

export function useMarkRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (upTo: number) =>
      api<{ marked: number; unreadCount: number }>('/api/me/notifications/read', { method: 'POST', body: { upTo } }),
    onSuccess: ({ unreadCount }, upTo) => {
      queryClient.setQueryData<NotificationPage>(notificationKeys.list, (page) =>
        page
          ? {
              ...page,
              unreadCount,
              items: page.items.map((n) => (n.id <= upTo ? { ...n, read: true } : n)),
            }
          : page,
      );
    },
  });
}

export function useCalendarUrl() {
  return useQuery({
    queryKey: notificationKeys.calendar,
    queryFn: ({ signal }) => api<{ url: string }>('/api/me/calendar', { signal }),
  });
}

export function useResetCalendar() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api<{ url: string }>('/api/me/calendar/reset', { method: 'POST' }),
    onSuccess: (data) => queryClient.setQueryData(notificationKeys.calendar, data),
  });
}
