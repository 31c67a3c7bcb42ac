/* Search, shared part: talking to the search service (contract: GET /api/search), which searches
   get logged, click logging, and small building blocks. Defines window.kb.search, used by
   search-dropdown.js, search-header.js and search-page.js. Plain ES2017, no framework.
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

  /* GET /api/search. `typing`: the customer is still typing, so the service does not log it.
     `exact`: the words as typed, without typo correction. */
  function search(query, limit, typing, signal, exact) {
    var path = "/api/search?q=" + encodeURIComponent(query) + "&limit=" + limit +
      "&session=" + session + (typing ? "&typing=1" : "") + (exact ? "&exact=1" : "");
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
  function logOpened(searchId, articleId, beacon) {
    if (!searchId || !articleId) return;
    store("kb-search-for-" + articleId, searchId);
    kb.postJSON("/api/click", { search_id: searchId, article_id: articleId }, beacon)
      .catch(function () { /* logging must never get in the way */ });
  }

  /* Every result link carries its article id and, once its query is settled, the search_id.
     (Header results opened before their query settled: search-header.js.) */
  function logClick(event) {
    if (event.type === "auxclick" && event.button !== 1) return;
    var link = event.target instanceof Element && event.target.closest("a[data-kb-article-id]");
    if (!link) return;
    logOpened(link.getAttribute("data-kb-search-id"),
      parseInt(link.getAttribute("data-kb-article-id"), 10), true);
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

  function quoted(text) {
    return "\u201c" + text + "\u201d";
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
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

  /* siteRoot + url (+ "#" + anchor); null unless it stays on this site. */
  function articleHref(result) {
    try {
      var url = new URL(String(result.url), kb.siteRoot);
      if (url.origin !== kb.siteRoot.origin) return null;
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

  kb.search = {
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
    quoted: quoted,
    plural: plural,
    snippetFragment: snippetFragment,
    articleHref: articleHref,
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
