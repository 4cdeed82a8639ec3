// The REST API, authenticated by the HttpOnly tpccma_key cookie that /ui/session sets.

/** No valid key: the dashboard shows the sign-in form. */
export class Unauthorized extends Error {}

/** Any other failed call, with the ProblemDetails the service returned. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !path.startsWith('/ui/session')) throw new Unauthorized();
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON: the status says enough */ }
    throw new ApiError(response.status, problem);
  }
  return response.status === 204 ? null : response.json();
}

export const signIn = (key) => api('/ui/session', { method: 'POST', body: { key } });
export const signOut = () => api('/ui/session', { method: 'DELETE' });
