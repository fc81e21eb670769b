// Paid chat and gifts in the console's user tab (docs/chat.md): request a chat, exchange
// messages while the meter runs, send gifts during a chat or a call, end it. Every action is one
// socket event; a reconnect restores the active chat from `session:ready` and fetches what it
// missed with `GET /users/chats/{id}/messages?after=`.

/**
 * Wires chat and gifts onto the user's socket. `ui` carries the page's helpers: `h`, `notice`,
 * `attempt`, `meter`, `api`, `balance()` / `setBalance(value)`, `busy()` (a call is on),
 * `panel` (the section the chat renders into) and `onOver()` (refresh the histories).
 */
export function userChat(socket, ui) {
  const { h, notice, attempt, meter, api, panel } = ui;
  let chat = null; // {sessionId, peer, active, rate, stop, seen:Set}
  let gifts = [];

  async function loadGifts() {
    gifts = (await api.get('/users/gifts')).data.gifts;
  }

  /** Buttons sending each gift into the session `sessionId` (a chat's or an accepted call's). */
  function giftButtons(sessionId) {
    return h('span', { class: 'row gifts' }, ...gifts.map((gift) => h('button', {
      class: 'secondary gift', 'data-gift': gift._id, title: `${gift.name}: ${gift.coins} coins`,
      onclick: () => socket.send('gift:send', { giftId: gift._id, sessionId, clientId: crypto.randomUUID() }),
    }, `${gift.icon} ${gift.coins}`)));
  }

  function start(host) {
    if (chat || ui.busy()) return notice('You are already in a call or chat', true);
    chat = { peer: host, active: false, stop: () => {}, seen: new Set() };
    socket.send('chat:request', { telecallerId: host._id });
    show('Requesting…');
  }

  function show(status) {
    panel.hidden = false;
    const text = h('input', { id: 'chat-text', placeholder: 'Type a message', maxlength: 2000 });
    const send = () => {
      const body = text.value.trim();
      if (!body || !chat?.sessionId) return;
      socket.send('chat:message', { sessionId: chat.sessionId, clientId: crypto.randomUUID(), text: body });
      text.value = '';
    };
    text.addEventListener('keydown', (event) => { if (event.key === 'Enter') send(); });
    text.addEventListener('input', () => { if (chat?.active) socket.send('chat:typing', { sessionId: chat.sessionId }); });
    panel.replaceChildren(
      h('h2', { text: `Chat with ${chat.peer?.name ?? ''}` }),
      h('div', { class: 'row' }, h('span', { id: 'chat-status', text: status }),
        h('span', { text: 'Time:' }), h('span', { id: 'chat-seconds', class: 'big', text: '0' }), h('span', { text: 's' }),
        h('span', { text: 'Balance:' }), h('span', { id: 'chat-balance', class: 'big', text: ui.balance() })),
      h('div', { id: 'chat-messages', class: 'chat-messages' }),
      h('div', { class: 'row' }, text, h('button', { id: 'chat-send', onclick: send }, 'Send')),
      h('div', { class: 'row' }, chat.sessionId && chat.active ? giftButtons(chat.sessionId) : '',
        h('button', { id: 'chat-end', class: 'danger', onclick: () => chat?.sessionId && socket.send('chat:end', { sessionId: chat.sessionId }) }, 'End')));
  }

  function line(text, mine, kind = 'msg') {
    const box = document.getElementById('chat-messages');
    if (!box) return;
    box.append(h('div', { class: `${kind} ${mine ? 'mine' : 'theirs'}`, text }));
    box.scrollTop = box.scrollHeight;
  }

  function message(m) {
    if (!chat || m.sessionId !== chat.sessionId || chat.seen.has(m.seq)) return;
    chat.seen.add(m.seq);
    line(m.text, m.from !== chat.peer?._id);
  }

  function running(since) {
    chat.stop();
    const startBalance = ui.balance();
    chat.stop = meter(since, (seconds) => {
      const secondsBox = document.getElementById('chat-seconds');
      const balanceLeft = document.getElementById('chat-balance');
      if (secondsBox) secondsBox.textContent = seconds;
      if (balanceLeft) balanceLeft.textContent = Math.max(0, startBalance - seconds * (chat?.rate ?? 0));
    });
  }

  async function catchUp() {
    const after = chat.seen.size ? Math.max(...chat.seen) : 0;
    const found = (await api.get(`/users/chats/${chat.sessionId}/messages?after=${after}`)).data;
    for (const m of found.messages) message({ ...m, sessionId: chat.sessionId });
  }

  function finish(text) {
    if (!chat) return;
    chat.stop();
    chat = null;
    panel.hidden = false;
    panel.replaceChildren(h('h2', { text: 'Chat over' }), h('p', { id: 'chat-summary', text }),
      h('button', { class: 'secondary', onclick: () => { panel.hidden = true; } }, 'Close'));
    ui.onOver();
  }

  socket
    .on('session:ready', (data) => {
      const active = data?.activeChat;
      if (!active) return;
      if (!chat) chat = { sessionId: active.sessionId, peer: active.peer, stop: () => {}, seen: new Set() };
      chat.active = active.status === 'ACTIVE';
      chat.rate = active.rate;
      show(chat.active ? 'Chatting' : 'Requesting…');
      if (chat.active) running(active.acceptedAt);
      attempt(catchUp);
    })
    .on('chat:requested', (data) => {
      if (!chat) return;
      Object.assign(chat, { sessionId: data.sessionId, peer: data.telecaller, rate: data.rate });
      show('Requested: waiting for her to accept…');
    })
    .on('chat:accepted', (data) => {
      if (!chat) return;
      Object.assign(chat, { active: true, rate: data.rate });
      show('Chatting');
      running(data.acceptedAt);
    })
    .on('chat:message', message)
    .on('chat:typing', () => { const s = document.getElementById('chat-status'); if (s) s.textContent = `${chat?.peer?.name ?? 'She'} is typing…`; })
    .on('chat:balance-low', (data) => notice(`About ${data.secondsLeft} seconds of chat left: recharge to go on`))
    .on('chat:ended', (data) => {
      ui.setBalance(data.balance);
      finish(`${data.durationInSeconds} s, ${data.coinsSpent} coins (${data.reason})`);
    })
    .on('chat:rejected', () => finish('Declined'))
    .on('chat:missed', () => finish('No answer'))
    .on('chat:cancelled', () => finish('Cancelled'))
    .on('chat:error', (data) => {
      notice(data.message, true);
      if (chat && !chat.sessionId) { chat = null; panel.hidden = true; }
    })
    .on('gift:received', (data) => {
      if (data.balance !== undefined) ui.setBalance(data.balance);
      notice(`You sent ${data.name} (${data.coins} coins)`);
      if (chat?.sessionId === data.sessionId) line(`🎁 ${data.name} · ${data.coins} coins`, true, 'gift-line');
    });

  return { start, giftButtons, loadGifts, busy: () => chat !== null };
}
