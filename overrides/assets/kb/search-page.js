/* Search: the results page, search/?q=... (overrides/search.html), a shareable address for a
   search. Filled from the search service; without it, it points to Material's own search.
   Its query is logged once when it loads (search-core.js settle: not again if it is the query
   this tab logged last, e.g. settled in the header just before Enter). A corrected search
   offers "Search instead for" the words as typed: search/?q=...&exact=1, a search of its own.
   Its words: kb.t (kb-strings). Needs search-core.js first. */
(function () {
  "use strict";

  var kb = window.kb;
  var s = kb && kb.search;
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
      meta.textContent = kb.t("searching");
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
      var elsewhere = body.elsewhere && body.elsewhere.results.filter(s.articleHref);
      if (!results.length && elsewhere && elsewhere.length) {
        /* Nothing in this language: the first language's articles, marked as in it. */
        var language = s.languageName(body.elsewhere.lang);
        meta.textContent = kb.t("in_other_language", { query: s.quoted(query), language: language });
        list.replaceChildren.apply(list, elsewhere.map(function (r, i) {
          var card = resultCard(r, body.search_id, body.elsewhere.lang, i + 1);
          card.setAttribute("lang", body.elsewhere.lang);
          return card;
        }));
        show(list);
        return;
      }
      if (!results.length) {
        meta.textContent = kb.t("no_answer_for", { query: s.quoted(query) });
        var tried = none.querySelector(".kb-search-page__tried");
        tried.textContent = body.corrected
          ? kb.t("also_looked_for", { corrected: s.quoted(body.corrected) }) : "";
        tried.hidden = !body.corrected;
        show(none);
        return;
      }
      var total = Math.max(body.total || 0, results.length);
      var count = s.plural(total, "articles");
      meta.replaceChildren();
      if (body.corrected) {
        meta.append.apply(meta, kb.nodes("showing_results_for",
          { corrected: el("strong", null, body.corrected) }));
        meta.append(" \u00b7 " + count, el("br"));
        meta.append.apply(meta, kb.nodes("search_instead_for", { query: insteadLink(query) }));
      } else {
        meta.append.apply(meta, kb.nodes("results_for",
          { count: count, query: el("strong", null, query) }));
      }
      if (total > results.length) {
        meta.append(" \u00b7 " + kb.t("showing_the_best", { count: results.length }));
      }
      list.replaceChildren.apply(list, results.map(function (r, i) {
        return resultCard(r, body.search_id, null, i + 1);
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

    function resultCard(r, searchId, lang, position) {
      var item = el("li", "kb-result");
      var title = el("h2", "kb-result__title");
      var link = el("a", "kb-result__link", r.title);
      link.href = s.articleHref(r);
      link.setAttribute("data-kb-article-id", String(r.id));
      link.setAttribute("data-kb-position", String(position));
      link.setAttribute("data-kb-search-id", searchId || "");
      if (lang) {
        link.hreflang = lang;
        link.setAttribute("data-kb-lang", lang);
      }
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
      handOver.textContent = kb.t("search_for", { query: s.quoted(query) });
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

  /* The language menu on the results page keeps the search: the same words, in the other
     language's results page. */
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element && event.target.closest("a.md-select__link[hreflang]");
    if (!link || !document.querySelector(".kb-search-page") || !location.search) return;
    var target = new URL(link.href);
    target.search = location.search;
    link.href = target.href;
  }, true);
})();
