// The web room: sign in, list and create rooms, and the live room itself, all through the client
// SDK (`pantheon/client`). Pages are drawn from the SDK's RoomModel; every text from the server
// goes into the page as text, never as HTML.
import { PantheonClient, PantheonError, type RoomDto } from 'pantheon/client';
import { clear, h } from './dom';
import { RoomPage } from './room-page';
import { devLogin, loadAuth, saveAuth, type Auth } from './session';
import './style.css';

const app = document.getElementById('app')!;
let client: PantheonClient | undefined;
let auth = loadAuth();
let page: { close(): void } | undefined;

function connect(a: Auth): PantheonClient {
  client?.close();
  return new PantheonClient(location.origin, {
    token: () => auth?.token ?? a.token,
    // A name signs in again for a fresh token; a pasted token cannot be renewed here.
    refreshToken: async () => {
      if (!auth?.name) throw new Error('The token expired: sign in again');
      const fresh = await devLogin(auth.name);
      if (!fresh) throw new Error('The token expired: sign in again');
      auth = fresh;
      saveAuth(fresh);
      return fresh.token;
    },
    socket: { reconnectionDelay: 500, reconnectionDelayMax: 3000 },
  });
}

export function navigate(path: string) {
  if (location.pathname !== path) history.pushState(null, '', path);
  void route();
}

window.addEventListener('popstate', () => void route());

async function route() {
  page?.close();
  page = undefined;
  clear(app);
  if (!auth) return signIn();
  client ??= connect(auth);
  const m = /^\/rooms\/([0-9a-f-]{36})\/?$/.exec(location.pathname);
  if (m) {
    const p = new RoomPage(client, m[1]!, { navigate, signOut });
    page = p;
    app.append(p.root);
    await p.start();
    return;
  }
  await roomsPage(client);
}

function signOut() {
  saveAuth(undefined);
  auth = undefined;
  client?.close();
  client = undefined;
  navigate('/');
}

function signIn() {
  const error = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { id: 'signin-name', name: 'name', autocomplete: 'nickname', required: true, maxLength: 60, placeholder: 'Your name' });
  const token = h('input', { id: 'signin-token', name: 'token', autocomplete: 'off', placeholder: 'or paste a token' });
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        try {
          if (token.value.trim()) auth = { token: token.value.trim() };
          else {
            const a = await devLogin(name.value.trim());
            if (!a) {
              error.textContent = 'This server has no sign-in by name. Paste a token (npm run token).';
              return;
            }
            auth = a;
          }
          saveAuth(auth);
          navigate(location.pathname);
        } catch (err) {
          error.textContent = (err as Error).message;
        }
      },
    },
    h('h1', {}, 'Pantheon'),
    h('p', { class: 'muted' }, 'Rooms where people, bots and a team of AI agents work together.'),
    h('label', { for: 'signin-name' }, 'Name'),
    name,
    h('label', { for: 'signin-token' }, 'Token'),
    token,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    error,
  );
  token.addEventListener('input', () => (name.required = !token.value.trim()));
  app.append(h('main', { class: 'center' }, form));
  name.focus();
}

async function roomsPage(c: PantheonClient) {
  const list = h('ul', { class: 'rooms', 'aria-label': 'Your rooms' });
  const error = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { id: 'room-name', required: true, maxLength: 200, placeholder: 'Room name' });
  const mode = h(
    'select',
    { id: 'room-mode' },
    h('option', { value: 'manual' }, 'manual: tagged agents answer'),
    h('option', { value: 'roundtable' }, 'roundtable: every agent in turn'),
    h('option', { value: 'orchestrator' }, 'orchestrator: a manager picks'),
  );
  const form = h(
    'form',
    {
      class: 'card row-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        try {
          const room = await c.rest.createRoom({ name: name.value.trim(), mode: mode.value as RoomDto['mode'] });
          await c.rest.createSession(room.id, 'General');
          navigate(`/rooms/${room.id}`);
        } catch (err) {
          error.textContent = (err as Error).message;
        }
      },
    },
    h('h2', {}, 'New room'),
    h('label', { for: 'room-name' }, 'Name'),
    name,
    h('label', { for: 'room-mode' }, 'Mode'),
    mode,
    h('button', { type: 'submit', class: 'primary' }, 'Create room'),
  );
  app.append(
    h(
      'div',
      { class: 'page' },
      h('header', { class: 'topbar' }, h('strong', { class: 'brand' }, 'Pantheon'), h('span', { class: 'spacer' }), h('button', { type: 'button', onclick: signOut }, 'Sign out')),
      h('main', { class: 'rooms-page' }, h('section', { class: 'card' }, h('h2', {}, 'Rooms'), list), form, error),
    ),
  );
  try {
    const rooms = await c.rest.listRooms();
    if (!rooms.items.length) list.append(h('li', { class: 'muted' }, 'No rooms yet: create one.'));
    for (const r of rooms.items) {
      list.append(
        h(
          'li',
          {},
          h('a', { href: `/rooms/${r.id}`, onclick: (e: Event) => (e.preventDefault(), navigate(`/rooms/${r.id}`)) }, r.name),
          h('span', { class: 'badge' }, r.mode),
          r.role ? h('span', { class: 'muted' }, r.role) : null,
        ),
      );
    }
  } catch (err) {
    if (err instanceof PantheonError && (err.code === 'TOKEN_INVALID' || err.code === 'UNAUTHENTICATED')) return signOut();
    error.textContent = (err as Error).message;
  }
}

void route();
