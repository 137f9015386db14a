/*! Confirmation widget for the moderation service. No build step; the proof of work is solved by the
 * vendored ALTCHA widget (static/altcha/altcha.js, MIT), imported on demand.
 *
 * <form ...>
 *   <div data-moderation-challenge data-article-id="art-1" data-endpoint="https://moderation.example"></div>
 * </form>
 * <script src="https://moderation.example/static/widget.js" defer></script>
 *
 * Attributes: data-article-id (required), data-endpoint (default: where this script was loaded from),
 * data-action (default "comment"), data-cdata, data-input-name (default "confirmation_token"),
 * data-author-id (the CMS's id of a signed-in reader: binds the token to them),
 * data-required ("false" lets the form submit without a confirmation).
 *
 * What the reader sees depends on the service's MODERATION_CONFIRMATION:
 *  - proof (+code): nothing to do.  When the reader first focuses the form, the browser solves a proof of
 *    work in the background (a Web Worker); on submit the proof is exchanged for a token and the form goes.
 *    Only when the service finds the request risky does it ask for the image/audio code as well.
 *  - code: the classic image/audio code.
 * On success it fills a hidden <input name="confirmation_token"> in the enclosing form and dispatches a
 * "moderation:confirmed" event ({detail: {token, expiresAt, method}}) on the widget element.
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
  var PROOF_TIMEOUT_MS = 60000;

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
    this.authorId = ds.authorId || null;
    this.form = root.closest("form");
    this.challenge = null;
    this.audio = null;
    this.expiryTimer = null;
    this.loads = 0;
    this.proof = null;        // proof-of-work state: {started, payload, pending, altcha}
    this.build(ds.inputName || "confirmation_token", ds.describedby);
    this.start();
  }

  // Which confirmation does the service want?  GET v1/challenges/config says (cheap, cacheable).  In proof
  // mode nothing is issued until the reader starts on the form (focus), so page views alone cost nothing;
  // in code mode the code is shown at once.
  Widget.prototype.start = function () {
    var self = this;
    this.proof = {started: false, payload: null, pending: false, altcha: null, begin: null};
    var begin = function () { if (self.mode !== "code") self.startProof(); };
    this.proof.begin = begin;
    if (this.form) this.form.addEventListener("focusin", begin);
    this.request("GET", "v1/challenges/config").then(function (res) {
      if (res.ok && res.data.confirmation === "code") self.useCode(null, true);
      else if (!self.form) self.startProof();
    }).catch(function () {
      self.say("Could not reach the confirmation service; check your connection and reload the page.", "error");
    });
  };

  Widget.prototype.challengePath = function () {
    var q = "article_id=" + encodeURIComponent(this.articleId) + "&action=" + encodeURIComponent(this.action);
    return "v1/challenges/proof?" + q;
  };

  Widget.prototype.startProof = function () {
    var self = this;
    if (!this.proof) this.proof = {started: false, payload: null, pending: false, altcha: null};
    if (this.proof.started) return this.proof.ready;
    this.proof.started = true;
    this.proof.payload = null;
    this.proof.ready = this.request("GET", this.challengePath()).then(function (res) {
      var slug = ((res.data && res.data.type) || "").split("/").pop();
      if (res.status === 403 && slug === "confirmation-method-disabled") { self.useCode(null, true); return; }
      if (!res.ok) throw new Error((res.data && res.data.detail) || ("HTTP " + res.status));
      return self.solve(res.data);
    }).catch(function () {
      // no Web Crypto (an insecure page), no workers, or the service unreachable: the code still works
      self.useCode("Automatic confirmation is not available here; please type the code instead.", true);
    });
    return this.proof.ready;
  };

  // The ALTCHA module: its "external" build (worker.js beside it, allowed by a strict `script-src 'self'`)
  // when this page is on the widget's own origin; the default build (worker inlined as a blob: URL, since a
  // page may not start a worker from another origin) when the widget is embedded cross-origin.
  Widget.prototype.loadAltcha = function () {
    if (!Widget.altcha) {
      var base = script && script.src ? script.src : this.url("static/widget.js");
      var sameOrigin = new URL(base).origin === window.location.origin;
      Widget.altcha = import(new URL(sameOrigin ? "altcha/external/altcha.js" : "altcha/altcha.js", base).toString());
    }
    return Widget.altcha;
  };

  // Solve the challenge with the ALTCHA widget, kept out of sight: there is nothing for the reader to do.
  Widget.prototype.solve = function (challenge) {
    var self = this;
    this.root.classList.add("mc-proof");
    this.root.setAttribute("aria-label", "Confirmation that you are a person");
    return this.loadAltcha().then(function () {
      return new Promise(function (resolve, reject) {
        var box = self.proof.altcha;
        if (!box) {
          box = self.proof.altcha = el("altcha-widget", {"hidefooter": "", "hidelogo": "", "auto": "off",
                                                        "name": "altcha_payload", "aria-hidden": "true"});
          self.altchaHost.appendChild(box);
        }
        var done = function (ev) {
          var state = ev.detail && ev.detail.state;
          if (state === "verified" && ev.detail.payload) {
            box.removeEventListener("statechange", done);
            self.proof.payload = ev.detail.payload;
            resolve(ev.detail.payload);
          } else if (state === "error") {
            box.removeEventListener("statechange", done);
            reject(new Error("proof failed"));
          } else if (state === "expired") {
            box.removeEventListener("statechange", done);
            self.proof.started = false;
            resolve(self.startProof());
          }
        };
        box.addEventListener("statechange", done);
        // A worker that cannot start (e.g. a Content-Security-Policy without worker-src blob:) never reports:
        // fall back to the code rather than keep the reader waiting.
        setTimeout(function () {
          if (!self.proof.payload && self.mode !== "code") { box.removeEventListener("statechange", done); reject(new Error("timeout")); }
        }, PROOF_TIMEOUT_MS);
        var go = function () {
          box.configure({challenge: challenge, auto: "off", hidefooter: true, hidelogo: true});
          box.verify();
        };
        if (typeof box.configure === "function") go();
        else box.addEventListener("load", go, {once: true});
      });
    });
  };

  // On submit: trade the solved proof for a token (or the code step), then send the form.
  Widget.prototype.redeem = function () {
    var self = this;
    var p = this.proof;
    if (p.pending) return;
    p.pending = true;
    this.say("Confirming that you are a person…", "busy");
    this.startProof().then(function (payload) {
      if (self.mode === "code") { p.pending = false; return; }
      var body = {payload: payload || p.payload, article_id: self.articleId, action: self.action};
      if (self.authorId) body.author_id = self.authorId;
      return self.request("POST", "v1/challenges/proof", body).then(function (res) {
        p.pending = false;
        p.started = false;     // a proof is good for one token; the next one starts afresh
        if (res.ok && res.data.step === "done") {
          self.confirmed(res.data, "Confirmed.");
          self.submitForm();
          return;
        }
        if (res.ok && res.data.step === "code") {
          self.useCode(null, false);
          self.show(res.data.challenge, "One more step: type the code from the picture (" + res.data.reason + ").");
          return;
        }
        self.say((res.data && res.data.detail) || "The confirmation failed (HTTP " + res.status + "); please try again.", "error");
      });
    }).catch(function () {
      p.pending = false;
      self.say("Could not reach the confirmation service; check your connection and try again.", "error");
    });
  };

  Widget.prototype.submitForm = function () {
    if (!this.form) return;
    if (this.form.requestSubmit) this.form.requestSubmit(); else this.form.submit();
  };

  // Switch to the image/audio code (the service's mode, its second step, or the fallback); `load`: fetch a
  // code now (false when the caller shows the one it has).
  Widget.prototype.useCode = function (message, load) {
    var first = this.mode !== "code";
    this.mode = "code";
    this.codeBox.hidden = false;
    this.root.classList.remove("mc-proof");
    this.root.setAttribute("aria-label", "Confirmation code");
    if (this.form && this.proof && this.proof.begin) this.form.removeEventListener("focusin", this.proof.begin);
    if (first && load) this.load(message);
  };

  Widget.prototype.url = function (path) { return new URL(path, this.base).toString(); };

  Widget.prototype.build = function (inputName, describedBy) {
    var id = "mc-" + (++counter);
    var r = this.root;
    r.classList.add("mc-widget");
    r.setAttribute("role", "group");
    r.setAttribute("aria-label", "Confirmation code");
    this.img = el("img", {"class": "mc-image", alt: "Confirmation code picture: type its large solid dark characters. If you cannot read it, use Play audio.",
                          width: "220", height: "80"});
    var tools = el("div", {"class": "mc-tools"});
    this.playBtn = el("button", {type: "button", "class": "mc-audio"}, "Play audio");
    this.newBtn = el("button", {type: "button", "class": "mc-new"}, "New code");
    tools.appendChild(this.playBtn);
    tools.appendChild(this.newBtn);
    var label = el("label", {"for": id + "-input", "class": "mc-label"}, "Large dark characters from the picture (skip the pale outlined ones)");
    this.input = el("input", {id: id + "-input", "class": "mc-input", type: "text", autocomplete: "off",
                              autocapitalize: "characters", spellcheck: "false", inputmode: "text",
                              maxlength: "16", "aria-describedby": (describedBy ? describedBy + " " : "") + id + "-status"});
    this.checkBtn = el("button", {type: "button", "class": "mc-check"}, "Check code");
    this.status = el("p", {id: id + "-status", "class": "mc-status", role: "status", "aria-live": "polite"});
    var row = el("div", {"class": "mc-row"});
    row.appendChild(this.input);
    row.appendChild(this.checkBtn);
    this.codeBox = el("div", {"class": "mc-code"});
    this.codeBox.hidden = true;
    [this.img, tools, label, row].forEach(function (n) { this.codeBox.appendChild(n); }, this);
    // The ALTCHA element lives outside the form: inside, it would watch the form's submit itself (and
    // alert() "please wait" while solving) and add its payload field; here it only solves.
    this.altchaHost = el("div", {"class": "mc-altcha"});
    this.altchaHost.hidden = true;
    document.body.appendChild(this.altchaHost);
    [this.codeBox, this.status].forEach(function (n) { r.appendChild(n); });

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
    if (this.form) {
      this.form.addEventListener("submit", function (e) {
        if (self.hidden.value) return;
        if (self.mode !== "code") {           // proof of work: exchange it now, then the form goes
          e.preventDefault();
          self.redeem();
          return;
        }
        if (self.required) {
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
      // announce replacements to screen readers; the first code needs no announcement
      self.show(res.data, message ? null : (self.loads++ ? "A new code is shown." : ""));
    }).catch(function () {
      self.say("Could not reach the confirmation service; check your connection and press “New code”.", "error");
    });
  };

  // Show a code challenge (from POST /v1/challenges, or the proof's second step); `message` null keeps the status.
  Widget.prototype.show = function (challenge, message) {
    this.clearToken();
    this.root.classList.remove("mc-done");
    this.challenge = challenge;
    this.input.disabled = false;
    this.input.value = "";
    this.input.setAttribute("maxlength", String((challenge.code_length || 6) + 8));
    this.img.src = this.url(challenge.image_url.replace(/^\//, ""));
    this.checkBtn.disabled = false;
    if (message !== null) this.say(message, message ? "busy" : null);
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

  Widget.prototype.confirmed = function (data, message) {
    var self = this;
    this.hidden.value = data.token;
    this.root.classList.add("mc-done");
    this.say(message, "ok");
    var ms = Date.parse(data.expires_at) - Date.now() - 5000;
    if (ms > 0) this.expiryTimer = setTimeout(function () {
      if (self.mode === "code") self.load("Your confirmation expired; here is a new code.");
      else { self.clearToken(); self.say("", null); }     // the next submit solves a new proof
    }, ms);
    this.root.dispatchEvent(new CustomEvent("moderation:confirmed", {bubbles: true,
      detail: {token: data.token, expiresAt: data.expires_at, method: data.method || "code"}}));
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
        self.input.disabled = true;
        self.confirmed(res.data, "Code confirmed. You can post your comment now.");
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
