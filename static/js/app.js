// Mutual's own small behaviours. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function copyFrom(button) {
    var source = document.getElementById(button.dataset.copy);
    var status = document.querySelector('[data-copy-status="' + button.dataset.copy + '"]');
    if (!source) return;
    var say = function (text) { if (status) status.textContent = text; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(
        function () { say("Copied."); },
        function () { source.select(); say("Selected: press Ctrl+C or Cmd+C to copy."); }
      );
    } else {
      source.select();
      say(document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C or Cmd+C to copy.");
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) copyFrom(button);
  });

  // The server writes times on the reader's own clock once it knows their time
  // zone: a small cookie with the zone's name only, kept in step with the device.
  function rememberTimeZone() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    if (!zone || zone.length > 64 || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) return;
    var known = document.cookie.split("; ").indexOf("tz=" + zone) !== -1;
    if (known) return;
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  }
  rememberTimeZone();

  // Exact times in the reader's own time zone, shown on hover and focus. A
  // calendar day (no "T") is the same day everywhere, so it gets no time.
  function localTimes(scope) {
    scope.querySelectorAll("time[datetime*='T']").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (!isNaN(moment)) {
        el.title = moment.toLocaleString(undefined, { dateStyle: "long", timeStyle: "short" });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });

  // Keep focus where a person expects it after an inline save or cancel. Only
  // the settling of that very request moves it: live updates also settle
  // (an SSE message is a swap too) and may come first.
  var refocus = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var editing = elt.closest && elt.closest("[data-editing='true']");
    var adding = elt.closest && elt.closest(".add-form");
    var invite = elt.closest && elt.closest("#invite_panel");
    var card = elt.closest && elt.closest(".entry[data-entry]");
    var target = event.detail.target;
    var next = null;
    if (editing) next = { entry: editing.dataset.entry };
    // an action that replaces its own card (agree, remove, take back…): the
    // button pressed is gone, so focus the card that took its place
    else if (card && target && target.id === card.id) next = { entry: card.dataset.entry };
    else if (adding) next = { form: adding.id };
    else if (invite) next = { id: "invite-link", fallback: "invite_panel" };
    if (next) {
      next.xhr = event.detail.xhr;
      refocus = next;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    localTimes(event.detail.elt || document);
    if (!refocus || event.detail.xhr !== refocus.xhr) return;
    var target = null;
    if (refocus.entry) {
      target = document.getElementById("entry-" + refocus.entry);
      if (target && target.dataset.editing === "true") target = null;
    } else if (refocus.form) {
      var form = document.getElementById(refocus.form);
      target = form && form.querySelector("textarea");
    } else if (refocus.id) {
      target = document.getElementById(refocus.id) ||
        document.querySelector("#" + refocus.fallback + " button");
    }
    refocus = null;
    if (target) target.focus();
  });
})();

// "Share…" hands the agreed plan's PDF to the device's own share sheet, where
// the browser can share files; elsewhere the button stays hidden.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-share-pdf]");
    if (!button || !navigator.canShare || !window.File) return;
    var probe = new File([""], "plan.pdf", { type: "application/pdf" });
    if (!navigator.canShare({ files: [probe] })) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      fetch(button.dataset.sharePdf, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("no pdf");
          var name = "mutual-plan.pdf";
          var header = response.headers.get("Content-Disposition") || "";
          var match = header.match(/filename="([^"]+)"/);
          if (match) name = match[1];
          return response.blob().then(function (blob) {
            return new File([blob], name, { type: "application/pdf" });
          });
        })
        .then(function (file) {
          return navigator.share({ files: [file], title: button.dataset.shareTitle });
        })
        .catch(function () { /* the person closed the share sheet */ });
    });
  });
})();
