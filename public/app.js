// The edgeio demo chat. Uses the client-shim bundle (window.EdgeIO, from /edgeio-client.js):
// rooms with live presence, typing indicators, token refresh, and reconnects are all the shim's.

const $ = (selector) => document.querySelector(selector);
const DEFAULT_ROOMS = ["lobby", "random"];
const TYPING_IDLE_MS = 1500; // stop "typing" after this much quiet
const TYPING_EXPIRE_MS = 6000; // forget a remote typer who never sent typing:stop

const state = {
  name: sessionStorage.getItem("edgeio:name") || "",
  user: null,
  socket: null,
  room: null,
  rooms: new Set(DEFAULT_ROOMS),
  messages: new Map(), // room -> [{ user, text, system }]
  typers: new Map(), // userId -> { name, timer }
  typingTimer: null,
  pollingOnly: new URLSearchParams(location.search).get("transport") === "polling",
};

async function fetchToken() {
  const response = await fetch("/dev/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: state.name }),
  });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const body = await response.json();
  state.user = body.user;
  $("#me").textContent = `signed in as ${body.user.name}`;
  return body.token;
}

function connectSocket() {
  state.socket?.disconnect();
  const socket = EdgeIO.connect(location.origin, {
    getToken: fetchToken,
    transports: state.pollingOnly ? ["polling"] : ["polling", "websocket"],
    reconnectionDelayMax: 2000,
  });
  state.socket = socket;
  window.demo.socket = socket;

  socket.on("connect", () => {
    setStatus("online");
    socket.io.engine.on("upgrade", renderTransport);
    renderTransport();
  });
  socket.on("disconnect", (reason) => {
    console.info(`edgeio demo: disconnected (${reason})`);
    setStatus(socket.active ? "reconnecting" : "offline");
    renderTransport();
    if (socket.active) systemMessage(`connection lost (${reason}), reconnecting…`);
  });
  socket.io.on("reconnect", () => systemMessage("reconnected"));
  socket.on("connect_error", (error) => {
    if (!socket.active && error.message !== "unauthorized") setStatus("offline");
  });
  socket.on("edgeio:error", (error) => systemMessage(`error: ${error.code} (${error.event ?? ""})`));

  // Rooms are per socket: re-create the helper for the active room on the new socket.
  enterRoom(state.room?.name ?? DEFAULT_ROOMS[0]);
}

async function enterRoom(name) {
  const socket = state.socket;
  const previous = state.room;
  if (previous && previous.name !== name && socket.room(previous.name) === previous) await previous.leave();
  const room = socket.room(name);
  state.room = room;
  window.demo.room = room;
  state.rooms.add(name);
  clearTypers();

  if (!room.listening) {
    room.listening = true;
    room.on("presence", () => room === state.room && renderPresence());
    room.on("message:new", (message) => {
      removeTyper(message.user.id);
      addMessage(name, { user: message.user, text: message.text });
    });
    room.on("typing:start", (event) => room === state.room && addTyper(event.user));
    room.on("typing:stop", (event) => room === state.room && removeTyper(event.user.id));
  }
  renderRooms();
  renderMessages();
  const reply = await room.join();
  if (!reply.ok) systemMessage(`could not join ${name}: ${reply.message ?? reply.error}`);
  renderPresence();
}

function sendMessage(text) {
  stopTyping();
  state.room.emit("message:new", { text, sentAt: Date.now() });
  addMessage(state.room.name, { user: state.user, text });
}

function onComposerInput() {
  if (!state.typingTimer) state.room.emit("typing:start", {});
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  if (!state.typingTimer) return;
  clearTimeout(state.typingTimer);
  state.typingTimer = null;
  state.room.emit("typing:stop", {});
}

function addTyper(user) {
  clearTimeout(state.typers.get(user.id)?.timer);
  state.typers.set(user.id, { name: user.name, timer: setTimeout(() => removeTyper(user.id), TYPING_EXPIRE_MS) });
  renderTyping();
}

function removeTyper(userId) {
  clearTimeout(state.typers.get(userId)?.timer);
  if (state.typers.delete(userId)) renderTyping();
}

function clearTypers() {
  for (const id of [...state.typers.keys()]) removeTyper(id);
}

function addMessage(room, message) {
  if (!state.messages.has(room)) state.messages.set(room, []);
  state.messages.get(room).push(message);
  if (room === state.room?.name) renderMessages();
}

function systemMessage(text) {
  if (state.room) addMessage(state.room.name, { system: true, text });
}

// Rendering: always textContent, never innerHTML, since names and messages come from users.
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function setStatus(value) {
  $("#status").dataset.state = value;
  $("#status").textContent = value;
}

function renderTransport() {
  const socket = state.socket;
  $("#transport").textContent = socket?.connected ? socket.io.engine.transport.name : "—";
}

function renderRooms() {
  $("#rooms").replaceChildren(
    ...[...state.rooms].map((name) => {
      const li = el("li", { textContent: `# ${name}`, className: name === state.room?.name ? "active" : "" });
      li.dataset.room = name;
      li.addEventListener("click", () => enterRoom(name));
      return li;
    }),
  );
  $("#room-title").textContent = `# ${state.room?.name ?? ""}`;
}

function renderPresence() {
  const room = state.room;
  // Devices, not connections: the room announces a device coming or going, not every tab.
  const devices = room.presence.reduce((sum, entry) => sum + new Set(entry.metas.map((meta) => meta.deviceId)).size, 0);
  $("#counts").textContent = `${plural(room.presence.length, "user")} · ${plural(devices, "device")}`;
  $("#presence").replaceChildren(
    ...room.presence.map((entry) => {
      const devices = new Set(entry.metas.map((meta) => meta.deviceId)).size;
      const li = el(
        "li",
        {},
        el("span", { className: "name", textContent: entry.user.name }),
        " ",
        el("span", { className: "devices", textContent: plural(devices, "device") }),
      );
      li.dataset.userId = entry.user.id;
      li.dataset.devices = String(devices);
      li.dataset.connections = String(entry.metas.length);
      if (state.typers.has(entry.user.id)) li.append(" ", el("span", { className: "typing-dot", textContent: "typing…" }));
      return li;
    }),
  );
}

function renderTyping() {
  const names = [...state.typers.values()].map((typer) => typer.name);
  $("#typing").textContent = names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
  if (state.room) renderPresence();
}

function renderMessages() {
  const list = state.messages.get(state.room?.name) ?? [];
  $("#messages").replaceChildren(
    ...list.map((message) =>
      message.system
        ? el("li", { className: "system", textContent: message.text })
        : el(
            "li",
            { className: "message" },
            el("span", { className: "author", textContent: message.user.name }),
            el("span", { className: "text", textContent: message.text }),
          ),
    ),
  );
  $("#messages").scrollTop = $("#messages").scrollHeight;
}

function start() {
  $("#login").hidden = true;
  $("#chat").hidden = false;
  connectSocket();
}

window.demo = { state };
$("#polling-only").checked = state.pollingOnly;
$("#polling-only").addEventListener("change", (event) => {
  state.pollingOnly = event.target.checked;
  const url = new URL(location.href);
  if (state.pollingOnly) url.searchParams.set("transport", "polling");
  else url.searchParams.delete("transport");
  history.replaceState(null, "", url);
  if (state.socket) connectSocket();
});
$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  state.name = $("#name").value.trim();
  if (!state.name) return;
  try {
    await fetchToken(); // fail early on the login form if the endpoint is off
  } catch (error) {
    $("#login-error").textContent = String(error.message ?? error);
    return;
  }
  sessionStorage.setItem("edgeio:name", state.name);
  start();
});
$("#room-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("#new-room").value.trim();
  $("#new-room").value = "";
  if (name) enterRoom(name);
});
$("#composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("#text").value.trim();
  $("#text").value = "";
  if (text) sendMessage(text);
});
$("#text").addEventListener("input", onComposerInput);
if (state.name) start();
