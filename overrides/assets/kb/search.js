/* Search as you type, answered by the help center's search service (contract: GET /api/search).

   At start-up we ask the service's /healthz. If it answers, we take over Material's header search
   box: its input/keyup events are stopped in the capture phase (Material's own handlers never
   see them) and our results go into Material's result container, with Material's classes, so it
   looks native and Material's arrow-key navigation keeps working. If the service does not
   answer, or a search fails, we step aside and Material's built-in (lunr) search answers.

   Also the results page (search/?q=...: overrides/search.html) and click logging.
   Plain ES2017, no framework. Needs kb.js (window.kb) loaded first. */
(function () {
  "use strict";

  var kb = window.kb;
  if (!kb) return;

  var DEBOUNCE_MS = 150;
  var HEALTH_TIMEOUT_MS = 1500;
  var SEARCH_TIMEOUT_MS = 6000;
  var RETRY_AFTER_MS = 30000;
  var DROPDOWN_LIMIT = 8;
  var PAGE_LIMIT = 20;
  var MAX_QUERY = 200;

  var resultsPage = new URL("search/", kb.siteRoot);
  var materialConfig = readMaterialConfig();

  /* ------------------------------------------------------------------ the service */

  var health = null;

  /* Does the service answer? Asked once (again after a failure, at most every 30 s). */
  function serviceIsUp() {
    if (!health) {
      health = getJSON("/healthz", HEALTH_TIMEOUT_MS).then(
        function (body) { return body.ok === true; },
        function () { return false; }
      );
    }
    return health;
  }

  var failedAt = 0;
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

  function search(query, limit, signal) {
    var path = "/api/search?q=" + encodeURIComponent(query) + "&limit=" + limit;
    return getJSON(path, SEARCH_TIMEOUT_MS, signal).then(function (body) {
      if (!body || body.ok !== true || !Array.isArray(body.results)) throw new Error("bad answer");
      return body;
    });
  }

  /* The customer opened a result: log it (the page may be leaving, hence a beacon), and
     remember the search for the article's "Was this helpful?" (kb.js). */
  function logClick(event) {
    if (event.type === "auxclick" && event.button !== 1) return;
    var link = event.target instanceof Element && event.target.closest("a[data-kb-article-id]");
    if (!link) return;
    var articleId = parseInt(link.getAttribute("data-kb-article-id"), 10);
    var searchId = link.getAttribute("data-kb-search-id");
    if (!searchId || !articleId) return;
    try {
      sessionStorage.setItem("kb-search-for-" + articleId, searchId);
    } catch (error) { /* private mode: no matter */ }
    kb.postJSON("/api/click", { search_id: searchId, article_id: articleId }, true)
      .catch(function () { /* logging must never get in the way */ });
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
    return text.replace(/\s+/g, " ").trim().slice(0, MAX_QUERY);
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

  function resultsUrl(query) {
    var url = new URL(resultsPage.href);
    url.searchParams.set("q", query);
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

  /* The contact facts from this page's contact block (partials/kb-contact.html), if it has one. */
  function contactFacts() {
    var block = document.querySelector(".kb-contact");
    if (!block) return null;
    function channel(key) {
      var link = block.querySelector(".kb-channel--" + key + " a");
      if (!link) return null;
      var value = link.querySelector("span");
      var promise = link.parentNode.querySelector("small");
      return {
        href: link.getAttribute("href"),
        value: (value || link).textContent.trim(),
        promise: promise ? promise.textContent.trim() : ""
      };
    }
    var status = block.querySelector(".kb-contact__status");
    return {
      phone: channel("phone"),
      email: channel("email"),
      status: status && !status.hidden ? status.textContent.trim() : ""
    };
  }

  /* ------------------------------------------------------------------ header search */

  var header = null;

  function HeaderSearch(input, result) {
    var meta = result.querySelector(".md-search-result__meta");
    var list = result.querySelector(".md-search-result__list");
    var suggest = document.querySelector("[data-md-component=search-suggest]");
    var toggle = document.querySelector("[data-md-toggle=search]");
    var owned = false;
    var timer = 0;
    var controller = null;
    var asked = null;        // the query last sent (or shown)
    var painted = null;      // the nodes we rendered: { meta: Node, items: [Node] }

    /* Material renders into the same container when its own pipeline runs (on focus changes,
       when its index is ready); while we own the box, put our rendering straight back. */
    var guard = new MutationObserver(function () {
      if (!owned) return;
      if (suggest && suggest.textContent) suggest.textContent = "";
      if (painted && !isPainted()) repaint();
    });

    function isPainted() {
      if (meta.childNodes.length !== 1 || meta.firstChild !== painted.meta) return false;
      if (list.childNodes.length !== painted.items.length) return false;
      return painted.items.every(function (item, i) { return list.childNodes[i] === item; });
    }

    function repaint() {
      meta.replaceChildren(painted.meta);
      list.replaceChildren.apply(list, painted.items);
    }

    function paint(metaNode, items) {
      painted = { meta: metaNode, items: items };
      repaint();
    }

    function showPlaceholder() {
      asked = "";
      paint(el("span", "kb-meta", translation("search.result.placeholder", "Type to start searching")), []);
    }

    function showResults(query, body) {
      var results = body.results.filter(articleHref);
      if (!results.length) {
        showNothingFound(query, body);
        return;
      }
      var metaNode = el("span", "kb-meta");
      if (body.corrected) {
        metaNode.append("Showing results for ", el("strong", null, body.corrected), " \u00b7 ");
      }
      metaNode.append(plural(body.total || results.length, "article", "articles"));
      var items = results.map(function (r) { return resultItem(r, body.search_id); });
      if (body.total > results.length) items.push(moreItem(query, body.total));
      paint(metaNode, items);
    }

    function resultItem(r, searchId) {
      var item = el("li", "md-search-result__item");
      var link = el("a", "md-search-result__link");
      link.href = articleHref(r);
      link.tabIndex = -1;     // like Material's: arrow keys move between results
      link.setAttribute("data-kb-article-id", String(r.id));
      link.setAttribute("data-kb-search-id", searchId || "");
      var article = el("article", "md-search-result__article md-typeset kb-hit");
      article.setAttribute("data-md-score", String(Number(r.score) || 0));
      article.append(el("div", "md-search-result__icon md-icon"), el("h1", null, r.title));
      var snippet = el("p", "kb-hit__snippet");
      snippet.appendChild(snippetFragment(r.snippet));
      var tags = el("nav", "md-tags");
      tags.appendChild(el("span", "md-tag", r.category_title || r.category));
      article.append(snippet, tags);
      link.appendChild(article);
      item.appendChild(link);
      return item;
    }

    function moreItem(query, total) {
      var item = el("li", "md-search-result__item kb-more");
      var link = el("a", "md-search-result__link", "See all " + total + " results");
      link.href = resultsUrl(query);
      link.tabIndex = -1;
      item.appendChild(link);
      return item;
    }

    /* Nothing found: say so plainly, and show how to reach a person right away. */
    function showNothingFound(query, body) {
      var metaNode = el("span", "kb-meta", "We couldn\u2019t find an answer for " + quoted(query) + ".");
      var item = el("li", "md-search-result__item kb-none");
      var box = el("div", "md-search-result__article md-typeset");
      var tip = "Try other words";
      if (body && body.corrected) tip += " (we also looked for " + quoted(body.corrected) + ")";
      box.appendChild(el("p", null, tip + ", or ask us:"));
      var facts = contactFacts();
      if (facts && facts.status) box.appendChild(el("p", "kb-none__status", facts.status));
      var ways = el("ul", "kb-none__ways");
      [facts && facts.phone, facts && facts.email].forEach(function (channel, i) {
        if (!channel) return;
        var li = el("li");
        var link = el("a", null, (i === 0 ? "Call " : "Email ") + channel.value);
        link.href = channel.href;
        li.append(link, el("small", null, channel.promise));
        ways.appendChild(li);
      });
      if (ways.childNodes.length) box.appendChild(ways);
      var all = el("a", "kb-none__all", "All ways to contact us, and our opening hours");
      all.href = resultsUrl(query);
      box.appendChild(el("p")).appendChild(all);
      item.appendChild(box);
      paint(metaNode, [item]);
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(run, DEBOUNCE_MS);
    }

    function run() {
      clearTimeout(timer);
      var query = normalise(input.value);
      if (query === asked) return;
      if (controller) controller.abort();
      controller = null;
      if (!query) {
        showPlaceholder();
        return;
      }
      asked = query;
      var mine = controller = new AbortController();
      search(query, DROPDOWN_LIMIT, mine.signal).then(function (body) {
        if (controller !== mine) return;
        controller = null;
        showResults(query, body);
      }, function () {
        if (controller !== mine || mine.signal.aborted) return;
        controller = null;
        stepAside();
      });
    }

    /* The service failed: Material's own search answers from now on. */
    function stepAside() {
      owned = false;
      asked = null;
      painted = null;
      serviceFailed();
      meta.removeAttribute("aria-live");
      document.documentElement.classList.remove("kb-search-service");
      input.dispatchEvent(new KeyboardEvent("keyup"));   // Material reads the box again
    }

    function takeOver() {
      if (owned) return;
      owned = true;
      asked = null;
      meta.setAttribute("aria-live", "polite");
      document.documentElement.classList.add("kb-search-service");
      if (normalise(input.value)) {
        run();
      } else {
        showPlaceholder();
      }
    }

    /* Capture phase at the window: runs before any listener on the input itself. */
    function intercept(event) {
      if (!owned || event.target !== input) return;
      event.stopPropagation();
      if (event.type === "input" || normalise(input.value) !== asked) schedule();
    }

    /* Enter goes to the results page (Material would open its best result). */
    function onKeydown(event) {
      if (!owned || event.target !== input || event.key !== "Enter" || event.isComposing) return;
      event.preventDefault();
      event.stopPropagation();
      var query = normalise(input.value);
      if (!query) return;
      closeOverlay();
      goToResults(query);
    }

    function closeOverlay() {
      if (toggle && toggle.checked) toggle.click();
      input.blur();
    }

    window.addEventListener("input", intercept, true);
    window.addEventListener("keyup", intercept, true);
    window.addEventListener("keydown", onKeydown, true);
    if (input.form) {
      input.form.addEventListener("reset", function () {
        if (owned) setTimeout(run, 0);   // after the browser has emptied the box
      });
    }
    guard.observe(result, { childList: true, subtree: true, characterData: true });
    if (suggest) guard.observe(suggest, { childList: true, characterData: true, subtree: true });

    return {
      takeOver: takeOver,
      closeOverlay: closeOverlay,
      get owned() { return owned; }
    };
  }

  /* ------------------------------------------------------------------ results page */

  var page = null;

  function goToResults(query) {
    if (page && onResultsPage()) {
      page.load(query, true);
    } else {
      navigate(resultsUrl(query));
    }
  }

  function ResultsPage(root) {
    var form = root.querySelector(".kb-search-form");
    var input = form.querySelector("input[name=q]");
    var meta = root.querySelector(".kb-search-page__meta");
    var list = root.querySelector(".kb-search-page__results");
    var none = root.querySelector(".kb-search-page__none");
    var offline = root.querySelector(".kb-search-page__offline");
    var handOver = root.querySelector(".kb-search-page__material");
    var baseTitle = document.title;
    var controller = null;
    var current = null;

    function show(part) {
      [list, none, offline].forEach(function (node) { node.hidden = node !== part; });
    }

    function load(query, push) {
      query = normalise(query || "");
      input.value = query;
      if (push) history.pushState(null, "", resultsUrl(query));
      if (query === current) return;
      current = query;
      document.title = query ? quoted(query) + " \u2013 " + baseTitle : baseTitle;
      if (controller) controller.abort();
      controller = null;
      if (!query) {
        meta.textContent = "";
        show(null);
        return;
      }
      meta.textContent = "Searching\u2026";
      list.setAttribute("aria-busy", "true");
      var mine = controller = new AbortController();
      serviceIsUp().then(function (up) {
        if (!up) throw new Error("service down");
        return search(query, PAGE_LIMIT, mine.signal);
      }).then(function (body) {
        if (controller !== mine) return;
        list.removeAttribute("aria-busy");
        render(query, body);
      }, function () {
        if (controller !== mine || mine.signal.aborted) return;
        list.removeAttribute("aria-busy");
        showOffline(query);
      });
    }

    function render(query, body) {
      var results = body.results.filter(articleHref);
      if (!results.length) {
        meta.textContent = "We couldn\u2019t find an answer for " + quoted(query) + ".";
        var tried = none.querySelector(".kb-search-page__tried");
        tried.textContent = body.corrected ? "We also looked for " + quoted(body.corrected) + "." : "";
        tried.hidden = !body.corrected;
        show(none);
        return;
      }
      var count = plural(body.total || results.length, "article", "articles");
      meta.replaceChildren();
      if (body.corrected) {
        meta.append("Showing results for ", el("strong", null, body.corrected), " \u00b7 " + count);
      } else {
        meta.append(count + " for ", el("strong", null, query));
      }
      list.replaceChildren.apply(list, results.map(function (r) {
        return resultCard(r, body.search_id);
      }));
      show(list);
    }

    function resultCard(r, searchId) {
      var item = el("li", "kb-result");
      var title = el("h2", "kb-result__title");
      var link = el("a", "kb-result__link", r.title);
      link.href = articleHref(r);
      link.setAttribute("data-kb-article-id", String(r.id));
      link.setAttribute("data-kb-search-id", searchId || "");
      title.appendChild(link);
      var snippet = el("p", "kb-result__snippet");
      snippet.appendChild(snippetFragment(r.snippet));
      item.append(el("p", "kb-result__category", r.category_title || r.category), title, snippet);
      return item;
    }

    /* No service: Material's search box still works; offer it with this query. */
    function showOffline(query) {
      meta.textContent = "";
      handOver.hidden = !query || !document.querySelector("[data-md-component=search-query]");
      handOver.textContent = "Search for " + quoted(query);
      show(offline);
    }

    handOver.addEventListener("click", function () {
      var box = document.querySelector("[data-md-component=search-query]");
      var toggle = document.querySelector("[data-md-toggle=search]");
      box.value = current;
      if (toggle && !toggle.checked) toggle.click();
      box.focus();
      box.dispatchEvent(new KeyboardEvent("keyup"));
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (header) header.closeOverlay();
      load(input.value, true);
    });

    return { root: root, load: load };
  }

  /* Material opens its search overlay by itself when the URL has ?q=: on the results page the
     results are the answer, so close it, and keep ?q= in the address (Material drops it when
     its overlay closes) so the page stays shareable. The page's own form holds the query; the
     header box starts empty (else it would search, and be logged, a second time). */
  function keepResultsPageVisible() {
    var toggle = document.querySelector("[data-md-toggle=search]");
    var box = document.querySelector("[data-md-component=search-query]");
    if (!toggle || !toggle.checked) return;
    var href = location.href;
    toggle.click();
    if (location.href !== href) history.replaceState(history.state, "", href);
    if (box) {
      box.value = "";
      if (document.activeElement === box) box.blur();
    }
  }

  /* Back and forward between searches on the results page (Material's instant navigation does
     not reload a page whose path did not change). */
  window.addEventListener("popstate", function () {
    if (page && onResultsPage() && document.contains(page.root)) {
      page.load(new URL(location.href).searchParams.get("q"), false);
    }
  });

  /* Search forms that lead to the results page (the home page's) stay on it without a reload. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !form.q) return;
    if (new URL(form.action, location.href).pathname !== resultsPage.pathname) return;
    var query = normalise(form.q.value);
    if (!query) return;
    event.preventDefault();
    goToResults(query);
  });

  /* ------------------------------------------------------------------ start */

  function setUpPage() {
    retryIfDue();
    var root = document.querySelector(".kb-search-page");
    page = root ? ResultsPage(root) : null;
    if (page) {
      keepResultsPageVisible();
      page.load(new URL(location.href).searchParams.get("q"), false);
    }
    if (header && !header.owned) {
      serviceIsUp().then(function (up) { if (up) header.takeOver(); });
    }
  }

  var input = document.querySelector("[data-md-component=search-query]");
  var result = document.querySelector("[data-md-component=search-result]");
  if (input && result) header = HeaderSearch(input, result);

  if (window.document$) {
    window.document$.subscribe(setUpPage);
  } else {
    document.addEventListener("DOMContentLoaded", setUpPage);
  }
})();
