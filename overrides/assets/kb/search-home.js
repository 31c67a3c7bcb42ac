/* Search as you type in the home page's big search box (overrides/home.html, #kb-home-q).

   Only when the search service answers /healthz: then the results the header's dropdown shows
   (search-dropdown.js) appear under the box as the customer types. Without the service this
   script does nothing and the box is a plain form to the results page.

   Logging is the header's (asYouType in search-core.js): each pause while typing searches
   with typing=1 (not logged); the query is settled, and logged once, SETTLE_MS after the last
   keystroke, or when a result is opened before that (the result then waits, at most
   OPEN_WAIT_MS, for the search_id its click is logged against). Enter submits the form to the
   results page, which logs the query itself.

   Keyboard: arrow down moves from the box into the results (real links, so Enter, a middle
   click or "open in new tab" all work), up and down move between them, up from the first or
   Escape goes back to the box. How many results there are is announced (role=status).
   Needs search-core.js and search-dropdown.js first. */
(function () {
  "use strict";

  var s = window.kb && window.kb.search;
  if (!s || !s.dropdown) return;

  function HomeSearch(form) {
    var input = form.querySelector("#kb-home-q");
    var box = form.querySelector("#kb-home-results");
    var meta = box.querySelector(".kb-home-results__meta");
    var list = box.querySelector(".kb-home-results__list");
    var status = form.querySelector(".kb-home-status");
    var asked = null;       // the query last sent
    var painted = null;     // { meta, items } on screen
    var typing = s.asYouType(input, {
      run: run,
      paint: paint,
      failed: stepAside,
      shown: function () { return painted; },
      active: function () { return true; }
    });

    input.setAttribute("aria-describedby", "kb-home-hint");
    box.tabIndex = -1;   // a click inside the results keeps the focus (and them) in the form

    /* Fresher results may come while the customer is on one with the arrow keys: keep them on
       the same article (or, if it is gone, on the box), never on nothing. */
    function paint(view) {
      var focused = list.contains(document.activeElement) ? document.activeElement : null;
      var article = focused && focused.getAttribute("data-kb-article-id");
      painted = view;
      meta.replaceChildren(view.meta);
      list.replaceChildren.apply(list, view.items);
      status.textContent = view.meta.textContent;
      open(true);
      if (focused) {
        var same = article && list.querySelector('a[data-kb-article-id="' + article + '"]');
        (same || input).focus();
      }
    }

    function open(shown) {
      box.hidden = !shown || !painted;
    }

    function clear() {
      typing.cancel();
      asked = "";
      painted = null;
      status.textContent = "";
      open(false);
    }

    function run() {
      var query = s.normalise(input.value);
      if (query === asked) return open(true);
      if (!query) return clear();
      asked = query;
      typing.request(query);
    }

    /* The service failed: the form goes to the results page, as without it. */
    function stepAside() {
      clear();
      s.serviceFailed();
      input.removeAttribute("aria-describedby");
      input.removeEventListener("input", typing.schedule);
    }

    function links() {
      return Array.prototype.slice.call(box.querySelectorAll("a[href]"));
    }

    function onInputKey(event) {
      if (event.key === "ArrowDown" && !box.hidden && links().length) {
        event.preventDefault();
        links()[0].focus();
      } else if (event.key === "Escape" && !box.hidden) {
        event.preventDefault();
        open(false);
      }
    }

    function onResultsKey(event) {
      var all = links();
      var at = all.indexOf(document.activeElement);
      if (at < 0) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var next = at + (event.key === "ArrowDown" ? 1 : -1);
        if (next < 0) input.focus();
        else all[Math.min(next, all.length - 1)].focus();
      } else if (event.key === "Escape") {
        event.preventDefault();
        open(false);
        input.focus();
      }
    }

    input.addEventListener("input", typing.schedule);
    input.addEventListener("keydown", onInputKey);
    input.addEventListener("focus", function () { if (painted) open(true); });
    form.addEventListener("submit", function () {
      typing.cancel();   // the results page searches (and logs) it: nothing more from here
      asked = null;
      open(false);
    }, true);
    box.addEventListener("keydown", onResultsKey);
    box.addEventListener("focus", typing.settleAhead, true);
    box.addEventListener("pointerdown", typing.settleAhead);
    box.addEventListener("click", typing.openResult);
    box.addEventListener("auxclick", typing.openResult);
    /* Focus or a tap elsewhere closes the results; they come back when the box is focused. */
    form.addEventListener("focusout", function (event) {
      if (!form.contains(event.relatedTarget)) open(false);
    });
    if (s.normalise(input.value)) typing.schedule();   // typed before the service answered
  }

  s.onEachPage(function () {
    var form = document.querySelector(".kb-hero__search");
    if (!form || form.hasAttribute("data-kb-ready")) return;
    s.serviceIsUp().then(function (up) {
      if (!up || !document.contains(form) || form.hasAttribute("data-kb-ready")) return;
      form.setAttribute("data-kb-ready", "");
      HomeSearch(form);
    });
  });
})();
