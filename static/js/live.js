// Live updates of a plan page. The server sends signals that carry ids only;
// this script re-fetches the changed entry through the ordinary GET, as the
// person reading it, and never replaces an entry they are editing.
(function () {
  "use strict";

  var root = document.getElementById("plan-live");
  if (!root) return;
  var everOpened = false;

  function cardUrl(id) {
    return root.dataset.entries + "/" + id;
  }

  function fetchFragment(url) {
    return fetch(url, {
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
      cache: "no-store",
    }).then(function (response) {
      if (response.status === 404) return null;
      if (!response.ok) throw new Error("fetch failed");
      return response.text();
    });
  }

  function toElement(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function isEditing(el) {
    return el.dataset.editing === "true";
  }

  function tellEditor(el) {
    var notice = el.querySelector("[data-live-notice]");
    if (!notice) return;
    var name = root.dataset.partnerName || "Your partner";
    notice.textContent = name + " changed this while you were editing. " +
      "Your words are safe: when you save, you will see both wordings.";
    notice.hidden = false;
  }

  function refreshEntry(id, section, owner) {
    var current = document.getElementById("entry-" + id);
    if (current && isEditing(current)) {
      tellEditor(current);
      return Promise.resolve();
    }
    return fetchFragment(cardUrl(id)).then(function (html) {
      var again = document.getElementById("entry-" + id);
      if (again && isEditing(again)) {
        tellEditor(again);
        return;
      }
      if (html === null) {
        if (again) again.remove();
        return;
      }
      var fresh = toElement(html);
      if (!fresh) return;
      if (again) {
        again.replaceWith(fresh);
      } else {
        var list = document.getElementById("list-" + section + "-" + owner);
        if (!list) return;
        list.appendChild(fresh);
        var empty = list.parentElement.querySelector(":scope > .empty");
        if (empty) empty.hidden = true;
      }
      htmx.process(fresh);
    });
  }

  function refreshPresence() {
    fetchFragment(root.dataset.presence).then(function (html) {
      var slot = document.getElementById("presence");
      if (slot && html !== null) slot.innerHTML = html;
    });
  }

  // After a dropped connection, compare every entry's stamp with the page's.
  function catchUp() {
    fetch(root.dataset.stamps, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        var seen = {};
        data.entries.forEach(function (item) {
          seen[item.id] = true;
          var el = document.getElementById("entry-" + item.id);
          if (!el || el.dataset.stamp !== item.stamp) {
            refreshEntry(item.id, item.section, item.owner);
          }
        });
        root.querySelectorAll(".entry-list > .entry[data-entry]").forEach(function (el) {
          if (!seen[el.dataset.entry] && !el.classList.contains("entry--removed")) {
            refreshEntry(el.dataset.entry, "", "");
          }
        });
      });
  }

  document.body.addEventListener("htmx:sseOpen", function () {
    if (everOpened) catchUp();
    everOpened = true;
    refreshPresence();
  });

  document.body.addEventListener("htmx:sseMessage", function (event) {
    var message = event.detail;
    if (!message || !message.data) return;
    var data;
    try {
      data = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    if (message.type === "entry") refreshEntry(data.id, data.section, data.owner);
    if (message.type === "presence") refreshPresence();
  });
})();
