// Live updates of a plan page. The server sends signals that carry ids only;
// this script re-fetches the changed entry through the ordinary GET, as the
// person reading it, and never replaces an entry they are editing.
(function () {
  "use strict";

  var root = document.getElementById("plan-live");
  if (!root) return;
  var everOpened = false;

  function cardUrl(id) {
    // while a talk is pinned beside the plan, cards keep it in their edit links
    var pinned = root.dataset.debrief;
    return root.dataset.entries + "/" + id + (pinned ? "?debrief=" + encodeURIComponent(pinned) : "");
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
      "Your words are safe: when you save, you will see both wordings. ";
    var show = document.createElement("button");
    show.type = "button";
    show.className = "link-button";
    show.textContent = "Show me the new wording";
    show.addEventListener("click", function () { peek(el, notice); });
    notice.appendChild(show);
    notice.hidden = false;
  }

  // The newest wording, read-only, beside the editor: nothing the person typed moves.
  function peek(el, notice) {
    fetchFragment(cardUrl(el.dataset.entry)).then(function (html) {
      if (html === null) return;
      var card = toElement(html);
      var text = card && card.querySelector(".entry-text");
      var byline = card && card.querySelector(".byline");
      if (!text) return;
      var box = el.querySelector(".peek") || document.createElement("div");
      box.className = "peek";
      box.replaceChildren();
      var heading = document.createElement("p");
      heading.className = "meta";
      heading.textContent = "The wording saved meanwhile:";
      box.appendChild(heading);
      box.appendChild(text);
      if (byline) box.appendChild(byline);
      notice.after(box);
    });
  }

  // Replace a card with its fresh copy, keeping what the reader was in the
  // middle of: a note being written (to talk about it, or when taking an
  // agreement back), an open "more" panel, and the keyboard focus.
  function carryOver(old, fresh) {
    var active = document.activeElement;
    var hadFocus = old.contains(active);
    old.querySelectorAll("details[open]").forEach(function (details) {
      var summary = details.querySelector("summary");
      fresh.querySelectorAll("details").forEach(function (twin) {
        var other = twin.querySelector("summary");
        if (summary && other && other.textContent === summary.textContent) twin.open = true;
      });
    });
    old.querySelectorAll("textarea[id], select[id]").forEach(function (field) {
      var twin = fresh.querySelector("#" + CSS.escape(field.id));
      if (!twin || (field.tagName === "TEXTAREA" && !field.value)) return;
      twin.value = field.value;
      var details = twin.closest("details");
      if (details) details.open = true;
    });
    old.replaceWith(fresh);
    if (!hadFocus) return;
    var same = active.id && fresh.querySelector("#" + CSS.escape(active.id));
    (same || fresh).focus();  // not dropped to the page for a keyboard user
  }

  // This page's own requests still on their way: an entry being added (its
  // card arrives with the answer) and an editor being saved. The signal about
  // such a change can arrive before the answer does.
  var adding = 0;
  var saving = {};
  var waitingForAdd = [];
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (!elt.closest || !xhr) return;
    var editor = elt.closest("[data-editing='true']");
    if (elt.closest(".add-form")) {
      adding += 1;
      // loadend comes after htmx has swapped the answer in, its new card too
      xhr.addEventListener("loadend", function () {
        adding -= 1;
        if (adding > 0) return;
        var later = waitingForAdd;
        waitingForAdd = [];
        later.forEach(function (args) { refreshEntry.apply(null, args); });
      });
    } else if (editor) {
      var id = editor.dataset.entry;
      saving[id] = true;
      xhr.addEventListener("loadend", function () { delete saving[id]; });
    }
  });

  function refreshEntry(id, section, owner, force) {
    var current = document.getElementById("entry-" + id);
    if (current && isEditing(current)) {
      // its own save is on the way: the answer tells (a conflict, or the card)
      if (!saving[id]) tellEditor(current);
      return Promise.resolve();
    }
    return fetchFragment(cardUrl(id)).then(function (html) {
      var again = document.getElementById("entry-" + id);
      if (again && isEditing(again)) {
        if (!saving[id]) tellEditor(again);
        return;
      }
      if (html === null) {
        if (again) again.remove();
        return;
      }
      var fresh = toElement(html);
      if (!fresh) return;
      if (again) {
        // the card already shows this (often: this page's own change)
        if (!force && again.dataset.stamp && again.dataset.stamp === fresh.dataset.stamp) return;
        carryOver(again, fresh);
      } else {
        if (adding > 0) {
          // perhaps this page's own new entry: its card is on the way
          waitingForAdd.push([id, section, owner, force]);
          return;
        }
        var list = document.getElementById("list-" + section + "-" + owner);
        if (!list) {
          // a personal entry of a partner this page has no column for yet
          if (owner && owner !== "shared") partnerJoined();
          return;
        }
        list.appendChild(fresh);
        var empty = list.parentElement.querySelector(":scope > .empty");
        if (empty) empty.hidden = true;
      }
      htmx.process(fresh);
    }).then(recount);
  }

  // The summary line ("2 agreed · 1 waiting for you · …") follows the cards:
  // each card's class names its state. An entry open in the editor keeps the
  // state it had before.
  var lastState = {};
  var COUNTED = { agreed: "agreed", "waiting-me": "waiting-me",
    changed: "waiting-me", "waiting-partner": "waiting-partner" };
  function recount() {
    var line = document.getElementById("waiting");
    if (!line) return;
    var counts = { agreed: 0, "waiting-me": 0, "waiting-partner": 0 };
    root.querySelectorAll(".entry-list > .entry[data-entry]").forEach(function (el) {
      var id = el.dataset.entry;
      if (!isEditing(el)) {
        var match = el.className.match(/\bentry--([a-z-]+)/);
        lastState[id] = match ? match[1] : "";
      }
      var kind = COUNTED[lastState[id]];
      if (kind) counts[kind] += 1;
    });
    Object.keys(counts).forEach(function (kind) {
      var span = line.querySelector('[data-count="' + kind + '"]');
      if (span) span.textContent = span.textContent.replace(/^\d+/, String(counts[kind]));
    });
    var link = line.querySelector("[data-agreed-link]");
    if (link) link.hidden = counts.agreed === 0;
  }
  recount();
  document.body.addEventListener("htmx:afterSettle", recount);

  function refreshPresence() {
    fetchFragment(root.dataset.presence).then(function (html) {
      var slot = document.getElementById("presence");
      if (slot && html !== null) slot.innerHTML = html;
      if (html && html.trim() && !root.dataset.partnerName) partnerJoined();
    });
  }

  // The partner joined while this page was open (it was loaded when the plan had
  // one member): bring in what depends on them, from the page as it is now: the
  // names line, the invitation panel (gone), the summary line and their column
  // in each personal section; then refresh every card, whose state and buttons
  // change. What this person is writing in any form is left alone.
  var joining = false;
  function partnerJoined() {
    if (joining || root.dataset.partnerName) return;
    joining = true;
    var planUrl = root.dataset.entries.replace(/\/entries$/, "");
    fetch(planUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var doc = html && new DOMParser().parseFromString(html, "text/html");
        var fresh = doc && doc.getElementById("plan-live");
        if (!fresh || !fresh.dataset.partnerName) {
          joining = false;
          return;
        }
        root.dataset.partnerName = fresh.dataset.partnerName;
        var focusLost = false;
        function swap(selector) {
          var old = document.querySelector(selector);
          var neu = doc.querySelector(selector);
          if (!old || !neu) return;
          if (old.contains(document.activeElement)) focusLost = true;
          neu = document.importNode(neu, true);
          old.replaceWith(neu);
          htmx.process(neu);
        }
        swap(".plan-header .meta");
        swap("#invite_panel");
        var summary = doc.getElementById("waiting");
        if (summary && !document.getElementById("waiting")) {
          var slot = document.getElementById("presence");
          var line = document.importNode(summary, true);
          if (slot) slot.after(line);
          htmx.process(line);
        }
        root.querySelectorAll("section.section--personal").forEach(function (section) {
          var columns = section.querySelectorAll(".columns > .column");
          var freshSection = doc.getElementById(section.id);
          var freshColumns = freshSection &&
            freshSection.querySelectorAll(".columns > .column");
          if (columns.length < 2 || !freshColumns || freshColumns.length < 2) return;
          var neu = document.importNode(freshColumns[1], true);
          columns[1].replaceWith(neu);
          htmx.process(neu);
        });
        if (focusLost) document.getElementById("main").focus();
        recount();
        root.querySelectorAll(".entry[data-entry]").forEach(function (el) {
          if (!isEditing(el)) refreshEntry(el.dataset.entry, "", "", true);
        });
      })
      .catch(function () { joining = false; });
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

// Notes between the partners. A signal names the thread that changed; the thread
// is re-fetched as the person reading it sees it. A reply being written in that
// thread is left alone: only the notes above it are replaced.
(function () {
  "use strict";

  var root = document.querySelector("[data-live-notes]");
  if (!root) return;

  function refreshThread(id) {
    return fetch(root.dataset.liveNotes + "/" + encodeURIComponent(id), {
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
      cache: "no-store",
    }).then(function (response) {
      if (!response.ok) return;
      return response.text().then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.querySelector("[data-thread]");
        if (!fresh) return;
        var current = document.getElementById("thread-" + id);
        if (current) {
          var notes = current.querySelector("[data-thread-notes]");
          var freshNotes = fresh.querySelector("[data-thread-notes]");
          if (notes && freshNotes) {
            notes.replaceWith(freshNotes);
            htmx.process(freshNotes);
          }
          return;
        }
        var list = document.getElementById("thread-list");
        if (!list) return;
        list.prepend(fresh);
        htmx.process(fresh);
      });
    });
  }

  document.body.addEventListener("htmx:sseMessage", function (event) {
    var message = event.detail;
    if (!message || message.type !== "note" || !message.data) return;
    var data;
    try {
      data = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    if (data.thread) refreshThread(data.thread);
  });
})();
