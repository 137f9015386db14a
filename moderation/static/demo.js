/* Demo article page: like/dislike buttons, "Report" and "Reply" links.  No build step, no dependencies.
 * Reactions call the public API (PUT/DELETE /v1/{articles|comments}/{id}/reaction) with the reader cookie
 * the service sets; the counts shown are the ones the service answers with.  Reports go to
 * POST /v1/comments/{id}/reports.  Text is only ever set with
 * textContent, never parsed as HTML. */
(function () {
  "use strict";

  function targetUrl(box) {
    var type = box.getAttribute("data-target-type");
    var id = encodeURIComponent(box.getAttribute("data-target-id"));
    return "/v1/" + (type === "article" ? "articles" : "comments") + "/" + id + "/reaction";
  }

  function show(box, data) {
    box.querySelector('[data-count="likes"]').textContent = "(" + data.likes + ")";
    box.querySelector('[data-count="dislikes"]').textContent = "(" + data.dislikes + ")";
    box.querySelectorAll("button.react").forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-kind") === data.my_reaction ? "true" : "false");
    });
    box.setAttribute("data-updated", String(Date.now()));
  }

  // ok: a confirmation (shown as such), not a refusal
  function status(box, text, ok) {
    var s = box.querySelector(".react-status");
    if (s) {
      s.textContent = text;
      s.classList.toggle("ok", !!ok);
    }
  }

  // A refused reaction or report: say why in the reader's words.
  function failed(box, r, otherwise) {
    if (r.resp.status === 429) {
      status(box, "Slow down: try again in " + (r.resp.headers.get("Retry-After") || "a few") + " s.");
    } else if (r.resp.status === 404) {
      status(box, "This comment is no longer published.");
    } else {
      status(box, r.body.detail || otherwise);
    }
  }

  function react(button) {
    var box = button.closest(".reactions");
    var kind = button.getAttribute("data-kind");
    var undo = button.getAttribute("aria-pressed") === "true";
    var init = {method: undo ? "DELETE" : "PUT", credentials: "same-origin",
                headers: {"Accept": "application/json"}};
    if (!undo) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify({kind: kind});
    }
    box.setAttribute("aria-busy", "true");
    fetch(targetUrl(box), init).then(function (resp) {
      return resp.json().then(function (body) { return {resp: resp, body: body}; });
    }).then(function (r) {
      if (r.resp.ok) {
        show(box, r.body);
        status(box, "");
      } else {
        failed(box, r, "Could not save your reaction.");
      }
    }).catch(function () {
      status(box, "Network error; your reaction was not saved.");
    }).then(function () { box.removeAttribute("aria-busy"); });
  }

  function sendReport(button) {
    var box = button.closest(".reactions");
    var reason = box.querySelector("select.report-reason").value;
    button.disabled = true;
    fetch("/v1/comments/" + encodeURIComponent(button.getAttribute("data-comment-id")) + "/reports", {
      method: "POST", credentials: "same-origin",
      headers: {"Accept": "application/json", "Content-Type": "application/json"},
      body: JSON.stringify({reason: reason})
    }).then(function (resp) {
      return resp.json().then(function (body) { return {resp: resp, body: body}; });
    }).then(function (r) {
      if (r.resp.status === 201) {
        status(box, "Thank you: a moderator will look at it.", true);
      } else if (r.resp.ok) {
        status(box, "You have already reported this comment.", true);
      } else {
        failed(box, r, "Could not send your report.");
      }
      box.setAttribute("data-reported", String(r.resp.status));
      box.querySelector("details.report").open = false;
    }).catch(function () {
      status(box, "Network error; your report was not sent.");
    }).then(function () { button.disabled = false; });
  }

  document.addEventListener("click", function (ev) {
    var send = ev.target.closest("button.send-report");
    if (send) {
      ev.preventDefault();
      sendReport(send);
      return;
    }
    var button = ev.target.closest("button.react");
    if (button) {
      ev.preventDefault();
      react(button);
      return;
    }
    var reply = ev.target.closest("button.reply");
    if (reply) {
      document.getElementById("parent-id").value = reply.getAttribute("data-reply-to");
      document.getElementById("replying-to").textContent = reply.getAttribute("data-reply-name");
      document.getElementById("replying").hidden = false;
      document.getElementById("text").focus();
      return;
    }
    if (ev.target.id === "cancel-reply") {
      document.getElementById("parent-id").value = "";
      document.getElementById("replying").hidden = true;
    }
  });
})();
