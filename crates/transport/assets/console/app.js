// The Talktime console: a user, a telecaller and an admin in one page, each with its own
// session (kept in this tab's sessionStorage). Plain DOM, no framework: every action is one
// call to the public REST or WebSocket API (api.js).

import { Api, ApiError, Socket } from '/console/api.js';
import { userChat } from '/console/chat.js';

const app = document.getElementById('app');
const noticeBox = document.getElementById('notice');
let config = { media: { configured: false }, payments: { gateway: 'sandbox' }, admin: { devSignIn: false } };
let teardown = [];

const LANGUAGES = ['english', 'hindi', 'tamil', 'telugu', 'kannada', 'malayalam', 'bengali', 'marathi',
  'gujarati', 'punjabi', 'urdu', 'odia'];

// ---- small helpers ----------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function notice(text, error = false) {
  noticeBox.hidden = !text;
  noticeBox.textContent = text || '';
  noticeBox.className = error ? 'error' : '';
}

/** Runs an action, showing its failure (the envelope's message) instead of throwing. */
async function attempt(action) {
  try {
    notice('');
    return await action();
  } catch (error) {
    const detail = error instanceof ApiError && error.errors.length
      ? ` (${error.errors.map((e) => `${e.field}: ${e.message}`).join(', ')})` : '';
    notice(`${error.message}${detail}`, true);
    return undefined;
  }
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const pill = (presence) => h('span', { class: `pill ${presence}`, text: presence });

function section(title, id, ...children) {
  return h('section', { id }, h('h2', { text: title }), ...children);
}

function field(label, input) {
  return h('label', { class: 'row' }, h('span', { text: label }), input);
}

function stored(mode) { return sessionStorage.getItem(`talktime.${mode}`); }
function store(mode, token) {
  if (token) sessionStorage.setItem(`talktime.${mode}`, token);
  else sessionStorage.removeItem(`talktime.${mode}`);
}

// ---- login and profile (users and telecallers) --------------------------------------------------

function loginView(mode) {
  const phone = h('input', { id: `${mode}-phone`, placeholder: '9876543210', inputmode: 'numeric' });
  const code = h('input', { id: `${mode}-code`, placeholder: 'code', inputmode: 'numeric' });
  const api = new Api();
  app.replaceChildren(section(`Sign in as a ${mode}`, `${mode}-login`,
    h('p', { class: 'muted', text: 'In development the code is in the server log, or give a number a fixed code with OTP_TEST_NUMBERS.' }),
    h('div', { class: 'row' }, phone, h('button', { id: `${mode}-send`, onclick: () => attempt(async () => {
      const sent = await api.post('/auth/send', { phone: phone.value.trim() });
      notice(`${sent.message}: valid ${sent.data.expiresIn} s`);
      code.focus();
    }) }, 'Send code')),
    h('div', { class: 'row' }, code, h('button', { id: `${mode}-verify`, onclick: () => attempt(async () => {
      const login = await api.post('/auth/verify', { phone: phone.value.trim(), otp: code.value.trim() });
      store(mode, login.token);
      render();
    }) }, 'Verify')),
  ));
}

function profileView(api, role, mode) {
  const name = h('input', { id: 'profile-name', placeholder: 'Full name' });
  const dob = h('input', { id: 'profile-dob', type: 'date', value: '1995-01-01' });
  const gender = h('select', { id: 'profile-gender' }, ...['MALE', 'FEMALE', 'OTHER'].map((g) => h('option', { value: g, text: g })));
  if (role === 'TELECALLER') gender.value = 'FEMALE';
  const language = h('select', { id: 'profile-language' }, ...LANGUAGES.map((l) => h('option', { value: l, text: l })));
  const about = h('textarea', { id: 'profile-about', rows: 3, cols: 50, placeholder: '50–500 characters about you' });
  app.replaceChildren(section(role === 'USER' ? 'Complete your profile' : 'Apply as a telecaller', 'profile',
    field('Name', name), field('Date of birth', dob), field('Gender', gender), field('Language', language),
    role === 'TELECALLER' ? field('About', about) : null,
    h('button', { id: 'profile-save', onclick: () => attempt(async () => {
      const body = { name: name.value, dob: dob.value, gender: gender.value, language: language.value, role };
      if (role === 'TELECALLER') body.about = about.value;
      const done = await api.patch('/users/complete-profile', body);
      if (done.token) store(mode, done.token);
      render();
    }) }, 'Save'),
  ));
}

/** The signed-in phone account, or the login view when there is none (answers null). */
async function signedIn(mode) {
  const token = stored(mode);
  if (!token) { loginView(mode); return null; }
  const api = new Api(token);
  try {
    const me = (await api.get('/users/me')).data;
    return { api, me, token };
  } catch (error) {
    if (error.status === 401 || error.status === 403) { store(mode, null); loginView(mode); return null; }
    throw error;
  }
}

function signOutButton(mode, api) {
  return h('button', { class: 'secondary', id: `${mode}-logout`, onclick: () => attempt(async () => {
    await api.post('/auth/logout');
    store(mode, null);
    render();
  }) }, 'Log out');
}

// ---- media (LiveKit, when configured) -----------------------------------------------------------

let room = null;

async function joinMedia(livekit, callType) {
  const box = document.getElementById('media');
  if (!box) return;
  if (!config.media.configured || !window.LivekitClient || !livekit) {
    box.replaceChildren(h('p', { class: 'muted', text: 'The media server is not configured: the call rings, connects and bills without audio or video.' }));
    return;
  }
  await attempt(async () => {
    room = new window.LivekitClient.Room();
    room.on(window.LivekitClient.RoomEvent.TrackSubscribed, (track) => box.append(track.attach()));
    await room.connect(livekit.url, livekit.token);
    await room.localParticipant.setMicrophoneEnabled(true);
    if (callType === 'VIDEO') {
      await room.localParticipant.setCameraEnabled(true);
      const own = room.localParticipant.getTrackPublication(window.LivekitClient.Track.Source.Camera);
      if (own?.track) box.append(own.track.attach());
    }
  });
}

function leaveMedia() {
  room?.disconnect();
  room = null;
}

/** Ticks a call's seconds (and, for the user, the balance it leaves) from `since`. */
function meter(since, tick) {
  const started = since ? new Date(since).getTime() : Date.now();
  const update = () => tick(Math.max(0, Math.floor((Date.now() - started) / 1000)));
  update();
  const timer = setInterval(update, 250);
  return () => clearInterval(timer);
}

// ---- user -------------------------------------------------------------------------------------

// The notification inbox and its preferences (users and telecallers alike).
function inboxSection(api, prefix) {
  const list = h('div', { id: `${prefix}-inbox` });
  const unread = h('span', { id: `${prefix}-unread`, class: 'pill' });
  const prefs = h('div', { id: `${prefix}-prefs`, class: 'row' });
  async function load() {
    const found = (await api.get('/users/notifications?limit=10')).data;
    unread.textContent = `${found.unreadCount} unread`;
    list.replaceChildren(...found.notifications.map((n) => h('div', { class: n.read ? 'card muted' : 'card' },
      h('strong', { text: n.title ?? n.kind }), h('div', { text: n.body ?? '' }),
      h('div', { class: 'muted', text: `${n.category} · ${when(n.createdAt)}` }))));
    if (!found.notifications.length) list.append(h('p', { class: 'muted', text: 'Nothing yet.' }));
    const categories = (await api.get('/users/notification-preferences')).data.categories;
    prefs.replaceChildren(...Object.entries(categories).map(([name, on]) => {
      const box = h('input', { type: 'checkbox', id: `${prefix}-pref-${name}` });
      box.checked = on;
      box.addEventListener('change', () => attempt(async () => {
        await api.put('/users/notification-preferences', { categories: { [name]: box.checked } });
      }));
      return h('label', {}, box, ` ${name}`);
    }));
  }
  const readAll = h('button', { id: `${prefix}-read-all`, class: 'secondary', onclick: () => attempt(async () => {
    await api.post('/users/notifications/read', { all: true });
    await load();
  }) }, 'Mark all read');
  attempt(load);
  return section('Notifications', `${prefix}-notifications`, h('div', { class: 'row' }, unread, readAll), list,
    h('div', { class: 'muted', text: 'Receive:' }), prefs);
}

async function userMode() {
  const session = await signedIn('user');
  if (!session) return;
  const { api, me, token } = session;
  if (me.role !== 'USER') {
    app.replaceChildren(section('Not a user', 'user-wrong', h('p', { text: 'This account is a telecaller: use the Telecaller tab.' }), signOutButton('user', api)));
    return;
  }
  if (!me.name) return profileView(api, 'USER', 'user');

  let balance = me.wallet?.balance ?? 0;
  let charges = { AUDIO: 0, VIDEO: 0 };
  let call = null; // {callId, callType, peer, since, stop}
  const balanceBox = h('span', { id: 'user-balance', class: 'big', text: balance });
  const balancesBox = h('div', { id: 'user-balances', class: 'muted' });
  const couponInput = h('input', { id: 'coupon-code', placeholder: 'Coupon code (optional)' });
  const couponInfo = h('div', { id: 'coupon-info', class: 'muted' });
  const count = h('span', { id: 'online-count', class: 'muted' });
  const list = h('div', { id: 'online-list' });
  const plans = h('div', { id: 'plans' });
  const history = h('div', { id: 'history' });
  const callPanel = h('section', { id: 'call-panel', hidden: true });
  const chatPanel = h('section', { id: 'chat-panel', hidden: true });
  const chats = h('div', { id: 'chat-history' });
  const setBalance = (value) => { balance = value; balanceBox.textContent = value; };
  /** Paid and promotional coins, and when the promotional ones expire. */
  const showBalances = (wallet) => {
    const b = wallet?.balances;
    if (!b) return;
    const soonest = b.promoExpiring?.[0];
    balancesBox.textContent = `paid ${b.paid} · promotional ${b.promo}` +
      (soonest ? ` (${soonest.coins} expire ${new Date(soonest.expiresAt).toLocaleDateString()})` : '');
  };
  showBalances(me.wallet);

  app.replaceChildren(
    h('div', { class: 'row' }, h('strong', { text: `Hello ${me.name}` }), h('span', { class: 'muted', text: me.phone }), signOutButton('user', api)),
    callPanel,
    chatPanel,
    h('div', { class: 'grid' },
      section('Wallet', 'wallet', h('div', { class: 'row' }, balanceBox, h('span', { text: 'coins' })), balancesBox,
        field('Coupon', couponInput), couponInfo, plans),
      section('Online telecallers', 'online', count, list)),
    section('Your calls', 'calls', history),
    section('Your chats', 'chats', chats),
    inboxSection(api, 'user'),
  );

  const socket = new Socket('user', token);
  teardown.push(() => socket.close());
  const chat = userChat(socket, { h, notice, attempt, meter, api, panel: chatPanel,
    balance: () => balance, setBalance, busy: () => call !== null, onOver: () => attempt(loadChats) });

  async function loadPlans() {
    const found = (await api.get('/users/plans')).data;
    plans.replaceChildren(...found.plans.map((plan) => h('div', { class: 'card row' },
      h('span', { text: `${plan.coins} coins` }), h('span', { class: 'muted', text: `₹${plan.amount}${plan.discountPercentage ? ` (−${plan.discountPercentage}%)` : ''}` }),
      h('button', { class: 'buy', 'data-plan': plan._id, onclick: () => attempt(() => buy(plan)) }, 'Buy'))));
  }

  async function buy(plan) {
    const couponCode = couponInput.value.trim();
    if (couponCode) {
      const quote = (await api.post('/users/coupons/check', { code: couponCode, planId: plan._id })).data;
      couponInfo.textContent = `${quote.code}: pay ₹${quote.amount / 100}` + (quote.bonusCoins ? `, +${quote.bonusCoins} promotional coins` : '');
    }
    const order = (await api.post('/payment/create-order', couponCode ? { planId: plan._id, couponCode } : { planId: plan._id })).data;
    const verify = async (fields) => {
      const paid = await api.post('/payment/verify', fields);
      notice(paid.message);
      const wallet = (await api.get('/users/me')).data.wallet;
      setBalance(wallet.balance);
      showBalances(wallet);
    };
    if (config.payments.gateway === 'sandbox') {
      const fields = (await api.post('/payment/sandbox/pay', { orderId: order.orderId })).data;
      return verify(fields);
    }
    // Razorpay Checkout (loaded from Razorpay only when the real gateway is configured).
    await new Promise((resolve, reject) => {
      const script = h('script', { src: 'https://checkout.razorpay.com/v1/checkout.js' });
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
    new window.Razorpay({ key: order.razorpayKeyId, order_id: order.orderId, amount: order.amount, currency: order.currency,
      handler: (response) => attempt(() => verify(response)) }).open();
  }

  async function loadTelecallers() {
    const found = (await api.get('/users/telecallers?limit=20')).data;
    charges = { AUDIO: found.audioCallCharge, VIDEO: found.videoCallCharge };
    const hosts = found.data || [];
    list.replaceChildren(...hosts.map(card));
    if (!hosts.length) list.append(h('p', { class: 'muted', text: 'Nobody is online right now.' }));
    socket.watch(hosts.map((t) => t._id));
  }

  function card(host) {
    const favorite = h('button', { class: 'secondary favorite', title: 'Favorite', onclick: () => attempt(async () => {
      if (host.isFavorite) await api.delete(`/users/favorites/${host._id}`);
      else await api.post(`/users/favorites/${host._id}`);
      host.isFavorite = !host.isFavorite;
      favorite.textContent = host.isFavorite ? '♥' : '♡';
    }) }, host.isFavorite ? '♥' : '♡');
    const callButton = (type) => h('button', { class: 'call', 'data-id': host._id, 'data-type': type,
      onclick: () => start(host, type) }, type === 'AUDIO' ? 'Call' : 'Video');
    return h('div', { class: 'card', 'data-telecaller': host._id },
      h('div', { class: 'row' }, h('strong', { text: host.name }), pill(host.presence), h('span', { class: 'muted', text: host.language })),
      h('div', { class: 'muted', text: host.about }),
      h('div', { class: 'row' }, callButton('AUDIO'), callButton('VIDEO'),
        h('button', { class: 'chat', 'data-id': host._id, onclick: () => chat.start(host) }, 'Chat'), favorite));
  }

  function start(host, callType) {
    if (call || chat.busy()) return notice('You are already in a call or chat', true);
    call = { callType, peer: host, stop: () => {} };
    socket.send('call:initiate', { telecallerId: host._id, callType });
    showCall('Calling…');
  }

  function showCall(status, extra = []) {
    callPanel.hidden = false;
    callPanel.replaceChildren(h('h2', { text: `${call.callType === 'VIDEO' ? 'Video' : 'Audio'} call with ${call.peer?.name ?? ''}` }),
      h('div', { class: 'row' }, h('span', { id: 'call-status', text: status })),
      h('div', { class: 'row' }, h('span', { text: 'Time:' }), h('span', { id: 'call-seconds', class: 'big', text: '0' }), h('span', { text: 's' }),
        h('span', { text: 'Balance:' }), h('span', { id: 'call-balance', class: 'big', text: balance })),
      h('div', { id: 'media' }),
      h('div', { class: 'row' }, ...extra,
        h('button', { id: 'call-end', class: 'danger', onclick: () => {
          if (!call?.callId) return;
          socket.send(call.accepted ? 'call:end' : 'call:cancel', { callId: call.callId });
        } }, 'End')));
  }

  function running(since) {
    call.stop();
    const rate = charges[call.callType] || 0;
    const startBalance = balance;
    call.stop = meter(since, (seconds) => {
      const secondsBox = document.getElementById('call-seconds');
      const balanceLeft = document.getElementById('call-balance');
      if (secondsBox) secondsBox.textContent = seconds;
      if (balanceLeft) balanceLeft.textContent = Math.max(0, startBalance - seconds * rate);
    });
  }

  function finish(text) {
    if (!call) return;
    call.stop();
    leaveMedia();
    call = null;
    callPanel.hidden = false;
    callPanel.replaceChildren(h('h2', { text: 'Call over' }), h('p', { id: 'call-summary', text }),
      h('button', { class: 'secondary', onclick: () => { callPanel.hidden = true; } }, 'Close'));
    loadHistory();
  }

  async function loadHistory() {
    const found = (await api.get('/users/calls?limit=10')).data;
    history.replaceChildren(h('table', {}, h('tr', {}, ...['When', 'Telecaller', 'Type', 'Status', 'Seconds', 'Coins', ''].map((t) => h('th', { text: t }))),
      ...found.calls.map((c) => h('tr', { class: 'history-row', 'data-call': c._id },
        h('td', { text: when(c.createdAt) }), h('td', { text: c.telecaller?.name }), h('td', { text: c.callType }),
        h('td', { text: c.endReason ? `${c.status} (${c.endReason})` : c.status }), h('td', { text: c.durationInSeconds ?? 0 }),
        h('td', { class: 'coins', text: c.coinsSpent ?? 0 }),
        h('td', {}, c.status === 'COMPLETED' ? h('button', { class: 'secondary', onclick: () => feedback(c._id) }, 'Feedback') : '')))));
  }

  async function loadChats() {
    const found = (await api.get('/users/chats?limit=10')).data;
    chats.replaceChildren(h('table', {}, h('tr', {}, ...['When', 'Telecaller', 'Status', 'Seconds', 'Coins'].map((t) => h('th', { text: t }))),
      ...found.chats.map((c) => h('tr', { class: 'chat-row', 'data-chat': c._id },
        h('td', { text: when(c.createdAt) }), h('td', { text: c.telecaller?.name }),
        h('td', { text: c.endReason ? `${c.status} (${c.endReason})` : c.status }), h('td', { text: c.durationInSeconds ?? 0 }),
        h('td', { class: 'coins', text: c.coinsSpent ?? 0 })))));
  }

  function feedback(callId) {
    const rating = prompt('Rating 1–5 (or empty)');
    const comment = prompt('Comment (or empty)') || undefined;
    attempt(async () => {
      const body = { comment };
      if (rating) body.rating = Number(rating);
      notice((await api.post(`/calls/${callId}/feedback`, body)).message);
    });
  }

  socket
    .on('session:ready', (data) => {
      if (!data) return;
      setBalance(data.balance);
      count.textContent = `${data.onlineTelecallers} online`;
      const active = data.activeCall;
      if (active && !call) {
        call = { callId: active.callId, callType: active.callType, peer: active.peer, accepted: active.status === 'ACCEPTED', stop: () => {} };
        showCall(active.status === 'ACCEPTED' ? 'Connected' : 'Ringing…');
        if (call.accepted) { running(active.acceptedAt); joinMedia(active.livekit, active.callType); }
      }
    })
    .on('presence:update', (data) => {
      count.textContent = `${data.onlineTelecallers} online`;
      for (const change of data.changes) {
        const shown = list.querySelector(`[data-telecaller="${change.telecallerId}"]`);
        if (shown) shown.querySelector('.pill').replaceWith(pill(change.presence));
      }
      const listed = list.querySelectorAll('[data-telecaller]').length;
      if (listed !== data.onlineTelecallers) loadTelecallers();
    })
    .on('call:ringing', (data) => {
      if (!call) return;
      call.callId = data.callId;
      call.peer = data.telecaller;
      showCall('Ringing…');
    })
    .on('call:accepted', (data) => {
      if (!call) return;
      call.accepted = true;
      showCall('Connected', [chat.giftButtons(data.callId)]);
      running(null);
      joinMedia(data.livekit, call.callType);
    })
    .on('call:connected', (data) => { if (call) { document.getElementById('call-status').textContent = 'Connected'; running(data.connectedAt); } })
    .on('call:balance-low', (data) => notice(`About ${data.secondsLeft} seconds of talk left: recharge to go on`))
    .on('call:extended', (data) => notice(`Recharged: up to ${data.maxDurationSeconds} seconds now`))
    .on('call:ended', (data) => {
      setBalance(data.balance);
      finish(`${data.durationInSeconds} s, ${data.coinsSpent} coins (${data.reason})`);
    })
    .on('call:rejected', () => finish('Rejected'))
    .on('call:missed', () => finish('No answer'))
    .on('call:cancelled', () => finish('Cancelled'))
    .on('call:error', (data) => { notice(data.message, true); if (call && !call.callId) { call.stop(); call = null; callPanel.hidden = true; } })
    .on('wallet:updated', (data) => setBalance(data.balance))
    .on('error', (data) => notice(data.message, true))
    .on('close', (data) => { if (data.code === 4003) { store('user', null); render(); } })
    .open();

  await attempt(() => Promise.all([loadPlans(), loadTelecallers(), loadHistory(), loadChats(), chat.loadGifts()]));
}

// ---- telecaller -------------------------------------------------------------------------------

async function telecallerMode() {
  const session = await signedIn('telecaller');
  if (!session) return;
  const { api, me, token } = session;
  if (!me.name) return profileView(api, 'TELECALLER', 'telecaller');
  if (me.role !== 'TELECALLER') {
    app.replaceChildren(section('Not a telecaller', 'tc-wrong', h('p', { text: 'This account is a user: use the User tab.' }), signOutButton('telecaller', api)));
    return;
  }
  const approval = me.telecallerProfile?.approvalStatus;
  if (approval !== 'APPROVED') {
    app.replaceChildren(section('Your application', 'tc-application',
      h('p', { text: `Status: ${approval}` }),
      me.telecallerProfile?.verificationNotes ? h('p', { class: 'muted', text: me.telecallerProfile.verificationNotes }) : null,
      h('p', { class: 'muted', text: 'An admin approves applications (Admin tab, in development).' }),
      signOutButton('telecaller', api)));
    return;
  }

  let socket = null;
  let call = null;
  const status = h('span', { id: 'tc-status' }, pill('OFFLINE'));
  const balanceBox = h('span', { id: 'tc-balance', class: 'big', text: me.wallet?.balance ?? 0 });
  const callBox = h('section', { id: 'tc-call', hidden: true });
  const withdrawals = h('div', { id: 'tc-withdrawals' });
  const bank = h('div', { id: 'tc-bank' });
  const prices = h('div', { id: 'tc-prices' });
  const toggle = h('button', { id: 'tc-online', onclick: () => (socket ? goOffline() : goOnline()) }, 'Go online');

  app.replaceChildren(
    h('div', { class: 'row' }, h('strong', { text: `Hello ${me.name}` }), status, toggle, signOutButton('telecaller', api)),
    callBox,
    h('div', { class: 'grid' },
      section('Earnings', 'tc-earnings', h('div', { class: 'row' }, balanceBox, h('span', { text: 'coins' })), withdrawals),
      section('Bank account', 'tc-bank-section', bank)),
    section('Your prices', 'tc-prices-section', prices),
    inboxSection(api, 'tc'),
  );
  teardown.push(() => socket?.close());

  function goOnline() {
    socket = new Socket('telecaller', token)
      .on('open', () => status.replaceChildren(pill('ONLINE')))
      .on('session:ready', (data) => { if (data) balanceBox.textContent = data.balance; })
      .on('call:incoming', (data) => {
        call = data;
        callBox.hidden = false;
        callBox.replaceChildren(h('h2', { text: `${data.callType} call from ${data.caller.name}` }),
          h('div', { class: 'row' },
            h('button', { id: 'tc-accept', onclick: () => socket.send('call:accept', { callId: data.callId }) }, 'Accept'),
            h('button', { id: 'tc-reject', class: 'danger', onclick: () => socket.send('call:reject', { callId: data.callId }) }, 'Reject')));
      })
      .on('call:accepted', (data) => {
        status.replaceChildren(pill('ON_CALL'));
        callBox.replaceChildren(h('h2', { text: `On a call with ${data.caller.name}` }),
          h('div', { class: 'row' }, h('span', { text: 'Time:' }), h('span', { id: 'tc-seconds', class: 'big', text: '0' }), h('span', { text: 's' })),
          h('div', { id: 'media' }),
          h('button', { id: 'tc-end', class: 'danger', onclick: () => socket.send('call:end', { callId: data.callId }) }, 'End'));
        call.stop = meter(null, (s) => { const box = document.getElementById('tc-seconds'); if (box) box.textContent = s; });
        joinMedia(data.livekit, data.callType);
      })
      .on('call:connected', (data) => { call?.stop?.(); if (call) call.stop = meter(data.connectedAt, (s) => { const box = document.getElementById('tc-seconds'); if (box) box.textContent = s; }); })
      .on('call:ended', (data) => over(`${data.durationInSeconds} s, earned ${data.coinsEarned} coins`, data.balance))
      .on('call:cancelled', () => over('The caller hung up'))
      .on('call:missed', () => over('Missed'))
      .on('call:rejected', () => over('Rejected'))
      .on('call:answered-elsewhere', () => over('Answered on another device'))
      .on('call:error', (data) => notice(data.message, true))
      .on('close', (data) => { if (data.code === 4003) { store('telecaller', null); render(); } })
      .open();
    toggle.textContent = 'Go offline';
  }

  function goOffline() {
    socket.close();
    socket = null;
    status.replaceChildren(pill('OFFLINE'));
    toggle.textContent = 'Go online';
  }

  function over(text, balance) {
    call?.stop?.();
    call = null;
    leaveMedia();
    if (balance !== undefined) balanceBox.textContent = balance;
    status.replaceChildren(pill(socket ? 'ONLINE' : 'OFFLINE'));
    callBox.hidden = false;
    callBox.replaceChildren(h('p', { text }), h('button', { class: 'secondary', onclick: () => { callBox.hidden = true; } }, 'Close'));
    loadWithdrawals();
  }

  /** Her prices (coins per second), the bounds, and a form to change them once per cooldown. */
  async function loadPrices() {
    const found = (await api.get('/telecaller/rates')).data;
    const audio = h('input', { id: 'tc-rate-audio', type: 'number', min: found.priceBounds.audio.min, max: found.priceBounds.audio.max, value: found.rates.audio });
    const video = h('input', { id: 'tc-rate-video', type: 'number', min: found.priceBounds.video.min, max: found.priceBounds.video.max, value: found.rates.video });
    const save = async () => {
      await api.put('/telecaller/rates', { audioCoinsPerSecond: Number(audio.value), videoCoinsPerSecond: Number(video.value) });
      notice('Prices saved');
      await loadPrices();
    };
    prices.replaceChildren(
      field(`Audio (${found.priceBounds.audio.min}–${found.priceBounds.audio.max} coins/s)`, audio),
      field(`Video (${found.priceBounds.video.min}–${found.priceBounds.video.max} coins/s)`, video),
      found.nextChangeAt
        ? h('p', { class: 'muted', text: `You can change them again at ${new Date(found.nextChangeAt).toLocaleString()}` })
        : h('button', { id: 'tc-rates-save', onclick: () => attempt(save) }, 'Save prices'));
  }

  async function loadBank() {
    const saved = (await api.get('/telecaller/bank-details')).data;
    const number = h('input', { id: 'bank-number', placeholder: 'Account number', value: saved?.accountNumber ?? '' });
    const ifsc = h('input', { id: 'bank-ifsc', placeholder: 'IFSC', value: saved?.ifscCode ?? '' });
    const holder = h('input', { id: 'bank-holder', placeholder: 'Account holder', value: saved?.accountHolderName ?? '' });
    bank.replaceChildren(field('Number', number), field('IFSC', ifsc), field('Holder', holder),
      h('button', { onclick: () => attempt(async () => {
        notice((await api.post('/telecaller/bank-details', { accountNumber: number.value, ifscCode: ifsc.value, accountHolderName: holder.value })).message);
      }) }, 'Save'));
  }

  async function loadWithdrawals() {
    const found = (await api.get('/telecaller/transactions?limit=5')).data;
    const coins = h('input', { id: 'withdraw-coins', type: 'number', min: 1, placeholder: 'coins' });
    withdrawals.replaceChildren(
      h('div', { class: 'row' }, coins, h('button', { id: 'withdraw', onclick: () => attempt(async () => {
        const done = await api.post('/payment/withdraw', { coins: Number(coins.value) });
        notice(done.message);
        balanceBox.textContent = (await api.get('/users/me')).data.wallet.balance;
        loadWithdrawals();
      }) }, 'Withdraw')),
      ...found.transactions.map((t) => h('div', { class: 'card muted', text: `${when(t.createdAt)} · ${t.coins} coins · ₹${t.amount} · ${t.status}` })));
  }

  await attempt(() => Promise.all([loadBank(), loadWithdrawals(), loadPrices()]));
}

// ---- admin ------------------------------------------------------------------------------------

function adminSignIn() {
  const email = h('input', { id: 'admin-email', value: 'admin@talktime.local', size: 30 });
  const parts = [];
  if (config.admin.devSignIn) {
    parts.push(h('p', { class: 'muted', text: 'Development sign-in: any e-mail in the admins table (talktime seed --demo adds admin@talktime.local).' }),
      h('div', { class: 'row' }, email, h('button', { id: 'admin-signin', onclick: () => attempt(async () => {
        await new Api().post('/admin/auth/dev', { email: email.value.trim() });
        render();
      }) }, 'Sign in')));
  }
  if (config.admin.googleClientId) {
    const button = h('div', { id: 'google-signin' });
    parts.push(button);
    const script = h('script', { src: 'https://accounts.google.com/gsi/client' });
    script.onload = () => {
      window.google.accounts.id.initialize({ client_id: config.admin.googleClientId, callback: (answer) => attempt(async () => {
        await new Api().post('/admin/auth/google', { googleToken: answer.credential });
        render();
      }) });
      window.google.accounts.id.renderButton(button, { theme: 'outline' });
    };
    document.head.append(script);
  }
  if (!parts.length) parts.push(h('p', { text: 'No admin sign-in is configured (GOOGLE_CLIENT_IDS).' }));
  app.replaceChildren(section('Admin sign-in', 'admin-login', ...parts));
}

// An announcement or offer to a segment: preview its audience, then send it.
function broadcastForm(api) {
  const input = (id, attrs = {}) => h('input', { id, ...attrs });
  const select = (id, options) => h('select', { id }, ...options.map((o) => h('option', { value: o, text: o || 'any' })));
  const title = input('bc-title', { placeholder: 'Title' });
  const body = input('bc-body', { placeholder: 'Message' });
  const category = select('bc-category', ['announcements', 'offers']);
  const role = select('bc-role', ['USER', 'TELECALLER']);
  const language = select('bc-language', ['', ...LANGUAGES]);
  const minBalance = input('bc-min-balance', { type: 'number', placeholder: 'any', size: 6 });
  const activeDays = input('bc-active-days', { type: 'number', placeholder: 'any', size: 4 });
  const recharged = select('bc-recharged', ['', 'true', 'false']);
  const result = h('div', { id: 'bc-result', class: 'muted' });
  const request = () => {
    const audience = { role: role.value };
    if (language.value) audience.language = language.value;
    if (minBalance.value) audience.minBalance = Number(minBalance.value);
    if (activeDays.value) audience.lastActiveWithinDays = Number(activeDays.value);
    if (recharged.value) audience.hasRecharged = recharged.value === 'true';
    return { title: title.value, body: body.value, category: category.value, audience };
  };
  const preview = h('button', { id: 'bc-preview', class: 'secondary', onclick: () => attempt(async () => {
    const found = (await api.post('/admin/broadcasts?dryRun=true', request())).data;
    result.textContent = `Would reach ${found.targeted}`;
  }) }, 'Preview audience');
  const send = h('button', { id: 'bc-send', onclick: () => attempt(async () => {
    const sent = (await api.post('/admin/broadcasts', request())).data;
    const show = async () => {
      const b = (await api.get(`/admin/broadcasts/${sent._id}`)).data;
      result.textContent = `targeted ${b.targeted} · sent ${b.sent} · failed ${b.failed} · opened ${b.opened}`;
    };
    await show();
  }) }, 'Send');
  return h('div', {}, field('Title', title), field('Message', body), field('Category', category), field('Role', role),
    field('Language', language), field('Minimum balance', minBalance), field('Active within days', activeDays),
    field('Has recharged', recharged), h('div', { class: 'row' }, preview, send), result);
}

async function adminMode() {
  const api = new Api(); // the admin cookie
  let stats;
  try {
    stats = (await api.get('/admin/dashboard/stats')).data;
  } catch (error) {
    if (error.status === 401 || error.status === 403) return adminSignIn();
    throw error;
  }
  const statsBox = h('div', { id: 'admin-stats' });
  const trends = h('div', { id: 'admin-trends' });
  const pending = h('div', { id: 'admin-pending' });
  const live = h('div', { id: 'admin-live' });
  const payouts = h('div', { id: 'admin-withdrawals' });
  const reports = h('div', { id: 'admin-reports' });
  const prices = h('div', { id: 'admin-prices' });
  const audit = h('div', { id: 'admin-audit' });
  const broadcast = broadcastForm(api);
  app.replaceChildren(
    h('div', { class: 'row' }, h('strong', { text: 'Admin' }), h('button', { class: 'secondary', id: 'admin-logout', onclick: () => attempt(async () => {
      await api.post('/admin/auth/logout');
      render();
    }) }, 'Sign out')),
    section('Dashboard', 'dashboard', statsBox, trends),
    section('Live calls', 'live-calls', live),
    h('div', { class: 'grid' }, section('Telecallers waiting for approval', 'pending', pending), section('Withdrawals to pay', 'withdrawals', payouts)),
    h('div', { class: 'grid' }, section('Reports', 'reports', reports), section('Prices', 'prices', prices)),
    section('Broadcast', 'broadcast', broadcast),
    section('Audit log', 'audit', audit),
  );

  function showStats(s) {
    const box = (label, value) => h('div', { class: 'card' }, h('div', { class: 'muted', text: label }), h('div', { class: 'big', text: value }));
    statsBox.replaceChildren(h('div', { class: 'grid' },
      box('Recharges (₹)', s.revenue.totalRecharges), box('Withdrawals (₹)', s.revenue.totalWithdrawals), box('Profit (₹)', s.revenue.platformProfit),
      box('Users', s.users.total), box('Telecallers approved', s.telecallers.approved), box('Calls', s.calls.total),
      box('Coins in wallets', s.coins.inWallets), box('Promotional coins outstanding', s.coins.promoOutstanding)));
  }

  async function loadTrends() {
    const found = (await api.get('/admin/dashboard/recharge-withdrawal-trends?period=last7days')).data;
    const top = Math.max(1, ...found.trends.flatMap((t) => [t.recharge, t.withdrawal]));
    trends.replaceChildren(h('div', { class: 'muted', text: 'Last 7 days: recharges (blue) and withdrawals (orange), ₹' }),
      h('div', { class: 'row', style: 'align-items:flex-end;height:80px' }, ...found.trends.map((t) => h('span', { title: t.label },
        h('span', { class: 'bar', style: `height:${Math.round(70 * t.recharge / top) + 1}px` }),
        h('span', { class: 'bar out', style: `height:${Math.round(70 * t.withdrawal / top) + 1}px` })))));
  }

  async function loadLive() {
    const found = (await api.get('/admin/calls?status=ACCEPTED&limit=50')).data;
    live.replaceChildren(found.calls.length ? h('table', {}, h('tr', {}, ...['User', 'Telecaller', 'Type', 'Seconds', 'Coins', ''].map((t) => h('th', { text: t }))),
      ...found.calls.map((c) => h('tr', { class: 'live-call', 'data-call': c._id },
        h('td', { text: c.user.name }), h('td', { text: c.telecaller.name }), h('td', { text: c.callType }),
        h('td', { text: c.elapsedSeconds ?? 0 }), h('td', { text: c.coinsSoFar ?? 0 }),
        h('td', {}, h('button', { class: 'danger', onclick: () => attempt(async () => { await api.post(`/admin/calls/${c._id}/end`); loadLive(); }) }, 'Force end')))))
      : h('p', { class: 'muted', text: 'No live call.' }));
  }

  async function loadPending() {
    const found = (await api.get('/admin/telecallers?status=PENDING&limit=20')).data;
    pending.replaceChildren(...found.telecallers.map((t) => h('div', { class: 'card' },
      h('div', { class: 'row' }, h('strong', { text: t.name }), h('span', { class: 'muted', text: t.phone })),
      h('div', { class: 'row' },
        h('button', { onclick: () => attempt(async () => { await api.patch(`/admin/telecallers/${t._id}/approve`); loadPending(); }) }, 'Approve'),
        h('button', { class: 'danger', onclick: () => attempt(async () => {
          const reason = prompt('Why (10–500 characters)?');
          if (reason) { await api.patch(`/admin/telecallers/${t._id}/reject`, { reason }); loadPending(); }
        }) }, 'Reject')))));
    if (!found.telecallers.length) pending.append(h('p', { class: 'muted', text: 'Nobody is waiting.' }));
  }

  async function loadPayouts() {
    const found = (await api.get('/admin/transactions?type=WITHDRAWAL&status=PENDING&limit=20')).data;
    payouts.replaceChildren(...found.transactions.map((t) => h('div', { class: 'card' },
      h('div', { text: `${t.coins} coins · ₹${t.amount} · ${when(t.createdAt)}` }),
      h('div', { class: 'row' },
        h('button', { onclick: () => attempt(async () => {
          const reference = prompt('Bank transfer reference (5–100 characters)?');
          if (reference) { await api.post(`/admin/withdrawals/${t._id}/complete`, { transferReference: reference }); loadPayouts(); }
        }) }, 'Paid'),
        h('button', { class: 'danger', onclick: () => attempt(async () => {
          const reason = prompt('Why (5–500 characters)?');
          if (reason) { await api.post(`/admin/withdrawals/${t._id}/reject`, { reason }); loadPayouts(); }
        }) }, 'Reject')))));
    if (!found.transactions.length) payouts.append(h('p', { class: 'muted', text: 'Nothing to pay.' }));
  }

  async function loadReports() {
    const found = (await api.get('/admin/reports?limit=10')).data;
    reports.replaceChildren(...found.reports.map((r) => {
      const status = h('select', {}, ...['PENDING', 'UNDER_REVIEW', 'RESOLVED', 'DISMISSED'].map((s) => h('option', { value: s, text: s })));
      status.value = r.status;
      status.addEventListener('change', () => attempt(async () => { await api.patch(`/admin/reports/${r._id}/status`, { status: status.value }); loadReports(); }));
      return h('div', { class: 'card' }, h('div', { text: r.description }), h('div', { class: 'row' }, status, h('span', { class: 'muted', text: when(r.createdAt) })));
    }));
    if (!found.reports.length) reports.append(h('p', { class: 'muted', text: 'No report.' }));
  }

  async function loadPrices() {
    const found = (await api.get('/admin/config')).data;
    const inputs = {
      userAudioCallCoinPerSec: found.audioCall.userCoinPerSec.value,
      telecallerAudioCallCoinPerSec: found.audioCall.telecallerCoinPerSec.value,
      userVideoCallCoinPerSec: found.videoCall.userCoinPerSec.value,
      telecallerVideoCallCoinPerSec: found.videoCall.telecallerCoinPerSec.value,
      minWithdrawalCoins: found.withdrawal.minWithdrawalCoins.value,
      minCallBalanceSeconds: found.call.minBalanceSeconds.value,
    };
    const fields = Object.fromEntries(Object.entries(inputs).map(([key, value]) => [key, h('input', { type: 'number', value, size: 6 })]));
    prices.replaceChildren(...Object.entries(fields).map(([key, input]) => field(key, input)),
      h('button', { onclick: () => attempt(async () => {
        const body = Object.fromEntries(Object.entries(fields).map(([key, input]) => [key, Number(input.value)]));
        notice((await api.put('/admin/config', body)).message);
      }) }, 'Save prices'));
  }

  async function loadAudit() {
    const found = (await api.get('/admin/audit-log?limit=15')).data;
    audit.replaceChildren(h('table', {}, ...found.entries.map((e) => h('tr', {},
      h('td', { text: when(e.createdAt) }), h('td', { text: e.admin?.email ?? e.admin?.name ?? '' }), h('td', { text: e.action }), h('td', { class: 'muted', text: e.targetId ?? '' })))));
  }

  showStats(stats);
  const socket = new Socket('admin', null)
    .on('call:started', () => attempt(loadLive))
    .on('call:finished', () => attempt(loadLive))
    .on('withdrawal:requested', () => attempt(loadPayouts))
    .on('report:created', () => attempt(loadReports))
    .on('telecaller:applied', () => attempt(loadPending))
    .open();
  // Live calls' seconds and coins move: refresh them now and then.
  const timer = setInterval(() => attempt(loadLive), 3000);
  teardown.push(() => { socket.close(); clearInterval(timer); });
  await attempt(() => Promise.all([loadTrends(), loadLive(), loadPending(), loadPayouts(), loadReports(), loadPrices(), loadAudit()]));
}

// ---- the shell --------------------------------------------------------------------------------

function currentMode() {
  return sessionStorage.getItem('talktime.mode') || 'user';
}

async function render() {
  for (const stop of teardown) stop();
  teardown = [];
  leaveMedia();
  const mode = currentMode();
  for (const button of document.querySelectorAll('button.mode')) button.classList.toggle('active', button.dataset.mode === mode);
  app.replaceChildren('Loading…');
  await attempt(() => ({ user: userMode, telecaller: telecallerMode, admin: adminMode })[mode]());
}

for (const button of document.querySelectorAll('button.mode')) {
  button.addEventListener('click', () => {
    sessionStorage.setItem('talktime.mode', button.dataset.mode);
    notice('');
    render();
  });
}

fetch('/console/config.json').then((r) => r.json()).then((loaded) => { config = loaded; }).finally(render);
