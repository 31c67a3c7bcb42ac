/* Search, shared part: talking to the search service (contract: GET /api/search), which searches
   get logged, click logging, search as you type, and small building blocks. Defines
   window.kb.search, used by search-dropdown.js, search-header.js, search-home.js and
   search-page.js. Plain ES2017, no framework.
   Needs kb.js (window.kb) loaded first.

   What gets logged: only what the customer actually searched for. Requests made while they are
   still typing send typing=1 (answered, not logged, search_id null). The settled query is
   requested once more without it (the service answers it from its cache): that request is
   logged and gives the search_id for /api/click and for "Was this helpful?". The same settled
   query twice in a row (in this tab) is logged once: the second time reuses the first id.
   "Search instead for" (exact: the words as typed, no typo correction) is a search of its own. */
(function () {
  "use strict";

  var kb = window.kb;
  if (!kb) return;

  var HEALTH_TIMEOUT_MS = 1500;
  var SEARCH_TIMEOUT_MS = 6000;
  var RETRY_AFTER_MS = 30000;
  var MAX_QUERY = 200;

  var resultsPage = new URL("search/", kb.siteRoot);
  var materialConfig = readMaterialConfig();

  /* ------------------------------------------------------------------ the service */

  var health = null;
  var failedAt = 0;

  /* Does the service answer? Asked once (again after a failure, at most every 30 s). */
  function serviceIsUp() {
    if (!health) {
      health = getJSON("/healthz", HEALTH_TIMEOUT_MS).then(
        function (body) { return body.ok === true; },
        function () { return false; }
      ).then(function (up) {
        if (!up) failedAt = Date.now();
        return up;
      });
    }
    return health;
  }

  function serviceFailed() {
    failedAt = Date.now();
    health = Promise.resolve(false);
  }

  function retryIfDue() {
    if (failedAt && Date.now() - failedAt > RETRY_AFTER_MS) {
      failedAt = 0;
      health = null;
    }
  }

  function getJSON(path, timeout, signal) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeout);
    if (signal) signal.addEventListener("abort", function () { controller.abort(); });
    return fetch(kb.api(path), { signal: controller.signal, headers: { Accept: "application/json" } })
      .then(function (response) {
        clearTimeout(timer);
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }, function (error) {
        clearTimeout(timer);
        throw error;
      });
  }

  function stored(key) {
    try {
      return sessionStorage.getItem(key);
    } catch (error) {
      return null;   // private mode
    }
  }

  function store(key, value) {
    try {
      sessionStorage.setItem(key, value);
    } catch (error) { /* private mode: kept for this page only */ }
  }

  /* A random id for this visit (this tab), so the service can tell one customer's searches
     apart from another's without any cookie or address. */
  var session = (function () {
    var id = stored("kb-session") || "";
    if (!/^[0-9a-f]{32}$/.test(id)) {
      id = Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      store("kb-session", id);
    }
    return id;
  })();

  /* GET /api/search, in the page's language (the edition's articles). `typing`: the customer
     is still typing, so the service does not log it. `exact`: the words as typed, without
     typo correction. */
  function search(query, limit, typing, signal, exact) {
    var path = "/api/search?q=" + encodeURIComponent(query) + "&limit=" + limit +
      "&lang=" + encodeURIComponent(kb.language) + "&session=" + session +
      (typing ? "&typing=1" : "") + (exact ? "&exact=1" : "");
    return getJSON(path, SEARCH_TIMEOUT_MS, signal).then(function (body) {
      if (!body || body.ok !== true || !Array.isArray(body.results)) throw new Error("bad answer");
      return body;
    });
  }

  /* The settled query logged last in this tab: { query, exact, id (once known), promise of
     the id }.
     Kept in sessionStorage too, so a results page that loads afresh does not log it again. */
  var last = (function () {
    try {
      var saved = JSON.parse(stored("kb-last-search") || "null");
      if (saved && typeof saved.query === "string" && typeof saved.id === "string") {
        return { query: saved.query, exact: saved.exact === true, id: saved.id,
          promise: Promise.resolve(saved.id) };
      }
    } catch (error) { /* nothing usable saved */ }
    return null;
  })();

  /* The customer settled on `query`: log it, unless it is the query logged last. Resolves to
     { searchId, body }: body is the logged request's answer, or null when the search was
     already logged (nothing new was asked). */
  function settle(query, limit, signal, exact) {
    exact = !!exact;
    if (isLast(query, exact)) {
      return last.promise.then(function (id) {
        return { searchId: id, body: null };
      }, function () {
        return settle(query, limit, signal, exact);   // that attempt failed (and was forgotten)
      });
    }
    var mine = { query: query, exact: exact, id: null, promise: null };
    var answer = search(query, limit, false, signal, exact);
    mine.promise = answer.then(function (body) {
      if (!body.search_id) throw new Error("no search_id");
      mine.id = body.search_id;
      if (last === mine) {
        store("kb-last-search", JSON.stringify({ query: query, exact: exact, id: mine.id }));
      }
      return mine.id;
    });
    mine.promise.catch(function () {
      if (last === mine) last = null;
    });
    last = mine;
    return Promise.all([mine.promise, answer]).then(function (both) {
      return { searchId: both[0], body: both[1] };
    });
  }

  function isLast(query, exact) {
    return !!last && last.query === query && last.exact === !!exact;
  }

  /* The search_id of `query` if it is the settled query logged last, else null. */
  function loggedId(query, exact) {
    return isLast(query, exact) ? last.id : null;
  }

  /* ------------------------------------------------------------------ opening a result */

  /* The customer opened a result: log it (the page may be leaving: `beacon`), and remember the
     search for the article's "Was this helpful?" (kb.js). */
  function logOpened(searchId, articleId, beacon, lang, position) {
    if (!searchId || !articleId) return;
    store("kb-search-for-" + articleId, searchId);
    /* The language the article opens in: the page's, or the one a result is marked with. */
    var body = { search_id: searchId, article_id: articleId,
      lang: lang || document.documentElement.lang };
    if (position >= 1 && position <= 100) body.position = position;   // for the dashboard
    kb.postJSON("/api/click", body, beacon)
      .catch(function () { /* logging must never get in the way */ });
  }

  /* Every result link carries its article id and, once its query is settled, the search_id.
     (Results opened before their query settled: asYouType's openResult.) */
  function logClick(event) {
    if (event.type === "auxclick" && event.button !== 1) return;
    var link = event.target instanceof Element && event.target.closest("a[data-kb-article-id]");
    if (!link) return;
    logOpened(link.getAttribute("data-kb-search-id"),
      parseInt(link.getAttribute("data-kb-article-id"), 10), true,
      link.getAttribute("data-kb-lang"), positionOf(link));
  }
  /* The result's place in its list, from 1 (data-kb-position), or null. */
  function positionOf(link) {
    return parseInt(link.getAttribute("data-kb-position"), 10) || null;
  }

  document.addEventListener("click", logClick, true);
  document.addEventListener("auxclick", logClick, true);

  /* ------------------------------------------------------------------ building blocks */

  function readMaterialConfig() {
    try {
      return JSON.parse(document.getElementById("__config").textContent);
    } catch (error) {
      return {};
    }
  }

  function translation(key, fallback) {
    var all = materialConfig.translations || {};
    return all[key] || fallback;
  }

  function normalise(text) {
    return String(text || "").replace(/\s+/g, " ").trim().slice(0, MAX_QUERY);
  }

  /* An element with a class and text; never HTML from the service. */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  /* The snippet is escaped text plus <mark> (contract). Belt and braces: parse it inert and keep
     only text and <mark>, so a mistake on the service side can never run in the page. */
  function snippetFragment(html) {
    var template = document.createElement("template");
    template.innerHTML = String(html || "");
    var out = document.createDocumentFragment();
    if (/^[a-z,;]/.test(template.content.textContent)) out.append("\u2026 ");  // starts mid-sentence
    template.content.childNodes.forEach(function (node) {
      if (node.nodeType === Node.ELEMENT_NODE && node.nodeName === "MARK") {
        out.appendChild(el("mark", null, node.textContent));
      } else {
        out.appendChild(document.createTextNode(node.textContent));
      }
    });
    return out;
  }

  /* The help center's root + url (+ "#" + anchor): the API's addresses are from the root of
     every language (sv/returns/...); null unless it stays on this site. */
  /* A language's own name in the page's language: "engelska" on a Swedish page. */
  function languageName(code) {
    try {
      var names = new Intl.DisplayNames([document.documentElement.lang], { type: "language" });
      return names.of(code) || code;
    } catch (error) {
      return code;
    }
  }

  function articleHref(result) {
    try {
      var url = new URL(String(result.url), kb.helpCenterRoot);
      if (url.origin !== kb.helpCenterRoot.origin) return null;
      if (result.anchor) url.hash = String(result.anchor);
      return url.href;
    } catch (error) {
      return null;
    }
  }

  /* The results page for `query`; `exact`: "Search instead for" the words as typed. */
  function resultsUrl(query, exact) {
    var url = new URL(resultsPage.href);
    url.searchParams.set("q", query);
    if (exact) url.searchParams.set("exact", "1");
    return url.href;
  }

  function onResultsPage() {
    return location.pathname === resultsPage.pathname;
  }

  /* Go to a page the way Material's links do (instant navigation when it is on). */
  function navigate(href) {
    var link = document.createElement("a");
    link.href = href;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  /* Close Material's search overlay (the header's search box), if it is open. */
  function closeOverlay() {
    var toggle = document.querySelector("[data-md-toggle=search]");
    var box = document.querySelector("[data-md-component=search-query]");
    if (toggle && toggle.checked) toggle.click();
    if (box) box.blur();
  }

  /* The results page on screen (search-page.js registers it), or null. */
  var page = null;

  function goToResults(query, exact) {
    if (page && onResultsPage() && document.contains(page.root)) {
      page.load(query, true, exact);
    } else {
      navigate(resultsUrl(query, exact));
    }
  }

  /* Each page (also after instant navigation): try the service again if it failed a while ago. */
  function onEachPage(setUp) {
    if (window.document$) {
      window.document$.subscribe(setUp);
    } else {
      document.addEventListener("DOMContentLoaded", setUp);
    }
  }
  onEachPage(retryIfDue);

  /* "Search instead for <query>": a real link to the exact search (shareable, opens in a new
     tab); a plain click runs `search` instead, not Material's instant navigation. */
  function insteadLink(query, className, search) {
    var link = el("a", className, query);
    link.href = resultsUrl(query, true);
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      search();
    });
    return link;
  }

  /* ------------------------------------------------------------------ search as you type */

  var DEBOUNCE_MS = 150;
  var SETTLE_MS = 1000;
  var OPEN_WAIT_MS = 1500;
  var DROPDOWN_LIMIT = 8;   // the same for typing and settled requests: one cache entry

  /* The typing half of a box that shows results as the customer types (the header's,
     search-header.js; the home page's, search-home.js). A keystroke (`schedule`) runs
     `box.run` after DEBOUNCE_MS, which searches with `request` (typing=1, not logged; only the
     newest request counts); the query is settled, and logged once, after SETTLE_MS without a
     keystroke, or when a result is opened before that (`openResult`).
     `box`: run(), paint(view) for an answer, failed() when a search fails, shown() the view
     on screen (or null), active() false while the box is not ours, and optional leaving()
     when a result is about to be opened in this page. Needs search-dropdown.js. */
  function asYouType(input, box) {
    var timer = 0;           // the next search as you type
    var settleTimer = 0;     // the query counts as settled when this fires
    var controller = null;
    var opening = false;     // a result is waiting for its search_id before it opens

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(box.run, DEBOUNCE_MS);
      settleLater();
    }

    function settleLater() {
      clearTimeout(settleTimer);
      settleTimer = setTimeout(settleNow, SETTLE_MS);
    }

    function stopTyping() {
      clearTimeout(timer);
      if (controller) controller.abort();
      controller = null;
    }

    function cancel() {
      stopTyping();
      clearTimeout(settleTimer);
    }

    function request(query) {
      stopTyping();
      var mine = controller = new AbortController();
      search(query, DROPDOWN_LIMIT, true, mine.signal).then(function (body) {
        if (controller !== mine) return;
        controller = null;
        box.paint(kb.search.dropdown.answer(query, body, loggedId(query)));
      }, function () {
        if (controller !== mine || mine.signal.aborted) return;
        controller = null;
        box.failed();
      });
    }

    /* No keystroke for SETTLE_MS: what is in the box is what the customer searched for. */
    function settleNow() {
      var query = normalise(input.value);
      if (box.active() && query) {
        settleShown(query).catch(function () { /* settled again on open */ });
      }
    }

    /* Log `query` (once), and put its search_id on its results. Resolves to the search_id. */
    function settleShown(query) {
      return settle(query, DROPDOWN_LIMIT).then(function (settled) {
        var shown = box.shown();
        if (shown) kb.search.dropdown.stamp(shown.items, query, settled.searchId);
        return settled.searchId;
      });
    }

    /* The customer is about to open a result (pointer down on it, or the arrow keys on it):
       settle its query now, so the search_id is usually there by the time the click comes. */
    function settleAhead(event) {
      var link = event.target instanceof Element && event.target.closest("a[data-kb-query]");
      var query = link && link.getAttribute("data-kb-query");
      if (box.active() && query && !link.getAttribute("data-kb-search-id")) {
        settleShown(query).catch(function () { /* settled again on open */ });
      }
    }

    /* A result opened before its query (the one it answers) settled: settle it first, so the
       click is logged against that search. A new tab leaves this page here: log when the id
       comes. Otherwise this page is leaving: wait for the id (a cached answer, quick; at most
       OPEN_WAIT_MS), then go. (Results that already have their id: logClick.) */
    function openResult(event) {
      if (!box.active() || event.button !== (event.type === "auxclick" ? 1 : 0)) return;
      var link = event.target instanceof Element && event.target.closest("a[data-kb-article-id]");
      var query = link && link.getAttribute("data-kb-query");
      if (!query || link.getAttribute("data-kb-search-id")) return;
      var articleId = parseInt(link.getAttribute("data-kb-article-id"), 10);
      var newTab = event.type === "auxclick" || event.ctrlKey || event.metaKey || event.shiftKey ||
        event.altKey || link.target;
      if (newTab) {
        settleShown(query).then(function (searchId) {
          logOpened(searchId, articleId, false, null, positionOf(link));
        }).catch(function () { /* logging must never get in the way */ });
        return;
      }
      event.preventDefault();
      event.stopPropagation();   // not Material's instant navigation: we open it ourselves, below
      if (opening) return;
      opening = true;
      var href = link.href;
      var logged = settleShown(query).then(function (searchId) {
        logOpened(searchId, articleId, true, null, positionOf(link));
      });
      cancel();
      if (box.leaving) box.leaving();
      var waited = new Promise(function (resolve) { setTimeout(resolve, OPEN_WAIT_MS); });
      function go() {
        opening = false;
        navigate(href);
      }
      Promise.race([logged, waited]).then(go, go);
    }

    /* Search what is in the box now, not after the debounce. */
    function runNow() {
      clearTimeout(timer);
      box.run();
    }

    return {
      schedule: schedule,
      settleLater: settleLater,
      runNow: runNow,
      stopTyping: stopTyping,
      request: request,
      cancel: cancel,
      settleAhead: settleAhead,
      openResult: openResult
    };
  }

  kb.search = {
    asYouType: asYouType,
    getJSON: getJSON,
    insteadLink: insteadLink,
    serviceIsUp: serviceIsUp,
    serviceFailed: serviceFailed,
    search: search,
    settle: settle,
    loggedId: loggedId,
    logOpened: logOpened,
    translation: translation,
    normalise: normalise,
    el: el,
    quoted: kb.quoted,
    plural: kb.plural,
    snippetFragment: snippetFragment,
    articleHref: articleHref,
    languageName: languageName,
    resultsUrl: resultsUrl,
    resultsPage: resultsPage,
    onResultsPage: onResultsPage,
    navigate: navigate,
    closeOverlay: closeOverlay,
    goToResults: goToResults,
    setPage: function (view) { page = view; },
    get page() { return page; },
    onEachPage: onEachPage
  };
})();
