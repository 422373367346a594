/* carepath web chat widget: one file, no build step. Protocol: docs/subsystems/channels.md.
 *
 * Embed (two lines, with your public key):
 *   <script>window.carepath=window.carepath||{q:[]};["identify","track","open","close","reset"].forEach(function(m){carepath[m]=carepath[m]||function(){var a=arguments;return new Promise(function(r,j){carepath.q.push([m,a,r,j])})}})</script>
 *   <script async src="https://CAREPATH/widget.js" data-carepath-key="pk_..."></script>
 *
 * Everything customers and agents wrote is inserted with textContent, never as HTML.
 */
(function () {
  "use strict";
  var stub = window.carepath || { q: [] };
  if (stub.loaded) return;
  var script = document.currentScript || document.querySelector("script[data-carepath-key]");
  var key = (script && script.getAttribute("data-carepath-key")) || stub.key;
  if (!script || !key) {
    if (window.console) console.error("carepath: add data-carepath-key=\"pk_…\" to the script tag");
    return;
  }
  // A "continue in chat" link texted to a caller: the session is theirs, on their case.
  var continueToken = script.getAttribute("data-carepath-continue");
  var base = script.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var wsBase = base.replace(/^http/, "ws");
  var MAX_TEXT = 5000;
  var TYPING_EVERY_MS = 3000;
  var TYPING_SHOWN_MS = 6000;
  var SILENCE_MS = 60000; // the server sends a heartbeat after 25 s of silence
  var store = storage(window.localStorage);
  var pageStore = storage(window.sessionStorage);
  var prefix = "carepath:" + key + ":";

  var state = {
    visitorId: store.get(prefix + "visitor") || newId(),
    user: null, // {userId, hash} once a verified identify succeeded
    session: null,
    ws: null,
    connecting: false,
    ready: false, // the stream said stream.ready
    lastEventId: 0,
    caseId: null,
    attempts: 0,
    retryTimer: null,
    watchdog: null,
    messages: {}, // message id -> list item
    outbox: loadOutbox(), // unsent messages of this page, oldest first
    unread: {}, // outbound message ids not read yet
    lastTypingSent: 0,
    typingTimer: null,
    readTimer: null,
    readUpTo: null, // a read receipt not sent yet
    pending: Promise.resolve(), // identify calls settle before we connect or track
    generation: 0
  };
  store.set(prefix + "visitor", state.visitorId);

  // ---- the page's API --------------------------------------------------------------------
  var api = {
    loaded: true,
    identify: identify,
    track: function (name, properties) {
      return afterIdentify(function () {
        return sendTrack("custom", String(name), properties || {});
      });
    },
    open: function () { setOpen(true); return Promise.resolve(); },
    close: function () { setOpen(false); return Promise.resolve(); },
    reset: function () {
      state.visitorId = newId();
      store.set(prefix + "visitor", state.visitorId);
      state.user = null;
      restart();
      return Promise.resolve();
    }
  };

  // ---- the view --------------------------------------------------------------------------
  var host = document.createElement("div");
  host.id = "carepath-widget";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("style", null, CSS()));
  var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false",
    "aria-controls": "cp-panel" });
  var launcherText = el("span", null, "Chat with us");
  var badge = el("span", { class: "badge", "aria-hidden": "true", hidden: "" });
  launcher.append(launcherText, badge);
  var panel = el("section", { id: "cp-panel", class: "panel", "aria-labelledby": "cp-title",
    hidden: "" });
  var title = el("h2", { id: "cp-title" }, "Chat with us");
  var closeButton = el("button", { type: "button", class: "close", "aria-label": "Close chat" },
    "×");
  var status = el("p", { class: "status", role: "status" }, "Connecting…");
  var log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label":
    "Conversation", tabindex: "0" });
  var typing = el("p", { class: "typing", "aria-live": "polite" });
  var survey = el("form", { class: "survey", hidden: "", "aria-label": "Rate this conversation" });
  var composer = el("form", { class: "composer" });
  var inputLabel = el("label", { for: "cp-input" }, "Your message");
  var input = el("textarea", { id: "cp-input", rows: "2", maxlength: String(MAX_TEXT),
    autocomplete: "off" });
  var sendButton = el("button", { type: "submit" }, "Send");
  var composerError = el("p", { class: "error", role: "alert" });
  composer.append(inputLabel, input, sendButton, composerError);
  var callToggle = el("button", { type: "button", class: "call-toggle", "aria-expanded": "false",
    "aria-controls": "cp-call" }, "Call me");
  var callForm = buildCallForm();
  panel.append(el("header", null, [title, closeButton]), status, log, typing, survey, composer,
    callToggle, callForm.form);
  root.append(launcher, panel);

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); setOpen(false); }
  });
  composer.addEventListener("submit", function (e) { e.preventDefault(); submitMessage(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitMessage(); }
  });
  input.addEventListener("input", signalTyping);
  callToggle.addEventListener("click", function () { showCallForm(callForm.form.hidden); });
  document.addEventListener("visibilitychange", markRead);
  window.addEventListener("online", function () { if (!state.ws) reconnectSoon(0); });
  window.addEventListener("offline", function () {
    setStatus("You are offline. Messages will be sent when the connection is back.");
  });
  window.addEventListener("popstate", trackPageView);
  window.addEventListener("hashchange", trackPageView);

  function mount() {
    document.body.appendChild(host);
    updateUnread();
    state.outbox.forEach(function (entry) { entry.item = renderOwnPending(entry); });
    var queued = stub.q || [];
    window.carepath = api;
    queued.forEach(function (call) {
      var result;
      try { result = api[call[0]].apply(null, call[1]); } catch (err) { result = Promise.reject(err); }
      Promise.resolve(result).then(call[2], call[3]);
    });
    trackPageView();
    afterIdentify(connect);
  }

  // ---- identity and journey ----------------------------------------------------------------
  function identify(claims) {
    claims = claims || {};
    var body = { visitor_id: state.visitorId };
    if (claims.userId != null) body.user_id = String(claims.userId);
    ["hash", "name", "email", "phone"].forEach(function (field) {
      if (claims[field] != null && claims[field] !== "") body[field] = String(claims[field]);
    });
    var call = request("POST", "/v1/identify", body, keyHeader()).then(function (res) {
      var user = res.verified && body.user_id ? { userId: body.user_id, hash: body.hash } : null;
      var changed = JSON.stringify(user) !== JSON.stringify(state.user);
      state.user = user;
      if (changed) restart();
      return { verified: res.verified, customerId: res.customer_id, ignored: res.ignored };
    });
    state.pending = call.catch(function () {});
    return call;
  }

  function afterIdentify(work) {
    return state.pending.then(work);
  }

  function who() {
    if (state.user) return { user_id: state.user.userId, hash: state.user.hash };
    return { visitor_id: state.visitorId };
  }

  function sendTrack(type, name, properties) {
    var body = who();
    body.events = [{ type: type, name: name.slice(0, 100) || "page", channel: "web",
      properties: properties }];
    return request("POST", "/v1/track", body, keyHeader()).then(function () {});
  }

  function trackPageView() {
    afterIdentify(function () {
      return sendTrack("page_view", location.pathname, {
        url: location.href, title: document.title, referrer: document.referrer
      });
    }).catch(function () {});
  }

  // ---- session and stream ----------------------------------------------------------------
  function ensureSession() {
    if (state.session && state.session.expires > Date.now() + 30000) {
      return Promise.resolve(state.session.token);
    }
    var body = { visitor_id: state.visitorId, channel: "chat" };
    if (state.user) { body.user_id = state.user.userId; body.hash = state.user.hash; }
    else if (continueToken) body.continue_token = continueToken;
    var generation = state.generation;
    return request("POST", "/v1/visitor/session", body, keyHeader()).then(function (res) {
      if (generation === state.generation) {
        state.session = { token: res.session, expires: Date.parse(res.expires_at) };
        if (res.case_id) state.caseId = res.case_id;
      }
      return res.session;
    });
  }

  function connect() {
    if (state.ws || state.connecting) return;
    clearTimeout(state.retryTimer);
    state.connecting = true;
    var generation = state.generation;
    ensureSession().then(function (token) {
      state.connecting = false;
      if (generation !== state.generation) { connect(); return; }
      if (state.ws) return;
      var url = wsBase + "/v1/visitor/stream?session=" + encodeURIComponent(token) +
        "&last_event_id=" + state.lastEventId;
      var ws = new WebSocket(url);
      state.ws = ws;
      ws.onmessage = function (e) { if (state.ws === ws) onFrame(e.data); };
      ws.onclose = function (e) {
        if (state.ws !== ws) return;
        state.ws = null;
        state.ready = false;
        clearTimeout(state.watchdog);
        if (e.code === 4401) state.session = null; // expired or refused: a new handshake
        reconnectSoon();
      };
      ws.onerror = function () { /* onclose follows */ };
      feedWatchdog(ws);
    }, function (err) {
      state.connecting = false;
      if (err.data && err.data.reason === "visitor_belongs_to_user") {
        // Someone signed in with this browser's visitor id before: start a visitor of our own.
        state.visitorId = newId();
        store.set(prefix + "visitor", state.visitorId);
      }
      if (err.status === 401 && err.data && err.data.reason === "invalid_hash") {
        state.user = null;
      }
      if (err.status === 401 && err.data && /continue/.test(err.data.reason || "")) {
        continueToken = null; // an expired or broken link: go on as an anonymous visitor
      }
      reconnectSoon();
    });
  }

  function reconnectSoon(delay) {
    clearTimeout(state.retryTimer);
    setStatus(navigator.onLine === false ? "You are offline. Messages will be sent when the " +
      "connection is back." : "Reconnecting…");
    if (delay === undefined) {
      delay = Math.min(15000, 500 * Math.pow(2, state.attempts)) * (0.5 + Math.random() / 2);
      state.attempts += 1;
    }
    state.retryTimer = setTimeout(connect, delay);
  }

  function restart() {
    // A new identity: a new session and the whole conversation again, from its start.
    state.generation += 1;
    state.session = null;
    var ws = state.ws;
    state.ws = null;
    state.ready = false;
    if (ws) ws.close(1000, "identity changed");
    state.lastEventId = 0;
    state.messages = {};
    state.unread = {};
    state.readUpTo = null;
    state.caseId = null;
    while (log.firstChild) log.removeChild(log.firstChild);
    state.outbox.forEach(function (entry) { entry.item = renderOwnPending(entry); });
    survey.hidden = true;
    updateUnread();
    afterIdentify(connect);
  }

  function feedWatchdog(ws) {
    clearTimeout(state.watchdog);
    state.watchdog = setTimeout(function () { if (state.ws === ws) ws.close(4000, "silent"); },
      SILENCE_MS);
  }

  function send(frame) {
    if (!state.ws || !state.ready || state.ws.readyState !== WebSocket.OPEN) return false;
    state.ws.send(JSON.stringify(frame));
    return true;
  }

  function onFrame(raw) {
    var frame;
    try { frame = JSON.parse(raw); } catch (err) { return; }
    feedWatchdog(state.ws);
    if (frame.type === "stream.ready") {
      state.ready = true;
      state.attempts = 0;
      setStatus("Connected");
      state.outbox.forEach(sendEntry);
      scheduleRead();
    } else if (frame.type === "heartbeat") {
      state.lastEventId = Math.max(state.lastEventId, frame.last_event_id);
    } else if (frame.type === "ack") {
      onAck(frame);
    } else if (frame.type === "error") {
      onError(frame);
    } else if (typeof frame.id === "number") {
      onEvent(frame);
      state.lastEventId = Math.max(state.lastEventId, frame.id);
    }
  }

  function onEvent(event) {
    var data = event.data;
    switch (event.type) {
      case "message.created": onMessage(data); break;
      case "message.updated":
        if (data.delivery_status === "read") { delete state.unread[data.message_id]; updateUnread(); }
        break;
      case "case.resolved": note("This conversation was marked as resolved."); break;
      case "case.reopened": note("This conversation was reopened."); break;
      case "survey.sent": showSurvey(data); break;
      case "survey.answered": hideSurvey(data.survey_id); break;
      case "callback.requested": note("Call requested to " + data.phone + " " +
        describeTime(data.requested_for) + "."); break;
      case "typing": showTyping(data.author && data.author.name); break;
    }
  }

  // ---- messages --------------------------------------------------------------------------
  function submitMessage() {
    var text = input.value.trim();
    composerError.textContent = "";
    if (!text) return;
    if (text.length > MAX_TEXT) {
      composerError.textContent = "A message is at most " + MAX_TEXT + " characters.";
      return;
    }
    var entry = { clientId: newId(), text: text, caseId: state.caseId };
    entry.item = renderOwnPending(entry);
    state.outbox.push(entry);
    saveOutbox();
    input.value = "";
    sendEntry(entry);
  }

  function sendEntry(entry) {
    send({ type: "message", client_id: entry.clientId, text: entry.text,
      case_id: entry.caseId || undefined });
  }

  function onAck(ack) {
    var entry = takeFromOutbox(ack.client_id);
    state.caseId = ack.case_id || state.caseId;
    if (!entry) return; // the message.created event came first and settled it
    if (state.messages[ack.message_id]) {
      entry.item.remove(); // already shown from the stream
      return;
    }
    settle(entry.item, ack.message_id, ack.created_at);
  }

  function onError(error) {
    if (error.client_id) {
      var entry = findInOutbox(error.client_id);
      if (entry && error.code === "rate_limited") {
        setMeta(entry.item, "Waiting to send…");
        setTimeout(function () { sendEntry(entry); }, (error.retry_after_s || 3) * 1000);
        return;
      }
      if (entry) {
        takeFromOutbox(entry.clientId);
        setMeta(entry.item, "Not sent: " + error.message);
        entry.item.classList.add("failed");
        return;
      }
    }
    composerError.textContent = error.message || "Something went wrong.";
  }

  function onMessage(data) {
    if (state.messages[data.message_id]) return;
    state.caseId = data.case_id;
    var mine = data.direction === "inbound";
    var entry = mine && data.client_id ? takeFromOutbox(data.client_id) : null;
    if (entry) {
      settle(entry.item, data.message_id, data.created_at);
      return;
    }
    var item = renderMessage(data);
    state.messages[data.message_id] = item;
    if (!mine) {
      showTyping(null);
      state.unread[data.message_id] = true;
      updateUnread();
      scheduleRead();
    }
  }

  function settle(item, messageId, createdAt) {
    item.dataset.messageId = messageId;
    state.messages[messageId] = item;
    item.querySelector(".meta").textContent = time(createdAt) + " · Sent";
  }

  function renderMessage(data) {
    var mine = data.direction === "inbound";
    var name = mine ? "You" : (data.author && data.author.name) || "Support";
    var meta = time(data.created_at) + (mine ? " · Sent" : "") +
      (data.channel && data.channel !== "chat" && data.channel !== "app" ? " · by " +
        data.channel : "");
    var item = messageItem(mine, name, data.text, meta);
    item.dataset.messageId = data.message_id;
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function renderOwnPending(entry) {
    var item = messageItem(true, "You", entry.text, "Sending…");
    item.dataset.clientId = entry.clientId;
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function messageItem(mine, name, text, meta) {
    var item = el("li", { class: "msg " + (mine ? "mine" : "theirs") });
    item.append(el("span", { class: "author" }, name), el("p", { class: "text" }, text),
      el("span", { class: "meta" }, meta));
    return item;
  }

  function setMeta(item, text) {
    item.querySelector(".meta").textContent = text;
  }

  function note(text) {
    log.appendChild(el("li", { class: "note" }, text));
    scrollDown();
  }

  function findInOutbox(clientId) {
    for (var i = 0; i < state.outbox.length; i++) {
      if (state.outbox[i].clientId === clientId) return state.outbox[i];
    }
    return null;
  }

  function takeFromOutbox(clientId) {
    var entry = findInOutbox(clientId);
    if (entry) {
      state.outbox.splice(state.outbox.indexOf(entry), 1);
      saveOutbox();
    }
    return entry;
  }

  function loadOutbox() {
    try {
      var saved = JSON.parse(pageStore.get(prefix + "outbox") || "[]");
      return Array.isArray(saved) ? saved.filter(function (e) { return e && e.clientId; }) : [];
    } catch (err) { return []; }
  }

  function saveOutbox() {
    pageStore.set(prefix + "outbox", JSON.stringify(state.outbox.map(function (e) {
      return { clientId: e.clientId, text: e.text, caseId: e.caseId };
    })));
  }

  // ---- typing, unread, read receipts -----------------------------------------------------
  function signalTyping() {
    var now = Date.now();
    if (now - state.lastTypingSent < TYPING_EVERY_MS) return;
    if (send({ type: "typing", case_id: state.caseId || undefined })) state.lastTypingSent = now;
  }

  function showTyping(name) {
    clearTimeout(state.typingTimer);
    typing.textContent = name ? name + " is typing…" : "";
    if (name) state.typingTimer = setTimeout(function () { typing.textContent = ""; },
      TYPING_SHOWN_MS);
  }

  function unreadIds() { return Object.keys(state.unread); }

  function updateUnread() {
    var count = unreadIds().length;
    badge.textContent = String(count);
    badge.hidden = count === 0;
    // The visible words stay the start of the name; aria-expanded tells open from closed.
    launcher.setAttribute("aria-label", "Chat with us" +
      (count ? ", " + count + " unread message" + (count === 1 ? "" : "s") : ""));
  }

  function scheduleRead() {
    // A replayed history brings many replies at once: one receipt for all of them.
    clearTimeout(state.readTimer);
    state.readTimer = setTimeout(markRead, 250);
  }

  function markRead() {
    if (panel.hidden || document.visibilityState === "hidden") return;
    if (unreadIds().length) {
      Object.keys(state.messages).forEach(function (id) {
        // Keys keep insertion order: the last unread one is the newest.
        if (state.unread[id]) state.readUpTo = id;
      });
      state.unread = {};
      updateUnread();
    }
    // Shown is read; the receipt waits for the connection if there is none.
    if (state.readUpTo && send({ type: "read", up_to: state.readUpTo })) state.readUpTo = null;
  }

  // ---- survey ----------------------------------------------------------------------------
  function showSurvey(data) {
    if (data.expires_at && Date.parse(data.expires_at) < Date.now()) return;
    while (survey.firstChild) survey.removeChild(survey.firstChild);
    survey.dataset.surveyId = data.survey_id;
    data.questions.forEach(function (q) {
      var group = el("fieldset", null, [el("legend", null, q.text)]);
      for (var score = q.min; score <= q.max; score++) {
        var id = "cp-" + q.kind + "-" + score;
        group.append(el("input", { type: "radio", name: q.kind, value: String(score), id: id,
          required: "" }), el("label", { for: id }, String(score)));
      }
      survey.append(group);
    });
    var result = el("p", { role: "status" });
    survey.append(el("button", { type: "submit" }, "Send rating"), result);
    survey.onsubmit = function (e) {
      e.preventDefault();
      var answers = {};
      data.questions.forEach(function (q) {
        var chosen = survey.querySelector("input[name='" + q.kind + "']:checked");
        if (chosen) answers[q.kind] = Number(chosen.value);
      });
      request("POST", "/v1/surveys/answer", { token: data.token, answers: answers }, {})
        .then(function () { hideSurvey(data.survey_id); note("Thank you for your rating."); },
          function (err) { result.textContent = err.message; });
    };
    survey.hidden = false;
  }

  function hideSurvey(surveyId) {
    if (survey.dataset.surveyId === surveyId) survey.hidden = true;
  }

  // ---- call me ---------------------------------------------------------------------------
  function buildCallForm() {
    var form = el("form", { id: "cp-call", class: "call", hidden: "", "aria-label":
      "Ask for a call" });
    var phone = el("input", { id: "cp-phone", type: "tel", autocomplete: "tel", required: "",
      placeholder: "+44 20 7946 0958" });
    var now = el("input", { type: "radio", name: "when", id: "cp-when-now", value: "now",
      checked: "" });
    var later = el("input", { type: "radio", name: "when", id: "cp-when-later", value: "later" });
    var at = el("input", { type: "datetime-local", id: "cp-at", disabled: "" });
    var result = el("p", { role: "status" });
    form.append(
      el("label", { for: "cp-phone" }, "Phone number (international)"), phone,
      el("fieldset", null, [el("legend", null, "When"), now, el("label", { for: "cp-when-now" },
        "Now"), later, el("label", { for: "cp-when-later" }, "Later")]),
      el("label", { for: "cp-at" }, "Time"), at,
      el("button", { type: "submit" }, "Request call"), result);
    form.addEventListener("change", function () { at.disabled = !later.checked; });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      result.textContent = "";
      var when = "now";
      if (later.checked) {
        if (!at.value) { result.textContent = "Choose a time for the call."; at.focus(); return; }
        when = new Date(at.value).toISOString();
      }
      ensureSession().then(function (token) {
        return request("POST", "/v1/visitor/callbacks", { phone: phone.value, when: when,
          case_id: state.caseId || undefined }, { "X-Carepath-Session": token });
      }).then(function (callback) {
        state.caseId = callback.case_id;
        showCallForm(false);
        callToggle.focus();
        setStatus("We will call " + callback.phone + " " + describeTime(callback.requested_for) +
          ".");
      }, function (err) { result.textContent = err.message; phone.focus(); });
    });
    return { form: form, phone: phone };
  }

  function showCallForm(show) {
    callForm.form.hidden = !show;
    callToggle.setAttribute("aria-expanded", String(show));
    if (show) callForm.phone.focus();
  }

  // ---- panel -----------------------------------------------------------------------------
  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    updateUnread();
    if (open) {
      input.focus();
      scrollDown();
      markRead();
    } else {
      launcher.focus();
    }
  }

  function setStatus(text) { status.textContent = text; }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // ---- helpers ---------------------------------------------------------------------------
  function keyHeader() { return { "X-Carepath-Key": key }; }

  function request(method, path, body, headers) {
    var init = { method: method, headers: Object.assign({ "Content-Type": "application/json" },
      headers), mode: "cors", credentials: "omit" };
    if (body) init.body = JSON.stringify(body);
    return fetch(base + path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) return data;
        var problem = (data && data.error) || {};
        var err = new Error(problem.message || "request failed (" + response.status + ")");
        err.status = response.status;
        err.code = problem.code;
        err.data = problem.data || {};
        throw err;
      });
    });
  }

  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (typeof content === "string") node.textContent = content;
    else if (content) node.append.apply(node, content);
    return node;
  }

  function time(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function describeTime(iso) {
    var d = new Date(iso);
    return d - Date.now() < 120000 ? "as soon as possible" : "at " + d.toLocaleString();
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function storage(area) {
    var memory = {};
    return {
      get: function (name) {
        try { return area.getItem(name); } catch (err) { return memory[name] || null; }
      },
      set: function (name, value) {
        try { area.setItem(name, value); } catch (err) { memory[name] = value; }
      }
    };
  }

  function CSS() {
    return ":host{all:initial;font:15px/1.4 system-ui,sans-serif;color:#1d1d1f}" +
      "*{box-sizing:border-box}" +
      ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;padding:12px 18px;" +
      "border:0;border-radius:24px;background:#1f5fbf;color:#fff;font:inherit;cursor:pointer}" +
      ".badge{margin-left:8px;padding:0 7px;border-radius:10px;background:#d62b2b}" +
      ".panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:360px;" +
      "max-width:calc(100vw - 40px);max-height:70vh;display:flex;flex-direction:column;" +
      "gap:6px;padding:12px;background:#fff;border:1px solid #c8c8cc;border-radius:12px;" +
      "box-shadow:0 8px 24px rgba(0,0,0,.18)}[hidden]{display:none!important}" +
      "header{display:flex;justify-content:space-between;align-items:center}" +
      "h2{margin:0;font-size:17px}.close{border:0;background:none;font-size:22px;cursor:pointer}" +
      ".status,.typing{margin:0;font-size:13px;color:#555;min-height:1em}" +
      ".panel>*{flex-shrink:0}.panel>.log{flex-shrink:1}" +
      ".log{list-style:none;margin:0;padding:0;overflow-y:auto;flex:1;min-height:120px}" +
      ".msg{margin:6px 0;padding:8px 10px;border-radius:10px;max-width:85%}" +
      ".mine{margin-left:auto;background:#e4efff}.theirs{background:#f1f1f3}" +
      ".failed{outline:2px solid #d62b2b}" +
      ".author{display:block;font-weight:600;font-size:13px}.text{margin:2px 0;" +
      "white-space:pre-wrap;overflow-wrap:anywhere}.meta{font-size:12px;color:#555}" +
      ".note{margin:6px 0;font-size:13px;color:#555;text-align:center}" +
      ".composer,.call,.survey{display:flex;flex-direction:column;gap:4px}" +
      "textarea,input[type=tel],input[type=datetime-local]{font:inherit;padding:6px;" +
      "border:1px solid #8e8e93;border-radius:6px}" +
      "button{font:inherit}.composer button,.call button,.survey button,.call-toggle{" +
      "padding:6px 12px;border:1px solid #1f5fbf;border-radius:6px;background:#fff;" +
      "color:#1f5fbf;cursor:pointer}fieldset{border:0;padding:0;margin:0}" +
      ".error{margin:0;color:#b00020;font-size:13px}" +
      ":focus-visible{outline:3px solid #ffbf47;outline-offset:2px}";
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
