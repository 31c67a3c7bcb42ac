/* Search: what the header's dropdown shows. Builds the nodes (Material's own result classes, so
   it looks native and Material's arrow keys work): results, "See more results", "Search instead
   for" the words as typed when they were corrected, and when nothing is found, how to reach a
   person. Putting them on screen is search-header.js's job. Its words: kb.t (kb-strings).
   Defines window.kb.search.dropdown. Needs search-core.js first. */
(function () {
  "use strict";

  var kb = window.kb;
  var s = kb && kb.search;
  if (!s) return;
  var el = s.el;

  /* The service's answer as { meta: Node, items: [Node] }. `searchId`: null while the query is
     not settled (stamped later, see stamp). */
  function answer(query, body, searchId) {
    var results = body.results.filter(s.articleHref);
    if (!results.length) return nothingFound(query, body);
    var meta = el("span", "kb-meta");
    if (body.corrected) {
      meta.append.apply(meta, kb.nodes("showing_results_for",
        { corrected: el("strong", null, body.corrected) }));
      meta.append(" \u00b7 ");
    }
    meta.append(s.plural(body.total || results.length, "articles"));
    if (body.corrected) {
      meta.append(el("br"));
      meta.append.apply(meta, kb.nodes("search_instead_for", { query: insteadLink(query) }));
    }
    var items = results.map(function (r, i) { return resultItem(r, query, searchId, i + 1); });
    if (body.total > results.length) items.push(moreItem(query));
    return { meta: meta, items: items };
  }

  /* The customer's words as typed, without correction: a real link to that search on the
     results page (logged there as a search of its own). */
  function insteadLink(query) {
    return s.insteadLink(query, "kb-instead", function () {
      s.closeOverlay();
      s.goToResults(query, true);
    });
  }

  function message(text) {
    return { meta: el("span", "kb-meta", text), items: [] };
  }

  function placeholder() {
    return message(s.translation("search.result.placeholder", "Type to start searching"));
  }

  function searching() {
    return message(kb.t("searching"));
  }

  /* The settled query's search_id on its result links built before it was known. */
  function stamp(items, query, searchId) {
    items.forEach(function (item) {
      var link = item.querySelector("a[data-kb-article-id]");
      if (link && link.getAttribute("data-kb-query") === query) {
        link.setAttribute("data-kb-search-id", searchId);
      }
    });
  }

  /* A result link knows its article, the query it answers and, once settled, its search. */
  function resultItem(r, query, searchId, position) {
    var item = el("li", "md-search-result__item");
    var link = el("a", "md-search-result__link");
    link.href = s.articleHref(r);
    link.tabIndex = -1;     // like Material's: arrow keys move between results
    link.setAttribute("data-kb-article-id", String(r.id));
    link.setAttribute("data-kb-position", String(position));
    link.setAttribute("data-kb-query", query);
    link.setAttribute("data-kb-search-id", searchId || "");
    var article = el("article", "md-search-result__article md-typeset kb-hit");
    article.setAttribute("data-md-score", String(Number(r.score) || 0));
    article.append(el("div", "md-search-result__icon md-icon"), el("h1", null, r.title));
    var snippet = el("p", "kb-hit__snippet");
    snippet.appendChild(s.snippetFragment(r.snippet));
    var tags = el("div", "md-tags");   // not a <nav>: one landmark per hit, each unnamed
    tags.appendChild(el("span", "md-tag", r.category_title || r.category));
    article.append(snippet, tags);
    link.appendChild(article);
    item.appendChild(link);
    return item;
  }

  function moreItem(query) {
    var item = el("li", "md-search-result__item kb-more");
    var link = el("a", "md-search-result__link", kb.t("see_more_results"));
    link.href = s.resultsUrl(query);
    link.tabIndex = -1;
    item.appendChild(link);
    return item;
  }

  /* Nothing found: say so plainly, and show how to reach a person right away. */
  function nothingFound(query, body) {
    var meta = el("span", "kb-meta kb-meta--none",
      kb.t("no_answer_for", { query: s.quoted(query) }));
    var item = el("li", "md-search-result__item kb-none");
    var box = el("div", "md-search-result__article md-typeset");
    var tip = body && body.corrected
      ? kb.t("try_other_words_corrected", { corrected: s.quoted(body.corrected) })
      : kb.t("try_other_words");
    box.appendChild(el("p", null, tip));
    var facts = contactFacts();
    if (facts && facts.status) box.appendChild(el("p", "kb-none__status", facts.status));
    var ways = el("ul", "kb-none__ways");
    [facts && facts.phone, facts && facts.email].forEach(function (channel, i) {
      if (!channel) return;
      var li = el("li");
      var link = el("a", null, i === 0 ? kb.t("call", { number: channel.value })
        : kb.t("email", { address: channel.value }));
      link.href = channel.href;
      li.append(link, el("small", null, channel.promise));
      ways.appendChild(li);
    });
    if (ways.childNodes.length) box.appendChild(ways);
    var all = el("a", "kb-none__all", kb.t("all_ways_to_contact"));
    all.href = s.resultsUrl(query);
    box.appendChild(el("p")).appendChild(all);
    item.appendChild(box);
    return { meta: meta, items: [item] };
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

  s.dropdown = {
    answer: answer,
    placeholder: placeholder,
    searching: searching,
    stamp: stamp
  };
})();
