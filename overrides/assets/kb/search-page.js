/* Search: the results page, search/?q=... (overrides/search.html), a shareable address for a
   search. Filled from the search service; without it, it points to Material's own search.
   Its query is logged once when it loads (search-core.js settle: not again if it is the query
   this tab logged last, e.g. settled in the header just before Enter). A corrected search
   offers "Search instead for" the words as typed: search/?q=...&exact=1, a search of its own.
   Needs search-core.js first. */
(function () {
  "use strict";

  var s = window.kb && window.kb.search;
  if (!s) return;
  var el = s.el;

  var PAGE_LIMIT = 20;

  /* Answers the results page has shown, so going back and forward shows them again without
     searching (and logging) again. */
  var answered = new Map();
  var ANSWERS_KEPT = 10;

  function answerKey(query, exact) {
    return (exact ? "exact:" : "") + query;
  }

  function remember(key, body) {
    answered.delete(key);
    answered.set(key, body);
    if (answered.size > ANSWERS_KEPT) answered.delete(answered.keys().next().value);
  }

  /* The logged search for `query` (once), with its answer. */
  function searchOnce(query, exact, signal) {
    return s.settle(query, PAGE_LIMIT, signal, exact).then(function (settled) {
      if (settled.body) return settled.body;
      return s.search(query, PAGE_LIMIT, true, signal, exact).then(function (body) {
        body.search_id = settled.searchId;   // already logged: its id, not a second row
        return body;
      });
    });
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
    var currentKey = null;

    function show(part) {
      [list, none, offline].forEach(function (node) { node.hidden = node !== part; });
    }

    /* `exact`: the words as typed, no typo correction ("Search instead for"). */
    function load(query, push, exact) {
      query = s.normalise(query);
      exact = !!exact && !!query;
      input.value = query;
      if (push && s.resultsUrl(query, exact) !== location.href) {
        history.pushState(null, "", s.resultsUrl(query, exact));
      }
      var key = answerKey(query, exact);
      if (key === currentKey) return;
      current = query;
      currentKey = key;
      document.title = query ? s.quoted(query) + " - " + baseTitle : baseTitle;
      if (controller) controller.abort();
      controller = null;
      if (!query) {
        meta.textContent = "";
        show(null);
        return;
      }
      if (answered.has(key)) {
        render(query, answered.get(key));
        return;
      }
      meta.textContent = "Searching\u2026";
      meta.classList.remove("kb-search-page__meta--none");
      list.setAttribute("aria-busy", "true");
      var mine = controller = new AbortController();
      s.serviceIsUp().then(function (up) {
        if (!up) throw new Error("service down");
        return searchOnce(query, exact, mine.signal);
      }).then(function (body) {
        if (controller !== mine) return;
        remember(key, body);
        render(query, body);
      }, function () {
        if (controller !== mine || mine.signal.aborted) return;
        list.removeAttribute("aria-busy");
        showOffline(query);
      });
    }

    function render(query, body) {
      list.removeAttribute("aria-busy");
      var results = body.results.filter(s.articleHref);
      meta.classList.toggle("kb-search-page__meta--none", !results.length);
      if (!results.length) {
        meta.textContent = "We couldn\u2019t find an answer for " + s.quoted(query) + ".";
        var tried = none.querySelector(".kb-search-page__tried");
        tried.textContent = body.corrected ? "We also looked for " + s.quoted(body.corrected) + "." : "";
        tried.hidden = !body.corrected;
        show(none);
        return;
      }
      var total = Math.max(body.total || 0, results.length);
      var count = s.plural(total, "article", "articles");
      meta.replaceChildren();
      if (body.corrected) {
        meta.append("Showing results for ", el("strong", null, body.corrected), " \u00b7 " + count,
          el("br"), "Search instead for ", insteadLink(query));
      } else {
        meta.append(count + " for ", el("strong", null, query));
      }
      if (total > results.length) meta.append(" \u00b7 showing the best " + results.length);
      list.replaceChildren.apply(list, results.map(function (r) {
        return resultCard(r, body.search_id);
      }));
      show(list);
    }

    /* A plain click searches the exact words here, without reloading the page. */
    function insteadLink(query) {
      return s.insteadLink(query, "kb-search-page__instead", function () {
        load(query, true, true);
        meta.focus();              // the link is gone; the new answer is read out from here
      });
    }

    function resultCard(r, searchId) {
      var item = el("li", "kb-result");
      var title = el("h2", "kb-result__title");
      var link = el("a", "kb-result__link", r.title);
      link.href = s.articleHref(r);
      link.setAttribute("data-kb-article-id", String(r.id));
      link.setAttribute("data-kb-search-id", searchId || "");
      title.appendChild(link);
      var snippet = el("p", "kb-result__snippet");
      snippet.appendChild(s.snippetFragment(r.snippet));
      item.append(el("p", "kb-result__category", r.category_title || r.category), title, snippet);
      return item;
    }

    /* No service: Material's search box still works; offer it with this query. */
    function showOffline(query) {
      meta.textContent = "";
      handOver.hidden = !query || !document.querySelector("[data-md-component=search-query]");
      handOver.textContent = "Search for " + s.quoted(query);
      show(offline);
    }

    show(null);   // the no-JavaScript text goes until we know whether the service answers
    meta.tabIndex = -1;

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
      s.closeOverlay();
      load(input.value, true);
    });

    return { root: root, load: load };
  }

  /* Material opens its search overlay by itself when the URL has ?q=: on the results page the
     results are the answer, so close it, and keep ?q= in the address (Material drops it when
     its overlay closes) so the page stays shareable. The page's own form holds the query; the
     header box starts empty (else it would search a second time). */
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
    var page = s.page;
    if (page && s.onResultsPage() && document.contains(page.root)) {
      page.load(new URL(location.href).searchParams.get("q"), false, exactInUrl());
    }
  });

  function exactInUrl() {
    return new URL(location.href).searchParams.get("exact") === "1";
  }

  /* Search forms that lead to the results page (the home page's) go there the way links do:
     with instant navigation when it is on. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !form.q) return;
    if (new URL(form.action, location.href).pathname !== s.resultsPage.pathname) return;
    var query = s.normalise(form.q.value);
    if (!query) return;
    event.preventDefault();
    s.goToResults(query);
  });

  s.onEachPage(function () {
    var root = document.querySelector(".kb-search-page");
    var page = root ? ResultsPage(root) : null;
    s.setPage(page);
    if (page) {
      keepResultsPageVisible();
      page.load(new URL(location.href).searchParams.get("q"), false, exactInUrl());
    }
  });
})();
