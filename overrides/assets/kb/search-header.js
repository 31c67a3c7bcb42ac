/* Search as you type in Material's header search box, answered by the search service.

   At start-up we ask the service's /healthz. If it answers, we take over Material's box: its
   input/keyup events are stopped in the capture phase (Material's own handlers never see them)
   and our results (search-dropdown.js) go into Material's result container, so it looks native
   and Material's arrow-key navigation keeps working. If the service does not answer, or a
   search fails, we step aside and Material's built-in (lunr) search answers.

   Logging (see search-core.js): keystroke pauses search with typing=1, not logged. The query
   is settled, and logged once, after SETTLE_MS without a keystroke, or when a result is opened
   before that (the result waits, at most OPEN_WAIT_MS, for the search_id its click is logged
   against). Enter goes to the results page, which logs the query itself.
   Needs search-core.js and search-dropdown.js first. */
(function () {
  "use strict";

  var s = window.kb && window.kb.search;
  if (!s || !s.dropdown) return;

  var DEBOUNCE_MS = 150;
  var SETTLE_MS = 1000;
  var OPEN_WAIT_MS = 1500;
  var DROPDOWN_LIMIT = 8;   // the same for typing and settled requests: one cache entry

  function HeaderSearch(input, result) {
    var meta = result.querySelector(".md-search-result__meta");
    var list = result.querySelector(".md-search-result__list");
    var suggest = document.querySelector("[data-md-component=search-suggest]");
    var toggle = document.querySelector("[data-md-toggle=search]");
    var component = document.querySelector("[data-md-component=search]") || input.form;
    var owned = false;
    var timer = 0;           // the next search as you type
    var settleTimer = 0;     // the query counts as settled when this fires
    var controller = null;
    var asked = null;        // the query last sent (or shown)
    var painted = null;      // the nodes we rendered: { meta: Node, items: [Node] }
    var focused = null;      // the result the customer last moved to (arrow keys)
    var opening = false;     // a result is waiting for its search_id before it opens

    /* Material renders into the same container when its own pipeline runs (when its index is
       ready, or on focus changes it still sees); while we own the box, put our rendering
       straight back, and the focus on the result it was on. */
    var guard = new MutationObserver(function () {
      if (!owned) return;
      if (suggest && suggest.textContent) suggest.textContent = "";
      if (!painted || isPainted()) return;
      var lostFocus = focused && !focused.isConnected;
      repaint();
      if (lostFocus && focused.isConnected) focused.focus();
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

    /* `view`: { meta, items } from search-dropdown.js. */
    function paint(view) {
      painted = view;
      repaint();
    }

    function showPlaceholder() {
      asked = "";
      paint(s.dropdown.placeholder());
    }

    /* A keystroke: search soon (typing=1), and settle unless another one follows. */
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(run, DEBOUNCE_MS);
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

    function run() {
      clearTimeout(timer);
      var query = s.normalise(input.value);
      if (query === asked) return;
      stopTyping();
      if (!query) {
        showPlaceholder();
        return;
      }
      asked = query;
      var mine = controller = new AbortController();
      s.search(query, DROPDOWN_LIMIT, true, mine.signal).then(function (body) {
        if (controller !== mine) return;
        controller = null;
        paint(s.dropdown.answer(query, body, s.loggedId(query)));
      }, function () {
        if (controller !== mine || mine.signal.aborted) return;
        controller = null;
        stepAside();
      });
    }

    /* No keystroke for SETTLE_MS: what is in the box is what the customer searched for. */
    function settleNow() {
      clearTimeout(settleTimer);
      var query = s.normalise(input.value);
      if (owned && query) settle(query).catch(function () { /* settled again on open */ });
    }

    /* Log `query` (once), and put its search_id on its results. Resolves to the search_id. */
    function settle(query) {
      return s.settle(query, DROPDOWN_LIMIT).then(function (settled) {
        if (painted) s.dropdown.stamp(painted.items, query, settled.searchId);
        return settled.searchId;
      });
    }

    /* The customer is about to open a result (pointer down on it, or the arrow keys on it):
       settle its query now, so the search_id is usually there by the time the click comes. */
    function settleAhead(event) {
      var link = event.target instanceof Element && event.target.closest("a[data-kb-query]");
      var query = link && link.getAttribute("data-kb-query");
      if (owned && query && !link.getAttribute("data-kb-search-id")) {
        settle(query).catch(function () { /* settled again on open */ });
      }
    }

    /* A result opened before its query (the one it answers) settled: settle it first, so the
       click is logged against that search. A new tab leaves this page here: log when the id
       comes. Otherwise this page is leaving: close the search as Material does, wait for the id
       (a cached answer, quick; at most OPEN_WAIT_MS), then go. */
    function openResult(event) {
      if (!owned || event.button !== (event.type === "auxclick" ? 1 : 0)) return;
      var link = event.target instanceof Element && event.target.closest("a[data-kb-article-id]");
      var query = link && link.getAttribute("data-kb-query");
      if (!query || link.getAttribute("data-kb-search-id")) return;
      var articleId = parseInt(link.getAttribute("data-kb-article-id"), 10);
      var newTab = event.type === "auxclick" || event.ctrlKey || event.metaKey || event.shiftKey ||
        event.altKey || link.target;
      if (newTab) {
        settle(query).then(function (searchId) {
          s.logOpened(searchId, articleId, false);
        }).catch(function () { /* logging must never get in the way */ });
        return;
      }
      event.preventDefault();
      event.stopPropagation();   // we open it ourselves, below
      if (opening) return;
      opening = true;
      var href = link.href;
      var logged = settle(query).then(function (searchId) {
        s.logOpened(searchId, articleId, true);
      });
      cancel();
      asked = null;              // searched again when the box is next opened
      paint(s.dropdown.searching());
      s.closeOverlay();
      var waited = new Promise(function (resolve) { setTimeout(resolve, OPEN_WAIT_MS); });
      function go() {
        opening = false;
        s.navigate(href);
      }
      Promise.race([logged, waited]).then(go, go);
    }

    /* The service failed: Material's own search answers from now on. */
    function stepAside() {
      cancel();
      owned = false;
      asked = null;
      painted = null;
      s.serviceFailed();
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
      if (s.normalise(input.value)) {
        paint(s.dropdown.searching());   // not Material's answer meanwhile
        run();
        settleLater();
      } else {
        showPlaceholder();
      }
    }

    /* Capture phase at the window: runs before any listener on the input itself. */
    function intercept(event) {
      if (!owned || event.target !== input) return;
      event.stopPropagation();
      if (event.type === "keyup" && event.key === "Enter") return;   // see onKeydown
      if (event.type === "input" || s.normalise(input.value) !== asked) schedule();
    }

    /* Enter goes to the results page (Material would open its best result), which logs it. */
    function onKeydown(event) {
      if (!owned || event.target !== input || event.key !== "Enter" || event.isComposing) return;
      event.preventDefault();
      event.stopPropagation();
      var query = s.normalise(input.value);
      if (!query) return;
      cancel();        // the results page searches it: no second search from here
      asked = null;    // so the box searches again when it is next opened
      s.closeOverlay();
      s.goToResults(query);
    }

    /* Material searches again whenever focus moves between its box and its results (it reads
       the box on focusin/focusout), and re-renders the list: a click whose mousedown moved the
       focus would then be lost. So those events stay inside the search while we own it, and we
       open the search on focus, as Material does. */
    function keepFocusEvents(event) {
      if (owned && component.contains(event.target)) event.stopPropagation();
    }
    window.addEventListener("focusin", keepFocusEvents, true);
    window.addEventListener("focusout", keepFocusEvents, true);
    result.addEventListener("focus", function (event) {
      focused = event.target;
      settleAhead(event);
    }, true);
    result.addEventListener("pointerdown", settleAhead);
    input.addEventListener("focus", function () {
      if (!owned) return;
      if (s.normalise(input.value) !== asked) schedule();
      setTimeout(function () {   // after a click on the header's label has toggled it itself
        if (toggle && !toggle.checked && document.activeElement === input) toggle.click();
      }, 1);
    });
    window.addEventListener("input", intercept, true);
    window.addEventListener("keyup", intercept, true);
    window.addEventListener("keydown", onKeydown, true);
    /* Bubble phase on the results: before Material's "close on click" and instant navigation. */
    result.addEventListener("click", openResult);
    result.addEventListener("auxclick", openResult);
    if (input.form) {
      input.form.addEventListener("reset", function () {
        if (owned) setTimeout(run, 0);   // after the browser has emptied the box
      });
    }
    guard.observe(result, { childList: true, subtree: true, characterData: true });
    if (suggest) guard.observe(suggest, { childList: true, characterData: true, subtree: true });

    return {
      takeOver: takeOver,
      get owned() { return owned; }
    };
  }

  var input = document.querySelector("[data-md-component=search-query]");
  var result = document.querySelector("[data-md-component=search-result]");
  if (!input || !result) return;
  var header = HeaderSearch(input, result);

  s.onEachPage(function () {
    if (!header.owned) s.serviceIsUp().then(function (up) { if (up) header.takeOver(); });
  });
})();
