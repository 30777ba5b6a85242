// A copy of a plan's "right now" page and pocket card on this device, kept only
// when the person asks for it (static/js/copy-worker.js serves it), and every
// copy gone at sign-out, at "forget this device", and for a plan they left.
(function () {
  "use strict";
  var PREFIX = "mutual-copy-";
  var usable = "serviceWorker" in navigator && "caches" in window && window.isSecureContext;

  function ours(names) {
    return names.filter(function (n) { return n.indexOf(PREFIX) === 0; });
  }

  function forgetPlans(keep) {
    return caches.keys().then(function (names) {
      var gone = ours(names).filter(function (n) { return keep.indexOf(n.slice(PREFIX.length)) < 0; });
      return Promise.all(gone.map(function (n) { return caches.delete(n); }));
    });
  }

  function unregisterIfEmpty() {
    return caches.keys().then(function (names) {
      if (ours(names).length) return;
      return navigator.serviceWorker.getRegistrations().then(function (all) {
        return Promise.all(all.map(function (r) { return r.unregister(); }));
      });
    });
  }

  function forgetAll() {
    if (!usable) return Promise.resolve();
    return forgetPlans([]).then(unregisterIfEmpty);
  }

  // Sign out and "forget this device" clear first, then send the form (the
  // server's Clear-Site-Data header says the same to browsers that honour it).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-forget-copies]") || form.dataset.cleared) return;
    event.preventDefault();
    form.dataset.cleared = "true";
    var sent = false;
    var send = function () { if (!sent) { sent = true; form.submit(); } };
    forgetAll().then(send, send);
    setTimeout(send, 2000);
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    // "My plans" names every plan this person is in: a copy of any other goes.
    var mine = document.querySelector("[data-member-of]");
    if (mine && usable) {
      forgetPlans(mine.dataset.memberOf.split(" ").filter(Boolean)).then(unregisterIfEmpty);
    }
    var root = document.querySelector("[data-now-plan]");
    var panel = document.querySelector("[data-copy]");
    if (root && panel && usable) offerCopy(root, panel);
    showOffline();
    window.addEventListener("online", showOffline);
    window.addEventListener("offline", showOffline);
  });

  function showOffline() {
    var offline = navigator.onLine === false;
    document.querySelectorAll("[data-copy-offline]").forEach(function (el) { el.hidden = !offline; });
    document.querySelectorAll("[data-online-only] button").forEach(function (b) { b.disabled = offline; });
  }

  function offerCopy(root, panel) {
    var name = PREFIX + root.dataset.nowPlan.toLowerCase();
    var page = location.pathname;
    var card = root.dataset.nowCard;
    var status = panel.querySelector("[data-copy-status]");
    panel.hidden = false;

    function show(kept) {
      panel.querySelector('[data-copy-when="off"]').hidden = kept;
      panel.querySelector('[data-copy-when="on"]').hidden = !kept;
    }
    function say(text) { status.textContent = text; }

    function get(url) {
      return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (!r.ok || r.redirected) throw new Error("not kept: " + url);
        return r;
      });
    }
    // The styles and scripts this page loads: the copy must look the same.
    function assets() {
      var found = document.querySelectorAll('link[rel="stylesheet"][href^="/static/"], script[src^="/static/"]');
      return Array.prototype.map.call(found, function (el) {
        return el.getAttribute("href") || el.getAttribute("src");
      });
    }
    // Whatever the copy lacks, fetched; what this page no longer uses, dropped.
    function refresh(cache, withPage) {
      var wanted = assets();
      if (card) wanted.push(card);
      return cache.keys().then(function (keys) {
        var have = keys.map(function (k) { var u = new URL(k.url); return u.pathname + u.search; });
        var stale = keys.filter(function (k) {
          var u = new URL(k.url);
          return u.pathname !== page && wanted.indexOf(u.pathname + u.search) < 0;
        });
        var missing = wanted.filter(function (u) { return have.indexOf(u) < 0; });
        if (withPage) missing.unshift(page);
        return Promise.all(missing.map(function (u) {
          return get(u).then(function (r) { return cache.put(u, r); });
        })).then(function () {
          return Promise.all(stale.map(function (k) { return cache.delete(k); }));
        });
      });
    }

    panel.querySelector("[data-copy-keep]").addEventListener("click", function () {
      say("Keeping a copy…");
      navigator.serviceWorker.register("/copy-worker.js", { scope: "/plans/" })
        .then(function () { return caches.open(name); })
        .then(function (cache) { return refresh(cache, true); })
        .then(function () {
          show(true);
          say("Kept. This page opens on this phone even without a connection.");
        }, function () {
          return caches.delete(name).then(unregisterIfEmpty).then(function () {
            show(false);
            say("The copy could not be made just now. Nothing was kept; please try again.");
          });
        });
    });

    panel.querySelector("[data-copy-drop]").addEventListener("click", function () {
      caches.delete(name).then(unregisterIfEmpty).then(function () {
        show(false);
        say("The copy is gone from this phone.");
      });
    });

    caches.has(name).then(function (kept) {
      show(kept);
      if (kept && navigator.onLine !== false) {
        caches.open(name).then(function (cache) { return refresh(cache, false); })
          .catch(function () { /* the copy stays as it was; next time, then */ });
      }
    });
  }
})();
