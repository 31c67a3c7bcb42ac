/* Agent link picker: find an article for a customer's words, copy its link or a reply.
   Searches with the search service (typos, synonyms, as customers get it), marked
   source=agents so it never enters the customers' query log. The articles' permalinks,
   replies and sections come from agents/articles.json. Without the service (a static
   preview, or it fails) a local word filter over that file answers instead, dropping the
   edition's stop words (the form's data-stop-words). Its words: kb.t (kb-strings). */
(function () {
  "use strict";

  var SEARCH_TIMEOUT_MS = 4000;
  var LIMIT = 8;

  var kb = window.kb;
  var STOP_WORDS = {};

  /* The edition's stop words, as the search service drops them (accents folded as below). */
  function readStopWords(form) {
    STOP_WORDS = {};
    words(form.getAttribute("data-stop-words")).forEach(function (w) { STOP_WORDS[w] = true; });
  }

  function words(text) {
    return (text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .split(/[^a-z0-9]+/).filter(function (w) { return w && !STOP_WORDS[w]; });
  }

  /* A word counts when an article word starts with it (or the other way round for long words). */
  function hits(queryWords, text) {
    var mine = words(text);
    return queryWords.filter(function (q) {
      return mine.some(function (w) {
        return w.indexOf(q) === 0 || (q.length > 4 && q.indexOf(w) === 0 && w.length > 3);
      });
    }).length;
  }

  function score(article, queryWords) {
    var headings = article.sections.map(function (s) { return s.heading; }).join(" ");
    return 4 * hits(queryWords, article.title) + 3 * hits(queryWords, article.words) +
      2 * hits(queryWords, article.summary) + hits(queryWords, headings);
  }

  function copy(text, button) {
    function done() {
      var label = button.textContent;
      button.textContent = kb.t("agents_copied");
      setTimeout(function () { button.textContent = label; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
      return;
    }
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    document.body.removeChild(area);
    done();
  }

  function button(label, text) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "md-button";
    b.textContent = label;
    b.addEventListener("click", function () { copy(text, b); });
    return b;
  }

  /* The local filter: articles sharing the most words (by prefix) with the query. */
  function localSearch(articles, text) {
    var queryWords = words(text);
    return articles.map(function (a) { return { a: a, s: score(a, queryWords) }; })
      .filter(function (r) { return r.s > 0; })
      .sort(function (x, y) { return y.s - x.s || x.a.id - y.a.id; }).slice(0, LIMIT)
      .map(function (r) { return r.a; });
  }

  /* The search service's answer as { found: [article], corrected }, or a rejection. */
  function serviceSearch(byId, text, controller) {
    var path = "/api/search?q=" + encodeURIComponent(text) + "&limit=" + LIMIT +
      "&lang=" + encodeURIComponent(kb.language) + "&source=agents";
    return kb.search.getJSON(path, SEARCH_TIMEOUT_MS, controller.signal).then(function (body) {
      if (!body || body.ok !== true || !Array.isArray(body.results)) throw new Error("bad answer");
      var found = body.results.map(function (r) { return byId[String(r.id)]; })
        .filter(Boolean);   // an article this page's build does not have yet: left out
      return { found: found, corrected: body.corrected || null };
    });
  }

  function render(form, found, corrected, root) {
    var list = form.querySelector(".kb-agents__results");
    var status = form.querySelector(".kb-agents__status");
    list.textContent = "";
    var count = found.length ? kb.plural(found.length, "articles") : kb.t("agents_no_match");
    status.textContent = corrected
      ? kb.t("showing_results_for", { corrected: kb.quoted(corrected) }) + " \u00b7 " + count
      : count;
    found.forEach(function (a) {
      var link = new URL(a.permalink, root).href;
      var item = document.createElement("li");
      item.className = "kb-agents__item";
      var title = document.createElement("a");
      title.href = new URL(a.url, root).href;
      title.textContent = a.title;
      var meta = document.createElement("p");
      meta.className = "kb-agents__meta";
      meta.textContent = a.category + " · " + link;
      var reply = document.createElement("p");
      reply.className = "kb-agents__reply";
      reply.textContent = a.reply;
      var actions = document.createElement("div");
      actions.className = "kb-agents__actions";
      actions.appendChild(button(kb.t("agents_copy_link"), link));
      actions.appendChild(button(kb.t("agents_copy_reply"), a.reply + "\n\n" + link));
      item.append(title, meta, reply, actions);
      if (a.sections.length) {
        var sections = document.createElement("ul");
        sections.className = "kb-agents__sections";
        a.sections.forEach(function (s) {
          var li = document.createElement("li");
          var text = document.createElement("span");
          text.textContent = s.heading;
          li.append(text, button(kb.t("agents_copy_section_link"), link + "#" + s.anchor));
          sections.appendChild(li);
        });
        item.appendChild(sections);
      }
      list.appendChild(item);
    });
  }

  /* Does the search service answer? The same check the header's search makes. */
  function serviceIsUp() {
    var s = kb.search;
    return s ? s.serviceIsUp() : Promise.resolve(false);
  }

  function setUp() {
    var form = document.querySelector(".kb-agents");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    readStopWords(form);
    var root = new URL(form.getAttribute("data-site-root"), location.href);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    var articlesLoaded = fetch(new URL(form.getAttribute("data-articles"), location.href))
      .then(function (response) { return response.json(); });
    Promise.all([articlesLoaded, serviceIsUp()]).then(function (both) {
      var articles = both[0];
      var remote = both[1];
      var byId = {};
      articles.forEach(function (a) { byId[String(a.id)] = a; });
      var input = form.querySelector("input");
      var timer;
      var pending = null;

      function run() {
        var text = input.value.replace(/\s+/g, " ").trim().slice(0, 200);
        if (pending) pending.abort();
        pending = null;
        if (!text || (!remote && !words(text).length)) {
          form.querySelector(".kb-agents__results").textContent = "";
          form.querySelector(".kb-agents__status").textContent = "";
          return;
        }
        if (!remote) {
          render(form, localSearch(articles, text), null, root);
          return;
        }
        var mine = pending = new AbortController();
        serviceSearch(byId, text, mine).then(function (answer) {
          if (pending !== mine) return;
          pending = null;
          render(form, answer.found, answer.corrected, root);
        }, function () {
          if (pending !== mine) return;
          pending = null;
          remote = false;   // the service failed: the local filter answers from now on
          render(form, localSearch(articles, text), null, root);
        });
      }

      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(run, remote ? 200 : 100);
      });
      run();
      input.focus();
    });
  }

  if (window.document$) window.document$.subscribe(setUp);
  else document.addEventListener("DOMContentLoaded", setUp);
})();
