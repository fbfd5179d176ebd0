import { useMutation } from '@tanstack/react-query';
import { api } from './client';
import type { Upload } from './types';

export function useUpload() {
  return useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append('file', file);
      return api<Upload>('/api/uploads', { method: 'POST', body: form });
    },
  });
}
