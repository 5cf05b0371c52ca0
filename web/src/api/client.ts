/**
 * The one way the console talks to the API: same-origin fetch with the session cookie (sent by
 * the browser, never readable by scripts) and the CSRF token, kept in memory only, on writes.
 */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldProblem[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly retryAfter: number | null;

  constructor(problem: Problem, retryAfter: number | null) {
    super(problem.detail || problem.title);
    this.status = problem.status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** The problem's message for one form field (`/body/password`, `password` and `/querystring/to` all name their last segment). */
  fieldMessage(name: string): string | null {
    const hit = this.problem.errors?.find((e) => fieldName(e.field) === name);
    return hit ? hit.message : null;
  }
}

export const fieldName = (field: string): string => {
  const parts = field.split('/').filter(Boolean);
  const cut = parts[0] === 'body' || parts[0] === 'querystring' || parts[0] === 'params' ? parts.slice(1) : parts;
  return cut[0] ?? '';
};

let csrfToken: string | null = null;
export const setCsrfToken = (token: string | null) => {
  csrfToken = token;
};

let onUnauthorized: (() => void) | null = null;
/** Called when a request answers 401 (session expired or signed out elsewhere). */
export const setUnauthorizedHandler = (fn: (() => void) | null) => {
  onUnauthorized = fn;
};

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export async function request<T>(method: Method, path: string, body?: unknown, init: { query?: Query; rawBody?: BodyInit; contentType?: string; quiet401?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let payload: BodyInit | undefined;
  if (init.rawBody !== undefined) {
    payload = init.rawBody;
    headers['content-type'] = init.contentType ?? 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(withQuery(`/api/v1${path}`, init.query), { method, headers, body: payload, credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const data: unknown = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const problem: Problem = typeof data === 'object' && data !== null && 'status' in data
      ? (data as Problem)
      : { title: res.statusText, status: res.status, detail: typeof data === 'string' ? data.slice(0, 300) : res.statusText };
    if (res.status === 401 && !init.quiet401) onUnauthorized?.();
    const retry = res.headers.get('retry-after');
    throw new ApiError(problem, retry ? Number(retry) : null);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, undefined, { query }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, body ?? {}),
  del: <T>(path: string) => request<T>('DELETE', path),
};

/** True when the API answers 404 for a whole endpoint (not yet part of this server). */
export const isMissingEndpoint = (err: unknown) => err instanceof ApiError && err.status === 404 && /no route for/.test(err.problem.detail);

/**
 * Uploads a file as the request body with upload progress (fetch cannot report it), under the
 * same session and CSRF rules as every other write.
 */
export function uploadFile<T>(path: string, file: Blob, contentType: string, onProgress: (sent: number, total: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/api/v1${path}`);
    xhr.setRequestHeader('content-type', contentType);
    xhr.setRequestHeader('accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError({ title: 'Network error', status: 0, detail: 'the upload was interrupted' }, null));
    xhr.onload = () => {
      let data: unknown;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as T);
      else reject(new ApiError((data as Problem) ?? { title: xhr.statusText, status: xhr.status, detail: xhr.statusText }, null));
    };
    xhr.send(file);
  });
}
