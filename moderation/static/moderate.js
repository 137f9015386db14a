// Moderator UI: keyboard shortcuts and in-place actions.  No framework, no build step, no inline script
// (the CSP forbids it).  Every action POSTs the same form endpoints the no-JS page uses, with
// Accept: application/json and the session's CSRF token in X-CSRF-Token.  User text is only ever
// inserted with textContent, never innerHTML.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var toast = document.getElementById("toast");
  var help = document.getElementById("help");
  var list = document.getElementById("items");
  var bulkForm = document.getElementById("bulk");
  var selectAll = document.getElementById("select-all");
  var countLabel = document.getElementById("selected-count");
  var undoStack = [];   // [{ids: [decision ids], items: [li], message}]
  var focusIndex = -1;
  var busy = false;
  var toastTimer = null;
  var PAST = { approve: "approved", not_spam: "approved", reject: "rejected", spam: "spam" };

  function items() { return list ? Array.prototype.slice.call(list.querySelectorAll("li.item")) : []; }
  function itemById(id) { return document.getElementById("comment-" + id); }
  function checkbox(li) { return li.querySelector('input[type=checkbox][name=ids]'); }
  function selected() { return items().filter(function (li) { var c = checkbox(li); return c && c.checked; }); }
  function currentTab() { var t = bulkForm && bulkForm.querySelector('input[name=status]'); return t ? t.value : "pending"; }

  function showToast(message, opts) {
    if (!toast) { return; }
    opts = opts || {};
    toast.textContent = "";
    var text = document.createElement("span");
    text.textContent = message;
    toast.appendChild(text);
    if (opts.undo) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = "Undo (u)";
      b.addEventListener("click", undoLast);
      toast.appendChild(b);
    }
    toast.classList.toggle("bad", !!opts.bad);
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, opts.bad ? 8000 : 6000);
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) {
      var v = fields[k];
      if (Array.isArray(v)) { v.forEach(function (x) { body.append(k, x); }); }
      else if (v !== undefined && v !== null && v !== "") { body.append(k, v); }
    });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (resp.status === 401) { window.location.href = "/moderate/login?next=" + encodeURIComponent(location.pathname + location.search); }
        if (!resp.ok) { throw new Error(data.detail || data.title || ("HTTP " + resp.status)); }
        return data;
      });
    });
  }

  // ── focus & selection ──────────────────────────────────────────────────────────────────────────
  function setFocus(i) {
    var all = items();
    if (!all.length) { return; }
    i = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (li) { li.classList.remove("focused"); });
    focusIndex = i;
    all[i].classList.add("focused");
    all[i].scrollIntoView({ block: "nearest" });
  }
  function focused() { var all = items(); return focusIndex >= 0 && focusIndex < all.length ? all[focusIndex] : null; }
  function nextUndecided(from) {
    var all = items();
    for (var i = from + 1; i < all.length; i++) { if (!all[i].classList.contains("decided")) { return i; } }
    for (var j = from; j >= 0; j--) { if (!all[j].classList.contains("decided")) { return j; } }
    return from;
  }
  function updateCount() {
    var n = selected().length;
    if (countLabel) { countLabel.textContent = n + " selected"; }
    items().forEach(function (li) { var c = checkbox(li); li.classList.toggle("selected", !!(c && c.checked)); });
    if (selectAll) { selectAll.checked = n > 0 && n === items().length; }
  }
  function toggleSelect(li) { var c = li && checkbox(li); if (c && !c.disabled) { c.checked = !c.checked; updateCount(); } }

  // ── decisions ──────────────────────────────────────────────────────────────────────────────────
  function markDecided(li, action) {
    li.classList.add("decided");
    li.classList.remove("selected");
    var c = checkbox(li);
    if (c) { c.checked = false; c.disabled = true; }
    li.querySelectorAll(".actions button").forEach(function (b) { b.disabled = true; });
    var meta = li.querySelector(".meta");
    var pill = li.querySelector(".status-pill.js");
    if (!pill && meta) { pill = document.createElement("span"); pill.className = "status-pill js"; meta.appendChild(pill); }
    if (pill) { pill.textContent = PAST[action] || action; pill.className = "status-pill js status-" + (PAST[action] || action); }
  }
  function markRestored(li) {
    li.classList.remove("decided");
    var c = checkbox(li);
    if (c) { c.disabled = false; }
    li.querySelectorAll(".actions button").forEach(function (b) { b.disabled = false; });
    var pill = li.querySelector(".status-pill.js");
    if (pill) { pill.remove(); }
  }

  function adjustCount(delta) {
    // the badge of the tab being worked (pending/spam); a capped "1000+" badge is left alone
    var badge = document.querySelector(".tabs a.active .count");
    if (!badge || /\+$/.test(badge.textContent)) { return; }
    badge.textContent = String(Math.max(0, parseInt(badge.textContent, 10) + delta));
  }

  function actionFor(key) {
    if (key === "approve") { return currentTab() === "spam" ? "not_spam" : "approve"; }
    return key;
  }

  function decide(key) {
    if (busy) { return; }
    var chosen = selected();
    if (chosen.length) { return decideMany(chosen, actionFor(key)); }
    var li = focused();
    if (!li) { setFocus(0); li = focused(); }
    if (!li || li.classList.contains("decided")) { return; }
    var action = key === "approve" && li.dataset.status === "spam" ? "not_spam" : key;
    if (li.dataset.status === PAST[action]) { showToast("Already " + PAST[action] + ".", { bad: true }); return; }
    var reason = li.querySelector('.actions input[name=reason]');
    busy = true;
    post("/moderate/comments/" + li.dataset.id + "/decision", { action: action, reason: reason ? reason.value : "" })
      .then(function (data) {
        markDecided(li, action);
        adjustCount(-1);
        undoStack.push({ ids: data.decision_ids, items: [li], message: data.message });
        showToast(data.message, { undo: true });
        setFocus(nextUndecided(items().indexOf(li)));
      })
      .catch(function (err) { showToast(err.message, { bad: true }); })
      .then(function () { busy = false; });
  }

  function decideMany(chosen, action) {
    var reason = bulkForm ? bulkForm.querySelector('input[name=reason]') : null;
    busy = true;
    post("/moderate/decisions", {
      action: action, reason: reason ? reason.value : "",
      ids: chosen.map(function (li) { return li.dataset.id; })
    }).then(function (data) {
      var changed = {};
      (data.changed || []).forEach(function (c) { changed[c.comment_id] = true; });
      chosen.forEach(function (li) { markDecided(li, action); });
      adjustCount(-(data.changed || []).length);
      undoStack.push({ ids: data.decision_ids, items: chosen.filter(function (li) { return changed[li.dataset.id]; }),
                       message: data.message });
      updateCount();
      showToast(data.message, { undo: true });
      setFocus(nextUndecided(items().indexOf(chosen[chosen.length - 1])));
    }).catch(function (err) { showToast(err.message, { bad: true }); })
      .then(function () { busy = false; });
  }

  function decideFilter(action) {
    // every comment matching the page's filters, server-side in one transaction (see decisions.bulk)
    if (busy || !window.confirm("Apply \u201c" + action + "\u201d to every comment matching this search and these filters?")) { return; }
    var fields = { action: action, scope: "filter" };
    bulkForm.querySelectorAll("input[type=hidden]").forEach(function (i) { if (i.name !== "csrf_token" && i.name !== "next") { fields[i.name] = i.value; } });
    var reason = bulkForm.querySelector("input[name=reason]");
    fields.reason = reason ? reason.value : "";
    busy = true;
    post("/moderate/decisions", fields).then(function (data) {
      var changed = {};
      (data.changed || []).forEach(function (c) { changed[c.comment_id] = true; });
      var hit = items().filter(function (li) { return changed[li.dataset.id]; });
      hit.forEach(function (li) { markDecided(li, action); });
      adjustCount(-(data.changed || []).length);
      undoStack.push({ ids: data.decision_ids, items: hit, message: data.message });
      updateCount();
      showToast(data.message, { undo: true });
    }).catch(function (err) { showToast(err.message, { bad: true }); })
      .then(function () { busy = false; });
  }

  function undoLast() {
    if (busy) { return; }
    var last = undoStack.pop();
    if (!last) { showToast("Nothing to undo."); return; }
    if (!last.ids.length) { return undoLast(); }
    busy = true;
    post("/moderate/decisions/undo", { ids: last.ids })
      .then(function (data) {
        last.items.forEach(markRestored);
        adjustCount(last.items.length);
        if (last.items.length) { setFocus(items().indexOf(last.items[0])); }
        showToast(data.message);
      })
      .catch(function (err) { undoStack.push(last); showToast(err.message, { bad: true }); })
      .then(function () { busy = false; });
  }

  // ── wiring ─────────────────────────────────────────────────────────────────────────────────────
  function toggleHelp(force) {
    if (!help) { return; }
    help.hidden = force === undefined ? !help.hidden : !force;
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest ? ev.target.closest("[data-action]") : null;
    if (t && t.dataset.action === "help") { ev.preventDefault(); toggleHelp(); return; }
    if (help && ev.target === help) { toggleHelp(false); }
    var li = ev.target.closest ? ev.target.closest("li.item") : null;
    if (li && !ev.target.closest("a, button, input")) { setFocus(items().indexOf(li)); }
  });

  if (list) {
    // Per-comment buttons: the same endpoint as the no-JS form, in place.
    list.addEventListener("submit", function (ev) {
      var formEl = ev.target;
      var li = formEl.closest("li.item");
      var button = ev.submitter;
      if (!li || !button || button.name !== "action") { return; }
      ev.preventDefault();
      setFocus(items().indexOf(li));
      selected().forEach(function (s) { checkbox(s).checked = false; });
      updateCount();
      decide(button.value === "not_spam" ? "approve" : button.value);
    });
    list.addEventListener("change", function (ev) { if (ev.target.name === "ids") { updateCount(); } });
  }
  if (bulkForm) {
    bulkForm.addEventListener("submit", function (ev) {
      var button = ev.submitter;
      if (!button || button.name !== "action") { return; }
      ev.preventDefault();
      var scope = document.getElementById("scope-filter");
      if (scope && scope.checked) { return decideFilter(actionFor(button.value)); }
      var chosen = selected();
      if (!chosen.length) { showToast("Select comments first (x, or the checkboxes).", { bad: true }); return; }
      decideMany(chosen, actionFor(button.value));
    });
  }
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      items().forEach(function (li) { var c = checkbox(li); if (c && !c.disabled) { c.checked = selectAll.checked; } });
      updateCount();
    });
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = (ev.target.tagName || "").toLowerCase();
    var typing = tag === "textarea" || tag === "select" || ev.target.isContentEditable ||
      (tag === "input" && !/^(checkbox|radio|button|submit|reset)$/.test(ev.target.type));
    if (typing) {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    if (ev.key === "?") { toggleHelp(); ev.preventDefault(); return; }
    if (ev.key === "Escape") { toggleHelp(false); return; }
    if (help && !help.hidden) { return; }
    var handled = true;
    switch (ev.key) {
      case "j": setFocus(focusIndex + 1); break;
      case "k": setFocus(focusIndex < 0 ? 0 : focusIndex - 1); break;
      case "a": decide("approve"); break;
      case "r": decide("reject"); break;
      case "s": decide("spam"); break;
      case "u": undoLast(); break;
      case "x": if (focusIndex < 0) { setFocus(0); } toggleSelect(focused()); break;
      case "/": var s = document.getElementById("search"); if (s) { s.focus(); s.select(); } break;
      default: handled = false;
    }
    if (handled) { ev.preventDefault(); }
  });

  if (items().length) { setFocus(0); }
  updateCount();
  document.documentElement.classList.add("js");
})();
