/* Agent link picker: local search over agents/articles.json, copy link / copy reply.
   Works on any static host and never writes to the customers' search log. */
(function () {
  "use strict";

  var STOP = "a an and are as at be but by can do does for from get got has have i if in into is it its " +
    "me my no not of on or our so that the their them then there this to us was we will with you your";
  var STOP_WORDS = {};
  STOP.split(" ").forEach(function (w) { STOP_WORDS[w] = true; });

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
      button.textContent = "Copied";
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

  function render(form, articles, root) {
    var input = form.querySelector("input");
    var list = form.querySelector(".kb-agents__results");
    var status = form.querySelector(".kb-agents__status");
    var queryWords = words(input.value);
    list.textContent = "";
    if (!queryWords.length) { status.textContent = ""; return; }
    var ranked = articles.map(function (a) { return { a: a, s: score(a, queryWords) }; })
      .filter(function (r) { return r.s > 0; })
      .sort(function (x, y) { return y.s - x.s || x.a.id - y.a.id; }).slice(0, 8);
    status.textContent = ranked.length ? ranked.length + " articles" : "No article matches those words.";
    ranked.forEach(function (r) {
      var a = r.a;
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
      actions.appendChild(button("Copy link", link));
      actions.appendChild(button("Copy reply", a.reply + "\n\n" + link));
      item.append(title, meta, reply, actions);
      if (a.sections.length) {
        var sections = document.createElement("ul");
        sections.className = "kb-agents__sections";
        a.sections.forEach(function (s) {
          var li = document.createElement("li");
          var text = document.createElement("span");
          text.textContent = s.heading;
          li.append(text, button("Copy section link", link + "#" + s.anchor));
          sections.appendChild(li);
        });
        item.appendChild(sections);
      }
      list.appendChild(item);
    });
  }

  function setUp() {
    var form = document.querySelector(".kb-agents");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var root = new URL(form.getAttribute("data-site-root"), location.href);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    fetch(new URL(form.getAttribute("data-articles"), location.href)).then(function (response) {
      return response.json();
    }).then(function (articles) {
      var input = form.querySelector("input");
      var timer;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { render(form, articles, root); }, 100);
      });
      render(form, articles, root);
      input.focus();
    });
  }

  if (window.document$) window.document$.subscribe(setUp);
  else document.addEventListener("DOMContentLoaded", setUp);
})();
