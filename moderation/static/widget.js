/*! Confirmation-code widget for the moderation service. No build step, no dependencies.
 *
 * <form ...>
 *   <div data-moderation-challenge data-article-id="art-1" data-endpoint="https://moderation.example"></div>
 * </form>
 * <script src="https://moderation.example/static/widget.js" defer></script>
 *
 * Attributes: data-article-id (required), data-endpoint (default: where this script was loaded from),
 * data-action (default "comment"), data-cdata, data-input-name (default "confirmation_token"),
 * data-required ("false" lets the form submit without a solved code).
 * On success it fills a hidden <input name="confirmation_token"> in the enclosing form and dispatches a
 * "moderation:confirmed" event ({detail: {token, expiresAt}}) on the widget element.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, document.baseURI).origin : "";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  var counter = 0;

  function Widget(root) {
    this.root = root;
    var ds = root.dataset;
    this.articleId = ds.articleId || "";
    this.action = ds.action || "comment";
    this.cdata = ds.cdata || null;
    this.required = ds.required !== "false";
    // data-endpoint="" means this page's origin; no attribute means where widget.js came from.
    var endpoint = ds.endpoint ? ds.endpoint : (ds.endpoint === "" ? window.location.origin : (scriptOrigin || window.location.origin));
    if (!/\/$/.test(endpoint)) endpoint += "/";
    this.base = new URL(endpoint, document.baseURI);
    this.form = root.closest("form");
    this.challenge = null;
    this.audio = null;
    this.expiryTimer = null;
    this.loads = 0;
    this.build(ds.inputName || "confirmation_token", ds.describedby);
    this.load(null);
  }

  Widget.prototype.url = function (path) { return new URL(path, this.base).toString(); };

  Widget.prototype.build = function (inputName, describedBy) {
    var id = "mc-" + (++counter);
    var r = this.root;
    r.classList.add("mc-widget");
    r.setAttribute("role", "group");
    r.setAttribute("aria-label", "Confirmation code");
    this.img = el("img", {"class": "mc-image", alt: "Confirmation code picture. If you cannot read it, use Play audio.",
                          width: "220", height: "80"});
    var tools = el("div", {"class": "mc-tools"});
    this.playBtn = el("button", {type: "button", "class": "mc-audio"}, "Play audio");
    this.newBtn = el("button", {type: "button", "class": "mc-new"}, "New code");
    tools.appendChild(this.playBtn);
    tools.appendChild(this.newBtn);
    var label = el("label", {"for": id + "-input", "class": "mc-label"}, "Code from the picture");
    this.input = el("input", {id: id + "-input", "class": "mc-input", type: "text", autocomplete: "off",
                              autocapitalize: "characters", spellcheck: "false", inputmode: "text",
                              maxlength: "16", "aria-describedby": (describedBy ? describedBy + " " : "") + id + "-status"});
    this.checkBtn = el("button", {type: "button", "class": "mc-check"}, "Check code");
    this.status = el("p", {id: id + "-status", "class": "mc-status", role: "status", "aria-live": "polite"});
    var row = el("div", {"class": "mc-row"});
    row.appendChild(this.input);
    row.appendChild(this.checkBtn);
    [this.img, tools, label, row, this.status].forEach(function (n) { r.appendChild(n); });

    this.hidden = this.form ? this.form.querySelector('input[name="' + inputName + '"]') : null;
    if (!this.hidden) {
      this.hidden = el("input", {type: "hidden", name: inputName});
      (this.form || r).appendChild(this.hidden);
    }
    this.hidden.value = "";

    var self = this;
    this.img.addEventListener("error", function () {
      if (self.img.getAttribute("src")) self.say("The picture could not be loaded; press “New code” or “Play audio”.", "error");
    });
    this.playBtn.addEventListener("click", function () { self.play(); });
    this.newBtn.addEventListener("click", function () { self.load(null); self.input.focus(); });
    this.checkBtn.addEventListener("click", function () { self.check(); });
    this.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); self.check(); }
    });
    if (this.form && this.required) {
      this.form.addEventListener("submit", function (e) {
        if (!self.hidden.value) {
          e.preventDefault();
          self.say("Please type the confirmation code and press “Check code” before posting.", "error");
          self.input.focus();
        }
      });
    }
  };

  Widget.prototype.say = function (text, kind) {
    this.status.textContent = text;
    this.root.classList.remove("mc-error", "mc-ok", "mc-busy");
    if (kind) this.root.classList.add("mc-" + kind);
  };

  Widget.prototype.request = function (method, path, body) {
    var init = {method: method, headers: {"Accept": "application/json"}, credentials: "omit", mode: "cors"};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(this.url(path), init).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return {ok: resp.ok, status: resp.status, data: data};
      });
    });
  };

  // Load a fresh challenge; `message` (optional) is kept on screen, e.g. why the old one was replaced.
  Widget.prototype.load = function (message) {
    var self = this;
    this.clearToken();
    this.root.classList.remove("mc-done");
    this.input.disabled = false;
    this.checkBtn.disabled = true;
    this.input.value = "";
    if (this.audio) { this.audio.pause(); this.audio = null; }
    this.say(message || "Loading a new code…", message ? "error" : "busy");
    var body = {article_id: this.articleId, action: this.action};
    if (this.cdata) body.cdata = this.cdata;
    return this.request("POST", "v1/challenges", body).then(function (res) {
      if (!res.ok) {
        self.say((res.data && res.data.detail) || "Could not load a code (HTTP " + res.status + ").", "error");
        return;
      }
      self.challenge = res.data;
      self.input.setAttribute("maxlength", String((res.data.code_length || 6) + 8));
      self.img.src = self.url(res.data.image_url.replace(/^\//, ""));
      self.checkBtn.disabled = false;
      // announce replacements to screen readers; the first code needs no announcement
      if (!message) self.say(self.loads++ ? "A new code is shown." : "", null);
    }).catch(function () {
      self.say("Could not reach the confirmation service; check your connection and press “New code”.", "error");
    });
  };

  Widget.prototype.play = function () {
    if (!this.challenge) return;
    if (!this.audio) {
      this.audio = new Audio(this.url(this.challenge.audio_url.replace(/^\//, "")));
      this.audio.setAttribute("aria-label", "Confirmation code, read aloud");
    }
    var self = this;
    this.audio.currentTime = 0;
    var p = this.audio.play();
    if (p && p.catch) p.catch(function () { self.say("The audio could not be played; press “New code” to try another.", "error"); });
  };

  Widget.prototype.clearToken = function () {
    this.hidden.value = "";
    if (this.expiryTimer) { clearTimeout(this.expiryTimer); this.expiryTimer = null; }
  };

  Widget.prototype.check = function () {
    var self = this;
    var code = this.input.value.replace(/\s+/g, "");
    if (!this.challenge) return;
    if (!code) { this.say("Type the code from the picture first.", "error"); this.input.focus(); return; }
    this.checkBtn.disabled = true;
    this.say("Checking…", "busy");
    var path = this.challenge.answer_url ? this.challenge.answer_url.replace(/^\//, "")
                                         : "v1/challenges/" + encodeURIComponent(this.challenge.id) + "/answer";
    this.request("POST", path, {code: code}).then(function (res) {
      if (res.ok) {
        self.hidden.value = res.data.token;
        self.root.classList.add("mc-done");
        self.input.disabled = true;
        self.say("Code confirmed. You can post your comment now.", "ok");
        var ms = Date.parse(res.data.expires_at) - Date.now() - 5000;
        if (ms > 0) self.expiryTimer = setTimeout(function () { self.load("Your confirmation expired; here is a new code."); }, ms);
        self.root.dispatchEvent(new CustomEvent("moderation:confirmed", {bubbles: true,
          detail: {token: res.data.token, expiresAt: res.data.expires_at}}));
        return;
      }
      var d = res.data || {};
      var slug = (d.type || "").split("/").pop();
      if (slug === "wrong-code" && d.attempts_left > 0) {
        self.checkBtn.disabled = false;
        self.say(d.detail || "That is not the code.", "error");
        self.input.select();
        return;
      }
      if (["wrong-code", "challenge-burned", "challenge-expired", "challenge-answered", "not-found"].indexOf(slug) >= 0) {
        self.load((d.detail || "That code can no longer be used.") + " Here is a new code.");
        return;
      }
      self.checkBtn.disabled = false;
      self.say(d.detail || "Checking failed (HTTP " + res.status + ").", "error");
    }).catch(function () {
      self.checkBtn.disabled = false;
      self.say("Could not reach the confirmation service; try again.", "error");
    });
  };

  function init() {
    var nodes = document.querySelectorAll("[data-moderation-challenge]");
    Array.prototype.forEach.call(nodes, function (node) {
      if (!node.__mcWidget) node.__mcWidget = new Widget(node);
    });
  }

  window.ModerationChallenge = {init: init};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
