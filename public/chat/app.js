// The Conveyor chat page: plain modern JS, no build step. It talks to this origin only:
// the HTTP API (/chat/*, /accounts/*, /dev/token) and the WebSocket at /ws (API.md, "ws").

const $ = (id) => document.getElementById(id);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const state = {
  room: '',
  token: '',
  claims: null,
  ws: null,
  /** The newest event received; a reconnect asks for what came after it (since=). */
  lastEventId: null,
  seen: new Set(),
  /** Feed entries in time order: {at, node}. */
  entries: [],
  retries: 0,
  reconnectTimer: 0,
  pingTimer: 0,
};

// ---- small helpers ----

function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

function showError(text) {
  $('error').textContent = text || '';
}

function setStatus(text) {
  $('status').textContent = text;
  $('status').dataset.state = text;
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (state.token) init.headers.authorization = `Bearer ${state.token}`;
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || `${method} ${path} answered ${res.status}`);
  return json;
}

function shortId(uuid) {
  return typeof uuid === 'string' ? uuid.slice(0, 8) : '?';
}

function who(person) {
  if (!person) return 'someone';
  const you = state.claims && person.uuid === state.claims.sub ? ' (you)' : '';
  return `${person.name || shortId(person.uuid)}${you}`;
}

// ---- token and room ----

function useToken(token) {
  state.token = token.trim();
  // Per tab, so two tabs can be two people; gone when the tab closes.
  sessionStorage.setItem('conveyor.chat.token', state.token);
  state.claims = decodeClaims(state.token);
  $('token').value = state.token;
  const c = state.claims;
  $('whoami').textContent = c ? `${c.role} ${c.sub}${c.name ? ` “${c.name}”` : ''}` : state.token ? 'this does not look like a JWT' : '';
  document.body.classList.toggle('is-owner', !!c && c.role === 'model' && c.sub === $('room').value.trim());
  // A model's room is its own uuid.
  if (c && c.role === 'model' && !$('room').value.trim()) $('room').value = c.sub;
}

async function mint(role) {
  showError('');
  // Ids compare byte for byte and a token's sub must be a lowercase uuid.
  $('room').value = $('room').value.trim().toLowerCase();
  const room = $('room').value;
  const body = { role };
  if (role === 'model') {
    if (!UUID.test(room)) $('room').value = crypto.randomUUID();
    body.sub = $('room').value.trim();
  }
  const name = $('name').value.trim();
  if (name) body.name = name;
  try {
    const answer = await api('POST', '/dev/token', body);
    useToken(answer.token);
  } catch (err) {
    showError(`Could not mint a token (dev mode only): ${err.message}`);
  }
}

// ---- the feed ----

function describe(event) {
  const d = event.data || {};
  switch (event.type) {
    case 'message':
      return { who: who(d.sender), text: d.message };
    case 'donate':
      return { who: who(d.sender), text: `donated ${d.sum}${d.message ? ` — ${d.message}` : ''}` };
    case 'change_sponsor':
      return { who: who(d.sponsor), text: `is the new sponsor (${d.total} in all)` };
    case 'goal_reached':
      return { who: 'Goal reached', text: `“${d.name}”: ${d.sum} of ${d.require_sum}` };
    case 'goal_progress':
      return { who: 'Goal', text: `“${d.name}”: ${d.sum} of ${d.require_sum}` };
    case 'donation_rejected':
      return { who: 'Your donation', text: `of ${d.sum} was rejected (${d.reason})` };
    default:
      return { who: event.type, text: JSON.stringify(d) };
  }
}

/** Adds an event once, in time order (history may arrive after the first live events). */
function show(event) {
  if (!event || !event.event_id || state.seen.has(event.event_id)) return;
  state.seen.add(event.event_id);
  const { who: author, text } = describe(event);
  const li = document.createElement('li');
  li.dataset.eventId = event.event_id;
  li.dataset.type = event.type;
  li.className = `event ${event.type}`;
  const isPrivate = (event.data && event.data.is_public === false) || event.type === 'donation_rejected';
  if (isPrivate) li.classList.add('private');
  const time = document.createElement('time');
  time.dateTime = event.at;
  time.textContent = new Date(event.at).toLocaleTimeString();
  const name = document.createElement('strong');
  name.textContent = author;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = ` ${text}`;
  li.append(time, ' ', name, body);
  if (isPrivate) {
    const tag = document.createElement('em');
    tag.textContent = ' private';
    li.append(tag);
  }
  const at = Date.parse(event.at) || Date.now();
  let i = state.entries.length;
  while (i > 0 && state.entries[i - 1].at > at) i--;
  const before = state.entries[i];
  state.entries.splice(i, 0, { at, node: li });
  $('feed').insertBefore(li, before ? before.node : null);
  li.scrollIntoView({ block: 'nearest' });

  if (event.type === 'change_sponsor') $('sponsor').textContent = `${who(event.data.sponsor)} — ${event.data.total}`;
  if (event.type === 'donate' || event.type === 'goal_reached' || event.type === 'goal_progress') refreshGoals();
  if (event.type === 'donate' || event.type === 'donation_rejected') refreshBalance();
}

async function loadHistory() {
  try {
    const answer = await api('GET', `/chat/event/history?room=${encodeURIComponent(state.room)}`);
    for (const event of answer.events) show(event);
    const newest = answer.events.at(-1);
    if (!state.lastEventId && newest) state.lastEventId = newest.event_id;
  } catch (err) {
    showError(`History: ${err.message}`);
  }
}

async function refreshGoals() {
  try {
    const { goals } = await api('GET', `/chat/goals?room=${encodeURIComponent(state.room)}`);
    const list = $('goals');
    list.replaceChildren();
    for (const g of goals) {
      const li = document.createElement('li');
      const meter = document.createElement('progress');
      meter.max = Number(g.require_sum);
      meter.value = Math.min(Number(g.sum), Number(g.require_sum));
      li.append(`${g.name}: ${g.sum} / ${g.require_sum} `, meter);
      list.append(li);
    }
    if (goals.length === 0) list.textContent = 'none';
  } catch {
    /* the room may not exist yet */
  }
}

async function refreshSponsor() {
  try {
    const { sponsor } = await api('GET', `/chat/sponsor?room=${encodeURIComponent(state.room)}`);
    $('sponsor').textContent = sponsor ? `${who(sponsor)} — ${sponsor.total}` : 'nobody yet';
  } catch {
    /* the room may not exist yet */
  }
}

async function refreshBalance() {
  try {
    const answer = await api('GET', '/accounts/me');
    $('balance').textContent = answer.balance;
  } catch {
    $('balance').textContent = '—';
  }
}

// ---- the socket ----

function disconnect() {
  clearTimeout(state.reconnectTimer);
  clearInterval(state.pingTimer);
  if (state.ws) {
    state.ws.onclose = null;
    state.ws.close(1000);
    state.ws = null;
  }
}

function connect() {
  disconnect();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const since = state.lastEventId ? `&since=${encodeURIComponent(state.lastEventId)}` : '';
  // The token rides as a subprotocol so it stays out of URLs and access logs.
  const ws = new WebSocket(`${scheme}://${location.host}/ws?room=${encodeURIComponent(state.room)}${since}`, [`bearer.${state.token}`]);
  state.ws = ws;
  setStatus('connecting');
  ws.onmessage = (message) => {
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    if (frame.type === 'welcome') {
      state.retries = 0;
      setStatus('live');
      $('status').title = `connection ${frame.connection_id}`;
      if (!since) loadHistory();
      // Registered by now (the handshake saw the token), so an owner's own room exists.
      refreshGoals();
      refreshSponsor();
      refreshBalance();
      return;
    }
    if (frame.type === 'refetch') return loadHistory();
    if (frame.type === 'pong') return;
    show(frame);
    state.lastEventId = frame.event_id;
  };
  ws.onclose = (e) => {
    clearInterval(state.pingTimer);
    state.ws = null;
    // A refused handshake closes with 1006 before any welcome; keep trying, slower each time.
    state.retries++;
    const delay = Math.min(10_000, 500 * 2 ** Math.min(state.retries, 5));
    setStatus(e.code === 1013 ? 'too slow, reconnecting' : 'reconnecting');
    if (state.retries > 3) showError('Cannot stay connected: is the token valid and the room a uuid?');
    state.reconnectTimer = setTimeout(connect, delay);
  };
  // Keeps idle proxies from cutting the connection.
  state.pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), 25_000);
}

function start() {
  showError('');
  const room = $('room').value.trim();
  if (!UUID.test(room)) return showError('The room must be a uuid (the model’s id). Press “New room” for one.');
  if (!state.claims) return showError('Paste a token, or mint one in dev mode.');
  if (room !== state.room) {
    state.room = room;
    state.lastEventId = null;
    state.seen.clear();
    state.entries = [];
    $('feed').replaceChildren();
  }
  document.body.classList.toggle('is-owner', state.claims.role === 'model' && state.claims.sub === room);
  const url = new URL(location.href);
  url.searchParams.set('room', room);
  history.replaceState(null, '', url);
  connect();
}

// ---- forms ----

async function submit(form, action) {
  showError('');
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    await action();
    form.reset();
  } catch (err) {
    showError(err.message);
  } finally {
    button.disabled = false;
  }
}

$('say').addEventListener('submit', (e) => {
  e.preventDefault();
  submit(e.target, () => api('POST', '/chat/message/add', { room: state.room, message: $('message').value, is_public: !$('private').checked }));
});

$('donate').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('donate-message').value.trim();
  const body = { room: state.room, sum: $('sum').value.trim(), ...(text ? { message: { message: text, is_public: !$('donate-private').checked } } : {}) };
  submit(e.target, () => api('POST', '/chat/donat/add', body, { 'idempotency-key': crypto.randomUUID() }));
});

$('goal').addEventListener('submit', (e) => {
  e.preventDefault();
  submit(e.target, async () => {
    await api('POST', '/chat/goals', { name: $('goal-name').value, require_sum: $('goal-sum').value.trim() });
    await refreshGoals();
  });
});

$('top-up').addEventListener('click', async () => {
  showError('');
  if (!state.claims) return showError('Mint or paste a token first.');
  try {
    // Dev tokens are never admin: the dev server tops up the caller's own wallet instead.
    await api('POST', '/dev/top-up');
    await refreshBalance();
  } catch (err) {
    showError(`Top-up (dev mode only): ${err.message}`);
  }
});

$('new-room').addEventListener('click', () => {
  $('room').value = crypto.randomUUID();
});
$('mint-viewer').addEventListener('click', () => mint('client'));
$('mint-owner').addEventListener('click', () => mint('model'));
$('token').addEventListener('change', () => useToken($('token').value));
$('connect').addEventListener('click', () => {
  useToken($('token').value);
  start();
});

const params = new URLSearchParams(location.search);
if (params.get('room')) $('room').value = params.get('room');
const savedToken = sessionStorage.getItem('conveyor.chat.token');
if (savedToken) useToken(savedToken);
