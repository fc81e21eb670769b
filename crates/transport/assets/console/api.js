// Talktime's public protocol as a client app speaks it: REST with the JSON envelope, and the
// three WebSocket endpoints. The console uses nothing else, so this file doubles as a reference
// client for app developers (see docs/realtime.md for every event).

/** A failed request: the envelope's `code` and `message`, and the HTTP status. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || 'http_error';
    this.errors = body?.errors || [];
  }
}

/** REST calls with a bearer token (users, telecallers) or the admin cookie (no token). */
export class Api {
  constructor(token = null) {
    this.token = token;
  }

  async request(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
    const text = await response.text();
    const envelope = text ? JSON.parse(text) : {};
    if (!response.ok) throw new ApiError(response.status, envelope);
    return envelope;
  }

  get(path) { return this.request('GET', path); }
  post(path, body = {}) { return this.request('POST', path, body); }
  patch(path, body = {}) { return this.request('PATCH', path, body); }
  put(path, body = {}) { return this.request('PUT', path, body); }
  delete(path) { return this.request('DELETE', path); }
}

/**
 * One WebSocket endpoint (`/ws/user`, `/ws/telecaller`, `/ws/admin`). Browsers cannot set
 * headers on a WebSocket, so the token rides in the `token` query parameter (admins use their
 * cookie). Every server frame is `{event, data, ref?}`; `on(event, fn)` subscribes. The socket
 * reconnects by itself (the server's `session:ready` then says where things stand) unless it
 * was closed for good (4003: logged out or blocked).
 */
export class Socket {
  constructor(role, token) {
    this.role = role;
    this.token = token;
    this.handlers = new Map();
    this.backoff = 500;
    this.closedForGood = false;
    this.watching = [];
    this.nextRef = 1;
  }

  on(event, handler) {
    const list = this.handlers.get(event) || [];
    list.push(handler);
    this.handlers.set(event, list);
    return this;
  }

  emit(event, data, frame) {
    for (const handler of [...(this.handlers.get(event) || []), ...(this.handlers.get('*') || [])]) {
      handler(data, frame);
    }
  }

  open() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = this.token ? `?token=${encodeURIComponent(this.token)}` : '';
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/${this.role}${query}`);
    this.ws.onopen = () => {
      this.backoff = 500;
      // A new connection watches nobody: say again whose presence we show.
      if (this.watching.length) this.send('presence:watch', { telecallerIds: this.watching });
      this.emit('open', {});
    };
    this.ws.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      this.emit(frame.event, frame.data, frame);
    };
    this.ws.onclose = (closing) => {
      this.emit('close', { code: closing.code });
      if (closing.code === 4003) this.closedForGood = true;
      if (this.closedForGood) return;
      setTimeout(() => this.open(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
    return this;
  }

  /** Sends `{event, data, ref}`; the direct answer carries the same `ref`. */
  send(event, data = {}) {
    const ref = String(this.nextRef++);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ event, data, ref }));
    return ref;
  }

  /** The telecallers whose presence this app shows (at most 100); replaces the last set. */
  watch(ids) {
    this.watching = ids.slice(0, 100);
    this.send('presence:watch', { telecallerIds: this.watching });
  }

  close() {
    this.closedForGood = true;
    this.ws?.close(1000, 'bye');
  }
}
