/**
 * The operator API (docs/moderation.md): the report queue with context, decisions, and the
 * audit log. Everyone else gets 403 `OPERATOR_ONLY`.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { ChatMessage } from './types';

export type Decision = 'dismiss' | 'warn' | 'suspend' | 'deleteChallenge';

export interface QueuedReport {
  id: number;
  targetType: 'user' | 'message' | 'challenge';
  subjectId: number | null;
  challengeId: number | null;
  messageId: number | null;
  reason: string;
  detail: string;
  status: 'OPEN' | 'DISMISSED' | 'ACTIONED';
  createdAt: string;
  reporterId: number;
  context: ChatMessage[];
}

export interface AuditEntry {
  id: number;
  actorId: number | null;
  action: string;
  target: string;
  reason: string;
  createdAt: string;
}

export const adminKeys = {
  reports: ['admin', 'reports'] as const,
  audit: ['admin', 'audit'] as const,
};

export function useReportQueue() {
  return useQuery({
    queryKey: adminKeys.reports,
    queryFn: () => api<{ items: QueuedReport[] }>('/api/admin/reports'),
    retry: false,
  });
}

export function useAuditLog(enabled: boolean) {
  return useQuery({
    queryKey: adminKeys.audit,
    queryFn: () => api<{ items: AuditEntry[] }>('/api/admin/audit'),
    enabled,
    retry: false,
  });
}

export function useDecide() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { report: number; action: Decision; reason: string; days: number | null }) =>
      api(`/api/admin/reports/${input.report}/decision`, {
        method: 'POST',
        body: { action: input.action, reason: input.reason, days: input.days },
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['admin'] });
    },
  });
}
