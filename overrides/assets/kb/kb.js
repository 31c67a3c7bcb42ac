/* Help-center behaviour on every page: contact status and "Was this helpful?".
   Plain script, no framework; re-runs on Material's instant navigation (document$).
   Also defines window.kb (site root, API address, posting JSON), which the search-*.js use. */
(function () {
  "use strict";

  /* The site root, as Material computes it: the "base" in #__config, resolved once against
     the page this script first ran on (it stays right across instant navigation). */
  var config = document.getElementById("__config");
  var siteRoot = new URL((config && JSON.parse(config.textContent).base) || ".", location.href);

  /* <meta name="kb-api-base">: empty or missing = the origin that serves this site. */
  var apiMeta = document.querySelector('meta[name="kb-api-base"]');
  var apiBase = new URL((apiMeta && apiMeta.content.trim()) || siteRoot.origin, siteRoot).href
    .replace(/\/+$/, "");

  function api(path) {
    return apiBase + path;
  }

  /* POST JSON to the service. `beacon`: the page may be leaving, so hand the request to the
     browser (sendBeacon for the same origin, else fetch keepalive). Resolves when accepted. */
  function postJSON(path, body, beacon) {
    var url = api(path);
    var json = JSON.stringify(body);
    if (beacon && navigator.sendBeacon && new URL(url).origin === location.origin) {
      try {
        if (navigator.sendBeacon(url, new Blob([json], { type: "application/json" }))) {
          return Promise.resolve();
        }
      } catch (error) { /* fall through to fetch */ }
    }
    return fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: json, keepalive: true
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
    });
  }

  /* The search that led to an article (set by search-core.js when a result is opened), so the
     service can tie "not helpful" to what the customer searched for. */
  function searchThatLedTo(articleId) {
    try {
      return sessionStorage.getItem("kb-search-for-" + articleId);
    } catch (error) {
      return null;
    }
  }

  window.kb = { siteRoot: siteRoot, api: api, postJSON: postJSON };

  var DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];

  /* The shop's date and time now: { date: "YYYY-MM-DD", minutes } in its time zone. */
  function shopClock(timeZone, date) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return {
      date: parts.year + "-" + parts.month + "-" + parts.day,
      minutes: parseInt(parts.hour, 10) * 60 + parseInt(parts.minute, 10)
    };
  }

  /* A calendar day `ahead` days after `isoDate` (calendar arithmetic: no clock, no DST). */
  function dayAfter(isoDate, ahead) {
    var d = new Date(isoDate + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + ahead);
    return d;
  }

  function range(text) {
    var m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(text || "");
    return m ? [+m[1] * 60 + +m[2], +m[3] * 60 + +m[4]] : null;
  }

  function clock(minutes) {
    return ("0" + Math.floor(minutes / 60)).slice(-2) + ":" + ("0" + minutes % 60).slice(-2);
  }

  /* "08:00–16:00" or "Closed", as the table says it. */
  function hoursText(hours) {
    return hours === "closed" ? "Closed" : hours.replace("-", "\u2013");
  }

  /* A day's hours: its special day (a holiday, shorter hours) or its weekday's hours. */
  function hoursOn(day, hours, special) {
    var iso = day.toISOString().slice(0, 10);
    var exception = special[iso];
    return exception ? { hours: exception[0], name: exception[1] }
      : { hours: hours[DAYS[day.getUTCDay()]], name: null };
  }

  function dayName(day, ahead) {
    if (ahead === 0) return "today";
    if (ahead === 1) return "tomorrow";
    return "on " + dateName(day);
  }

  /* "Thursday 24 December": the weekday alone could be next week's. */
  function dateName(day) {
    var weekday = DAYS[day.getUTCDay()];
    return weekday.charAt(0).toUpperCase() + weekday.slice(1) + " " + day.getUTCDate() + " " +
      MONTHS[day.getUTCMonth()];
  }

  /* Open now, or when we open next, from the hours and special days in the shop's time zone. */
  function openingStatus(hours, special, now) {
    var today = hoursOn(dayAfter(now.date, 0), hours, special);
    var todayRange = range(today.hours);
    var status = { open: false, today: today };
    if (todayRange && now.minutes >= todayRange[0] && now.minutes < todayRange[1]) {
      status.open = true;
      status.until = clock(todayRange[1]);
      return status;
    }
    for (var ahead = 0; ahead < 15; ahead++) {
      var day = dayAfter(now.date, ahead);
      var opens = range(hoursOn(day, hours, special).hours);
      if (!opens || (ahead === 0 && now.minutes >= opens[0])) continue;
      status.when = dayName(day, ahead);
      status.at = clock(opens[0]);
      return status;
    }
    return status;
  }

  function showContactStatus(section) {
    var hours = JSON.parse(section.getAttribute("data-hours"));
    var special = JSON.parse(section.getAttribute("data-special") || "{}");
    var now = shopClock(section.getAttribute("data-timezone"), new Date());
    var status = openingStatus(hours, special, now);
    var line = section.querySelector(".kb-contact__status");
    var why = status.today.name ? " (" + status.today.name + ")" : "";
    if (status.open) {
      line.textContent = "Open now until " + status.until + why + ". " +
        section.getAttribute("data-open-line");
    } else {
      line.textContent = (status.today.name && !range(status.today.hours) ? "Closed today" + why
        : "Closed now") + (status.at ? ", we open " + status.when + " at " + status.at : "") +
        ". Email us any time: " + section.getAttribute("data-email-response") + ".";
    }
    line.className = "kb-contact__status " + (status.open ? "kb-open" : "kb-closed");
    line.hidden = false;
    // A channel that only works while we are open (the chat) is no way to reach us now.
    section.querySelectorAll('[data-when-closed="hidden"]').forEach(function (channel) {
      channel.hidden = !status.open;
    });
    var weekday = DAYS[dayAfter(now.date, 0).getUTCDay()];
    section.querySelectorAll("tr.kb-today").forEach(function (row) {
      row.classList.remove("kb-today");
    });
    var row = section.querySelector('tr[data-day="' + weekday + '"]');
    if (row) {
      row.classList.add("kb-today");
      row.querySelector("td").textContent = hoursText(status.today.hours) + why;
    }
    showSpecialDays(section, special, now.date);
  }

  /* The list of holidays and special days, from today on, for the coming weeks. */
  function showSpecialDays(section, special, today) {
    var box = section.querySelector(".kb-contact__special");
    if (!box) return;
    var list = box.querySelector("ul");
    var soonDays = parseInt(section.getAttribute("data-soon-days"), 10) || 0;
    var last = dayAfter(today, soonDays).toISOString().slice(0, 10);
    list.textContent = "";
    Object.keys(special).sort().forEach(function (iso) {
      if (iso < today || iso >= last) return;
      var item = document.createElement("li");
      var time = document.createElement("time");
      time.dateTime = iso;
      time.textContent = dateName(dayAfter(iso, 0));
      item.appendChild(time);
      item.appendChild(document.createTextNode(
        ": " + hoursText(special[iso][0]) + " (" + special[iso][1] + ")"));
      list.appendChild(item);
    });
    box.hidden = !list.children.length;
  }

  /* "Was this helpful?": Yes posts at once; No asks why (a few reasons, and what was missing),
     Send posts it and offers a person. The customer is thanked either way, even when the post
     fails (nothing they can do about it). */
  function setUpFeedback(form) {
    if (form.hasAttribute("data-kb-ready")) return;
    form.setAttribute("data-kb-ready", "");
    var articleId = parseInt(form.getAttribute("data-article-id"), 10);
    var buttons = form.querySelector(".kb-feedback__buttons");
    var missing = form.querySelector(".kb-feedback__missing");
    var text = missing.querySelector("textarea");
    var thanks = form.querySelector(".kb-feedback__thanks");
    var sent = false;

    function send(helpful) {
      if (sent) return;
      sent = true;
      var body = { article_id: articleId, helpful: helpful };
      var what = text.value.trim().slice(0, 500);
      var reason = missing.querySelector("input[type=radio]:checked");
      if (!helpful && what) body.missing = what;
      if (!helpful && reason) body.reason = reason.value;
      var searchId = searchThatLedTo(articleId);
      if (searchId) body.search_id = searchId;
      postJSON("/api/feedback", body, false).catch(function () { /* thanked anyway */ });
      buttons.hidden = true;
      missing.hidden = true;
      thanks.querySelector(".kb-feedback__next").hidden = helpful;
      thanks.hidden = false;
      thanks.focus();
    }

    form.querySelector('[data-helpful="yes"]').addEventListener("click", function () {
      send(true);
    });
    form.querySelector('[data-helpful="no"]').addEventListener("click", function () {
      buttons.hidden = true;
      missing.hidden = false;
      missing.querySelector("input[type=radio]").focus();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(false);
    });
  }

  /* ------------------------------------------------------------------ email with the trail */

  /* What the customer searched for here: the words in the search box whose "nothing found"
     holds the link, the results page's own query, else the search this tab settled on last
     (search-core.js keeps it). */
  function searchedFor(link) {
    var scope = link.closest(".md-search, .kb-hero__search");
    var box = scope && scope.querySelector("input[type=search], input.md-search__input");
    if (box && box.value.trim()) return box.value.trim();
    if (document.querySelector(".kb-search-page")) {
      var q = new URLSearchParams(location.search).get("q");
      if (q && q.trim()) return q.trim();
    }
    try {
      var last = JSON.parse(sessionStorage.getItem("kb-last-search") || "null");
      return last && typeof last.query === "string" ? last.query : null;
    } catch (error) {
      return null;
    }
  }

  /* A mailto: address with a subject and body that say what the customer searched for and
     which article they read, so they need not explain it again. It opens in their own email
     program, where they see all of it and can change it; nothing is sent by us. */
  function mailWithTrail(link) {
    var address = link.getAttribute("href").slice(7).split("?")[0];
    var query = searchedFor(link);
    if (query) query = characters(query, 200);   // what a search box takes; a crafted ?q= more
    var permalink = document.querySelector(".kb-article-footer .kb-permalink");
    var title = permalink && document.querySelector(".md-content h1");
    var lines = ["Hello,", "", "", "", "-- From the help center --"];
    if (query) lines.push("I searched for: " + query);
    if (title) lines.push("I read: " + title.textContent.trim() + " (" + permalink.href + ")");
    if (!query && !title) lines.push("I was on: " + characters(location.href, 300));
    var subject = title ? "Question about: " + title.textContent.trim()
      : query ? "Question: " + query : "A question for customer service";
    return "mailto:" + address + "?subject=" + encodeURIComponent(characters(subject, 120)) +
      "&body=" + encodeURIComponent(lines.join("\n"));
  }

  /* The first `n` characters, never half of one (slice would cut an emoji in two, and
     encodeURIComponent throws on the half). */
  function characters(text, n) {
    return Array.from(text).slice(0, n).join("");
  }

  /* Every "email us" link to the shop carries the trail, worked out when it is opened (a
     search may have settled since the page loaded). */
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element && event.target.closest('a[href^="mailto:"]');
    if (!link || !link.closest(".kb-contact, .kb-feedback, .kb-none")) return;
    try {
      link.href = mailWithTrail(link);
    } catch (error) { /* the plain address still opens a mail */ }
  }, true);

  function init() {
    document.querySelectorAll(".kb-contact").forEach(showContactStatus);
    document.querySelectorAll(".kb-feedback").forEach(setUpFeedback);
  }

  if (window.document$) {
    window.document$.subscribe(init);
  } else {
    document.addEventListener("DOMContentLoaded", init);
  }
})();
