// Who is signed in: a token kept in this browser (localStorage), from the dev login by name or
// pasted. With a name, an expired token is renewed by signing in again.

const KEY = 'pantheon.auth';

export interface Auth {
  token: string;
  name?: string;
}

export function loadAuth(): Auth | undefined {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Auth) : undefined;
  } catch {
    return undefined;
  }
}

export function saveAuth(a: Auth | undefined) {
  if (a) localStorage.setItem(KEY, JSON.stringify(a));
  else localStorage.removeItem(KEY);
}

/** Signs in by name through `POST /api/v1/auth/dev-login`; `undefined` when the server has no dev login. */
export async function devLogin(name: string): Promise<Auth | undefined> {
  const res = await fetch('/api/v1/auth/dev-login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status === 404) return undefined;
  const body = (await res.json()) as { token?: string; error?: { message: string } };
  if (!res.ok || !body.token) throw new Error(body.error?.message ?? `Sign-in failed (${res.status})`);
  return { token: body.token, name };
}
