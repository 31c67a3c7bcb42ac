/* Help-center behaviour on every page: contact status and "Was this helpful?".
   Plain script, no framework; re-runs on Material's instant navigation (document$).
   Also defines window.kb (site root, API address, posting JSON, the page's words), which the
   search-*.js use. Every word shown comes from the page's <script id="kb-strings">
   (kb_search/strings.yml, in the edition's language); dates and times from Intl. */
(function () {
  "use strict";

  /* The site root, as Material computes it: the "base" in #__config, resolved once against
     the page this script first ran on (it stays right across instant navigation). */
  var config = document.getElementById("__config");
  var siteRoot = new URL((config && JSON.parse(config.textContent).base) || ".", location.href);

  /* The root of the whole help center, every language's: <meta name="kb-help-center-root">,
     from this language's root ("../" from /sv/). The API's addresses start there. */
  var rootMeta = document.querySelector('meta[name="kb-help-center-root"]');
  var helpCenterRoot = new URL((rootMeta && rootMeta.content) || ".", siteRoot);

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

  /* ------------------------------------------------------------------ the page's words */

  /* The strings of this edition (every page carries them; the same on every page). */
  var strings = (function () {
    try {
      return JSON.parse(document.getElementById("kb-strings").textContent) || {};
    } catch (error) {
      return {};
    }
  })();
  /* The page's language ("en", "sv"): what the search service is asked to search in. */
  var language = document.documentElement.lang || "en";
  /* How dates and times are written: strings.yml's locale ("en-GB"), else the language. */
  var locale = strings.locale || language;

  /* The string `key` with its {name}s filled from `values`; a missing one shows its key
     (tests/test_strings.py checks that every key the scripts use is there). */
  function t(key, values) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && values[name] != null ? String(values[name]) : whole;
    });
  }

  /* The same, as a list of text and nodes to append: a {name} can be an element (a link, a
     <strong>) without building HTML. */
  function nodes(key, values) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    return text.split(/(\{\w+\})/).map(function (part) {
      var name = /^\{(\w+)\}$/.exec(part);
      var value = name && values ? values[name[1]] : null;
      return value == null ? part : value instanceof Node ? value : String(value);
    }).filter(function (part) { return part !== ""; });
  }

  var pluralRules = new Intl.PluralRules(locale);

  /* "1 article", "3 articles": strings.yml's `<key>_one`, `<key>_other` (the language's own
     plural rules pick which). */
  function plural(count, key) {
    var form = key + "_" + pluralRules.select(count);
    return t(Object.prototype.hasOwnProperty.call(strings, form) ? form : key + "_other",
      { count: count });
  }

  function quoted(text) {
    return t("quoted", { text: text });
  }

  window.kb = {
    siteRoot: siteRoot, helpCenterRoot: helpCenterRoot, api: api, postJSON: postJSON,
    language: language, locale: locale, t: t, nodes: nodes, plural: plural, quoted: quoted
  };

  var DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
  var DATE_NAME = new Intl.DateTimeFormat(locale,
    { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
  var TIME = new Intl.DateTimeFormat(locale,
    { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" });

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

  /* A time of day as the page's language writes it ("08:00"); midnight at the end of a day
     stays 24:00, as store.yml has it. */
  function clock(minutes) {
    if (minutes >= 24 * 60) return "24:00";
    return TIME.format(Date.UTC(2000, 0, 1, Math.floor(minutes / 60), minutes % 60));
  }

  /* "08:00–16:00" or "Closed", as the table says it. */
  function hoursText(hours) {
    return hours === "closed" ? t("closed") : hours.replace("-", "\u2013");
  }

  /* A day's hours: its special day (a holiday, shorter hours) or its weekday's hours. */
  function hoursOn(day, hours, special) {
    var iso = day.toISOString().slice(0, 10);
    var exception = special[iso];
    return exception ? { hours: exception[0], name: exception[1] }
      : { hours: hours[DAYS[day.getUTCDay()]], name: null };
  }

  function dayName(day, ahead) {
    if (ahead === 0) return t("today");
    if (ahead === 1) return t("tomorrow");
    return t("on_date", { date: dateName(day) });
  }

  /* "Thursday 24 December", "torsdag 24 december": the weekday alone could be next week's. */
  function dateName(day) {
    return DATE_NAME.format(day);
  }

  /* A list item starts with a capital, whatever the language writes mid-sentence. */
  function firstUpper(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
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
    var response = section.getAttribute("data-email-response");
    if (status.open) {
      line.textContent = t("open_now", { time: status.until, why: why,
        open_line: section.getAttribute("data-open-line") });
    } else {
      var closed = status.today.name && !range(status.today.hours)
        ? t("closed_today", { why: why }) : t("closed_now");
      line.textContent = status.at
        ? t("closed_we_open", { closed: closed, when: status.when, time: status.at,
          response: response })
        : t("closed_email_us", { closed: closed, response: response });
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
      time.textContent = firstUpper(dateName(dayAfter(iso, 0)));
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
      // The article's language: its feedback joins that language's gaps.
      var body = { article_id: articleId, helpful: helpful, lang: document.documentElement.lang };
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
    var lines = [t("mail_hello"), "", "", "", t("mail_trail")];
    var read = title && title.textContent.trim();
    if (query) lines.push(t("mail_searched_for", { query: query }));
    if (title) lines.push(t("mail_read", { title: read, link: permalink.href }));
    if (!query && !title) {
      lines.push(t("mail_was_on", { address: characters(location.href, 300) }));
    }
    var subject = title ? t("mail_subject_article", { title: read })
      : query ? t("mail_subject_query", { query: query }) : t("mail_subject");
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

  /* ------------------------------------------------------------------ self-service */

  /* A visit that searched went on to contact us (a contact page, or a channel of the contact
     block): the dashboard's self-service share counts the visits that did not. Sent with the
     visit's random id (search-core.js), only once the visit has searched. */
  function reportContact(beacon) {
    var session = null;
    try {
      session = sessionStorage.getItem("kb-last-search") && sessionStorage.getItem("kb-session");
    } catch (error) { /* private mode: nothing to tie it to */ }
    if (!session) return;
    postJSON("/api/contact", { session: session, lang: document.documentElement.lang }, beacon)
      .catch(function () { /* logging must never get in the way */ });
  }

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element && event.target.closest(".kb-contact__channels a");
    if (link) reportContact(true);
  }, true);

  function init() {
    document.querySelectorAll(".kb-contact").forEach(showContactStatus);
    document.querySelectorAll(".kb-feedback").forEach(setUpFeedback);
    if (document.querySelector("[data-kb-contact-page]")) reportContact(false);
  }

  if (window.document$) {
    window.document$.subscribe(init);
  } else {
    document.addEventListener("DOMContentLoaded", init);
  }
})();
