// Mutual's service worker: the copy of a plan's "right now" page and pocket
// card that a person chose to keep on this device, and nothing else.
//
// A copy lives in a cache named after its plan, made only when the person
// presses "Keep a copy on this phone" (static/js/copy.js). Without that cache
// this worker changes nothing: every request goes to the network as usual.
// With it, those two addresses (and the styles and scripts the page loads) are
// fetched from the network first, the copy refreshed from each answer, and the
// copy shown when there is no answer: offline, or signed out by time.
"use strict";

var PREFIX = "mutual-copy-";
var PLAN_PATH = /^\/plans\/([0-9a-fA-F-]{36})\/(now|agreed\.pdf)$/;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function copyOf(name, url) {
  return caches.open(name).then(function (cache) {
    var page = url.pathname.endsWith("/now");
    // the page is kept under its plain address; the card under any version
    return cache.match(page ? url.pathname : url.href).then(function (found) {
      return found || (page ? undefined : cache.match(url.pathname, { ignoreSearch: true }));
    });
  });
}

function planRequest(event, url, name) {
  var page = url.pathname.endsWith("/now");
  return caches.has(name).then(function (kept) {
    if (!kept) return fetch(event.request);
    return fetch(event.request).then(function (response) {
      if (response.status === 404) {
        // no longer this person's plan: its copy goes, and this worker with the last
        return caches.delete(name).then(function () { return caches.keys(); })
          .then(function (names) {
            if (!names.some(function (n) { return n.indexOf(PREFIX) === 0; })) {
              self.registration.unregister();
            }
            return response;
          });
      }
      if (response.ok && response.type === "basic") {
        if (page && !url.search) {
          var fresh = response.clone();
          event.waitUntil(caches.open(name).then(function (cache) {
            return cache.put(url.pathname, fresh);
          }));
        }
        return response;
      }
      // signed out by time (sent to sign in), or the server is unwell
      return copyOf(name, url).then(function (found) { return found || response; });
    }, function () {
      return copyOf(name, url).then(function (found) { return found || Response.error(); });
    });
  });
}

function staticRequest(event) {
  return fetch(event.request).catch(function () {
    return caches.keys().then(function (names) {
      var ours = names.filter(function (n) { return n.indexOf(PREFIX) === 0; });
      return ours.reduce(function (found, name) {
        return found.then(function (hit) {
          return hit || caches.open(name).then(function (c) { return c.match(event.request); });
        });
      }, Promise.resolve(undefined));
    }).then(function (hit) { return hit || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var match = PLAN_PATH.exec(url.pathname);
  if (match) {
    if (match[2] !== "now" && url.searchParams.get("format") !== "card") return;
    event.respondWith(planRequest(event, url, PREFIX + match[1].toLowerCase()));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(staticRequest(event));
  }
  // anything else: not ours, straight to the network
});
