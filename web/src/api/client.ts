/**
 * The one way the app talks to the server: same-origin cookies, the selected language as
 * Accept-Language (the server localizes error messages by it), and every failure turned into
 * an ApiError carrying the server's `{code, message, field}`.
 */
import i18n from '../i18n';
import { hasCodeText } from './errorCodes';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Status 0: the request never got an answer (offline, server down). */
export const NETWORK_ERROR = 'NETWORK_ERROR';

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON, or as is when it is FormData. */
  body?: unknown;
  query?: Record<string, string | number | null | undefined>;
  signal?: AbortSignal;
}

function buildUrl(path: string, query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function isErrorBody(value: unknown): value is { code: string; message: string; field?: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not our JSON (a proxy's HTML page, an empty body): fall back to the status below.
  }
  if (isErrorBody(body)) {
    return new ApiError(response.status, body.code, body.message, body.field);
  }
  return new ApiError(response.status, `HTTP_${response.status}`, i18n.t('errors.http', { status: response.status }));
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = 'GET', body, query, signal } = options;
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Accept-Language': i18n.language === 'en' ? 'en' : 'ko',
    // Marks the request as the app's own: the server refuses cookie-signed mutations that carry
    // neither an allowed Origin nor this header nor a JSON body (docs/architecture.md, Sessions).
    'X-Requested-With': 'XMLHttpRequest',
  };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }

  let response: Response;
  try {
    response = await fetch(buildUrl(path, query), {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, NETWORK_ERROR, i18n.t('errors.network'));
  }

  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * The text to show for any error a query or mutation produced: the server's own (localized by
 * Accept-Language), else the app's text for its code (api/errorCodes.json), else a generic one.
 */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.message) return error.message;
    if (hasCodeText(error.code)) return i18n.t(`errors.codes.${error.code}`);
  }
  return i18n.t('errors.unknown');
}

export function isApiError(error: unknown, ...codes: string[]): error is ApiError {
  return error instanceof ApiError && (codes.length === 0 || codes.includes(error.code));
}

/** A 404 from an endpoint the server does not offer yet reads like "coming soon", not a fault. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}
