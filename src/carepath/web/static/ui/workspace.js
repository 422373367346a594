/* carepath workspace: live updates from /v1/stream, keyboard shortcuts, saved replies.
   Plain script, no build step; htmx does the partial page swaps. */
(function () {
  "use strict";
  const body = document.body;
  const page = body.dataset.page || "";
  const caseId = body.dataset.caseId || null;

  // --- live updates -------------------------------------------------------------------------
  // Each page reloads its regions ([data-live-region]) on the events that can change them;
  // offers of work (#offers, on every page) reload on any work event.
  const RULES = {
    inbox: /^(case\.|message\.created|work\.|note\.added|agent\.presence)/,
    case: /^(message\.|note\.added|call\.|callback\.|journey\.event|case\.)/,
    board: /^(work\.|agent\.presence|case\.)/,
    callbacks: /^(callback\.|work\.|call\.|case\.assigned)/,
  };
  const OFFERS = /^work\./;
  const PAGE_REGIONS = "[data-live-region]:not(#offers)";
  const pending = new Set();
  let timer = null;

  function refreshSoon(selector) {
    pending.add(selector);
    clearTimeout(timer);
    // Bursts of events (a message, its case update, its work item) become one request each.
    timer = setTimeout(function () {
      pending.forEach(function (sel) {
        document.querySelectorAll(sel).forEach(function (el) {
          if (window.htmx) { window.htmx.trigger(el, "refresh"); }
        });
      });
      pending.clear();
    }, 150);
  }

  function targets(event) {
    const type = event.type || "";
    const found = [];
    if (OFFERS.test(type)) { found.push("#offers"); }
    const rule = RULES[page];
    if (rule && rule.test(type)) {
      const data = event.data || {};
      if (page !== "case" || !data.case_id || data.case_id === caseId) { found.push(PAGE_REGIONS); }
    }
    return found;
  }

  let lastId = null;
  let delay = 1000;
  const state = document.getElementById("live-state");
  function setState(text, on) {
    if (state) { state.textContent = text; state.classList.toggle("on", on); }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = lastId === null ? "" : "?last_event_id=" + encodeURIComponent(lastId);
    const ws = new WebSocket(scheme + "//" + location.host + "/v1/stream" + query);
    ws.onmessage = function (message) {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "stream.ready") {
        setState("live", true);
        delay = 1000;
        // Anything missed while disconnected: refresh once.
        if (lastId !== null) { refreshSoon("[data-live-region]"); }
        lastId = event.last_event_id;
        return;
      }
      if (typeof event.id === "number") { lastId = event.id; } else if (event.last_event_id) { lastId = event.last_event_id; }
      targets(event).forEach(refreshSoon);
    };
    ws.onclose = function (closed) {
      setState("offline, reconnecting…", false);
      if (closed.code === 4401) { location.href = "/app/login?next=" + encodeURIComponent(location.pathname); return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  if (body.dataset.live === "on") { connect(); } else { setState("", false); }

  // --- saved replies --------------------------------------------------------------------------
  document.addEventListener("change", function (e) {
    const select = e.target;
    if (select.id === "saved-replies" && select.value) {
      const box = document.getElementById(select.dataset.target);
      box.value = box.value ? box.value + "\n" + select.value : select.value;
      select.value = "";
      box.focus();
    }
  });

  // --- keyboard shortcuts ---------------------------------------------------------------------
  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }
  function focus(id) {
    const el = document.getElementById(id);
    if (el) { el.focus(); el.scrollIntoView({ block: "center" }); }
    return !!el;
  }
  function rows() { return Array.from(document.querySelectorAll("#inbox-rows tr.case-row")); }
  let selected = -1;
  function select(step) {
    const all = rows();
    if (!all.length) { return; }
    selected = Math.max(0, Math.min(all.length - 1, selected + step));
    all.forEach(function (row, i) { row.classList.toggle("selected", i === selected); });
    all[selected].focus();
  }
  function go(rel) {
    const link = document.querySelector('a[data-nav="' + rel + '"]');
    if (link) { location.href = link.href; }
  }
  let lastKey = "";
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && typing(e.target)) { e.target.blur(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    const help = document.getElementById("shortcuts");
    const key = e.key;
    let handled = true;
    if (key === "?") { help.open ? help.close() : help.showModal(); }
    else if (lastKey === "g" && key === "i") { location.href = "/app"; }
    else if (key === "j") { page === "inbox" ? select(1) : go("next"); }
    else if (key === "k") { page === "inbox" ? select(-1) : go("prev"); }
    else if (key === "Enter" && page === "inbox" && selected >= 0) { rows()[selected].querySelector("a").click(); }
    else if (key === "r") { handled = focus("reply-text"); }
    else if (key === "n") { handled = focus("note-text"); }
    else if (key === "c") { handled = focus("callback-phone"); }
    else if (key === "e") {
      const outcome = document.getElementById("wrap-outcome");
      if (outcome) { outcome.value = "resolved"; }
      handled = focus("wrap-note");
    } else { handled = false; }
    lastKey = key;
    if (handled) { e.preventDefault(); }
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest('[data-action="help"]')) { document.getElementById("shortcuts").showModal(); }
  });
})();
