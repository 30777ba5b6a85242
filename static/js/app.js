// Mutual's own small behaviours, only what htmx attributes cannot say. No
// inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function copyFrom(button) {
    var source = document.getElementById(button.dataset.copy);
    var status = document.querySelector('[data-copy-status="' + button.dataset.copy + '"]');
    if (!source) return;
    var say = function (ok) {
      if (status) status.textContent = ok ? "Copied." : "Selected: press Ctrl+C or Cmd+C to copy.";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(function () { say(true); },
        function () { source.select(); say(false); });
    } else {
      source.select();
      say(document.execCommand("copy"));
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) copyFrom(button);
  });

  // The server writes times on the reader's own clock (hover and focus show the
  // exact one) once it knows their zone: a cookie with the zone's name only.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    if (/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone) && document.cookie.split("; ").indexOf("tz=" + zone) < 0) {
      var secure = location.protocol === "https:" ? "; Secure" : "";
      document.cookie = "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
    }
  } catch (e) { /* no zone to tell: times say UTC */ }

  // Live updates are morphed in place. What a person is in the middle of stays
  // as they left it: an open editor, a field they changed, a panel they opened.
  function changed(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName !== "SELECT") return el.value !== el.defaultValue;
    return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
  }
  function editor(node) { return node.nodeType === 1 && node.dataset.editing === "true"; }
  if (window.Idiomorph) {
    var callbacks = Idiomorph.defaults.callbacks;
    callbacks.beforeNodeMorphed = function (old) {
      return !(editor(old) || (/^(TEXTAREA|INPUT|SELECT)$/.test(old.tagName) && changed(old)));
    };
    callbacks.beforeNodeRemoved = function (old) { return !editor(old); };
    callbacks.beforeAttributeUpdated = function (name, el, how) {
      return !(name === "open" && how === "remove" && el.tagName === "DETAILS");
    };
  }

  // A disclosure marked data-load holds a link to a page of what it shows (all there is
  // without JavaScript); opened, it fetches that in the link's place, kept like an editor.
  document.addEventListener("toggle", function (event) {
    var box = event.target;
    if (!box.open || !box.matches("details[data-load]") || !window.htmx) return;
    var slot = box.querySelector(":scope > .more-slot");
    var link = slot && !editor(slot) && slot.querySelector(":scope > a[href]");
    if (!link) return;
    var held = slot.contains(document.activeElement); // Enter then Tab, before this ran
    slot.dataset.editing = "true";
    htmx.ajax("GET", link.getAttribute("href"), { source: box, target: slot, swap: "innerHTML" })
      .then(function () {
        if (!held && document.activeElement !== document.body) return;
        var first = slot.querySelector("textarea, input:not([type=hidden]), select, button, a[href]");
        if (first) first.focus(); // the link that had focus gave way to what it led to
      });
  }, true);
  // If it could not come (no network, an error), the link shows again: followed, or
  // the disclosure closed and opened, it tries once more.
  document.addEventListener("htmx:afterRequest", function (event) {
    var slot = event.detail.target;
    if (!event.detail.successful && slot && slot.matches(".more-slot") && slot.querySelector(":scope > a[href]")) {
      delete slot.dataset.editing;
    }
  });

  // A card or thread sent out of band in a wrapper (no id) goes in as itself, and
  // not at all if a live refresh brought it before this answer to our request.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var d = event.detail, box = d.fragment.nodeType === 1 ? d.fragment : d.fragment.firstElementChild;
    if (!box || box.id) return;
    var fresh = box.firstElementChild;
    if (fresh && fresh.id && document.getElementById(fresh.id)) d.shouldSwap = false;
    else if (box !== d.fragment) box.replaceWith.apply(box, Array.prototype.slice.call(box.childNodes));
  });

  // After a dropped connection, parts listening for "reconnected" fetch
  // themselves again; the first opening needs nothing (the page is fresh).
  var opened = new WeakSet();
  document.addEventListener("htmx:sseOpen", function (event) {
    if (opened.has(event.target)) htmx.trigger(event.target, "reconnected");
    opened.add(event.target);
  });

  // Focus moves after the answer to a person's own request only if the swap took
  // it away (it was on the page itself, or inside what was replaced): never from
  // another field, so words typed meanwhile stay in their box. Live updates never.
  var lost = new WeakMap();
  document.addEventListener("htmx:beforeSwap", function (event) {
    var d = event.detail, active = document.activeElement;
    var cause = d.requestConfig && d.requestConfig.triggeringEvent;
    if (cause && /^sse:/.test(cause.type)) return;
    if (d.target.id && (!active || active === document.body || d.target.contains(active))) {
      lost.set(d.xhr, d.target.id);
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (lost.has(event.detail.xhr)) return;
    event.target.querySelectorAll("[autofocus]").forEach(function (el) { el.removeAttribute("autofocus"); });
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var el = event.target, active = document.activeElement;
    if (lost.get(event.detail.xhr) !== el.id || (active && active !== document.body)) return;
    var next = el.matches("[tabindex]") ? el :
      el.querySelector("textarea, input:not([type=hidden]), select, button, a[href]");
    if (next) next.focus();
  });

  // "Share…" hands the agreed plan's PDF to the device's own share sheet where the browser
  // can share files; elsewhere it stays hidden. (Deferred: the page is all there by now.)
  (function (button) {
    var probe = window.File && [new File([""], "plan.pdf", { type: "application/pdf" })];
    if (!button || !navigator.canShare || !probe || !navigator.canShare({ files: probe })) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      fetch(button.dataset.sharePdf, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("no pdf");
          var match = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
          var name = match ? match[1] : "mutual-plan.pdf";
          return response.blob().then(function (blob) { return new File([blob], name, { type: "application/pdf" }); });
        })
        .then(function (file) { return navigator.share({ files: [file], title: button.dataset.shareTitle }); })
        .catch(function () { /* the person closed the share sheet */ });
    });
  })(document.querySelector("[data-share-pdf]"));
})();
