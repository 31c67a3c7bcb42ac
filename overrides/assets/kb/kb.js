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

  function shopClock(timeZone, date) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone, weekday: "long", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return {
      day: DAYS.indexOf(parts.weekday.toLowerCase()),
      minutes: parseInt(parts.hour, 10) * 60 + parseInt(parts.minute, 10)
    };
  }

  function range(text) {
    var m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(text || "");
    return m ? [+m[1] * 60 + +m[2], +m[3] * 60 + +m[4]] : null;
  }

  function clock(minutes) {
    return ("0" + Math.floor(minutes / 60)).slice(-2) + ":" + ("0" + minutes % 60).slice(-2);
  }

  /* Open now, or when we open next, from the weekly hours in the shop's time zone. */
  function openingStatus(hours, now) {
    var today = range(hours[DAYS[now.day]]);
    if (today && now.minutes >= today[0] && now.minutes < today[1]) {
      return { open: true, until: clock(today[1]) };
    }
    for (var ahead = 0; ahead < 8; ahead++) {
      var day = (now.day + ahead) % 7;
      var hoursThatDay = range(hours[DAYS[day]]);
      if (!hoursThatDay || (ahead === 0 && now.minutes >= hoursThatDay[0])) continue;
      var when = ahead === 0 ? "today" : ahead === 1 ? "tomorrow"
        : DAYS[day].charAt(0).toUpperCase() + DAYS[day].slice(1);
      return { open: false, when: when, at: clock(hoursThatDay[0]) };
    }
    return { open: false };
  }

  function showContactStatus(section) {
    var hours = JSON.parse(section.getAttribute("data-hours"));
    var now = shopClock(section.getAttribute("data-timezone"), new Date());
    var status = openingStatus(hours, now);
    var line = section.querySelector(".kb-contact__status");
    if (status.open) {
      line.textContent = "Open now until " + status.until + ". Call or chat with us.";
    } else {
      line.textContent = "Closed now" + (status.at ? ", we open " + status.when + " at " + status.at : "") +
        ". Email us any time: " + section.getAttribute("data-email-response") + ".";
    }
    line.className = "kb-contact__status " + (status.open ? "kb-open" : "kb-closed");
    line.hidden = false;
    var row = section.querySelector('tr[data-day="' + DAYS[now.day] + '"]');
    if (row) row.classList.add("kb-today");
  }

  /* "Was this helpful?": Yes posts at once; No asks what was missing, Send posts it. The
     customer is thanked either way, even when the post fails (nothing they can do about it). */
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
      if (!helpful && what) body.missing = what;
      var searchId = searchThatLedTo(articleId);
      if (searchId) body.search_id = searchId;
      postJSON("/api/feedback", body, false).catch(function () { /* thanked anyway */ });
      buttons.hidden = true;
      missing.hidden = true;
      thanks.hidden = false;
      thanks.setAttribute("tabindex", "-1");
      thanks.focus();
    }

    form.querySelector('[data-helpful="yes"]').addEventListener("click", function () {
      send(true);
    });
    form.querySelector('[data-helpful="no"]').addEventListener("click", function () {
      buttons.hidden = true;
      missing.hidden = false;
      text.focus();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(false);
    });
  }

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
