/* Search as you type in Material's header search box, answered by the search service.

   At start-up we ask the service's /healthz. If it answers, we take over Material's box: its
   input/keyup events are stopped in the capture phase (Material's own handlers never see them)
   and our results (search-dropdown.js) go into Material's result container, so it looks native
   and Material's arrow-key navigation keeps working. If the service does not answer, or a
   search fails, we step aside and Material's built-in (lunr) search answers.

   Logging (asYouType in search-core.js): keystroke pauses search with typing=1, not logged.
   The query is settled, and logged once, after SETTLE_MS without a keystroke, or when a result
   is opened before that (the result waits, at most OPEN_WAIT_MS, for the search_id its click
   is logged against). Enter goes to the results page, which logs the query itself.
   Needs search-core.js and search-dropdown.js first. */
(function () {
  "use strict";

  var s = window.kb && window.kb.search;
  if (!s || !s.dropdown) return;

  function HeaderSearch(input, result) {
    var meta = result.querySelector(".md-search-result__meta");
    var list = result.querySelector(".md-search-result__list");
    var suggest = document.querySelector("[data-md-component=search-suggest]");
    var toggle = document.querySelector("[data-md-toggle=search]");
    var component = document.querySelector("[data-md-component=search]") || input.form;
    var owned = false;
    var asked = null;        // the query last sent (or shown)
    var painted = null;      // the nodes we rendered: { meta: Node, items: [Node] }
    var focused = null;      // the result the customer last moved to (arrow keys)
    var typing = s.asYouType(input, {
      run: run,
      paint: paint,
      failed: stepAside,
      shown: function () { return painted; },
      active: function () { return owned; },
      /* Opening a result in this page: close the search as Material does. */
      leaving: function () {
        asked = null;              // searched again when the box is next opened
        paint(s.dropdown.searching());
        s.closeOverlay();
      }
    });

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

    function run() {
      var query = s.normalise(input.value);
      if (query === asked) return;
      if (!query) {
        typing.stopTyping();
        showPlaceholder();
        return;
      }
      asked = query;
      typing.request(query);
    }

    /* The service failed: Material's own search answers from now on. */
    function stepAside() {
      typing.cancel();
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
        typing.runNow();
        typing.settleLater();
      } else {
        showPlaceholder();
      }
    }

    /* Capture phase at the window: runs before any listener on the input itself. */
    function intercept(event) {
      if (!owned || event.target !== input) return;
      event.stopPropagation();
      if (event.type === "keyup" && event.key === "Enter") return;   // see onKeydown
      if (event.type === "input" || s.normalise(input.value) !== asked) typing.schedule();
    }

    /* Enter goes to the results page (Material would open its best result), which logs it. */
    function onKeydown(event) {
      if (!owned || event.target !== input || event.key !== "Enter" || event.isComposing) return;
      event.preventDefault();
      event.stopPropagation();
      var query = s.normalise(input.value);
      if (!query) return;
      typing.cancel();   // the results page searches it: no second search from here
      asked = null;      // so the box searches again when it is next opened
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
      typing.settleAhead(event);
    }, true);
    result.addEventListener("pointerdown", typing.settleAhead);
    input.addEventListener("focus", function () {
      if (!owned) return;
      if (s.normalise(input.value) !== asked) typing.schedule();
      setTimeout(function () {   // after a click on the header's label has toggled it itself
        if (toggle && !toggle.checked && document.activeElement === input) toggle.click();
      }, 1);
    });
    window.addEventListener("input", intercept, true);
    window.addEventListener("keyup", intercept, true);
    window.addEventListener("keydown", onKeydown, true);
    /* Bubble phase on the results: before Material's "close on click" and instant navigation. */
    result.addEventListener("click", typing.openResult);
    result.addEventListener("auxclick", typing.openResult);
    if (input.form) {
      input.form.addEventListener("reset", function () {
        if (owned) setTimeout(typing.runNow, 0);   // after the browser has emptied the box
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
