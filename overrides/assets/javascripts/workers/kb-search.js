/* Material's search worker, loaded only when a customer's search needs it.

   Material starts its worker and fetches search_index.json (96 KB) on every page. While the
   search service answers, its lunr search never runs: the service answers the header's box
   (search-header.js). So hooks/offline_search.py gives Material this worker instead, and keeps
   Material from fetching the index itself. This worker tells Material it is ready at once, and
   on the first real query (the service did not answer, or failed and search-header.js stepped
   aside) loads Material's own worker (?worker=, beside this file, so its lunr language files
   resolve as Material expects) and the index, then answers the last query asked meanwhile.
   Messages (Material's): 0 set up, 1 ready, 2 query, 3 result. */
"use strict";

var params = new URL(location.href).searchParams;
var INDEX = new URL("../../../search/search_index.json", location.href).href;
var loading = null;   // the index is on its way
var loaded = false;   // Material's worker has it and answers queries itself
var waiting = null;   // the last query asked while loading

function answerNone() {
  postMessage({ type: 3, data: { items: [] } });
}

function load() {
  var post = self.postMessage.bind(self);
  /* Material already had our "ready"; its worker's own comes when the index is built. */
  self.postMessage = function (message) {
    if (message && message.type === 1) {
      if (waiting !== null) self.dispatchEvent(new MessageEvent("message", { data: waiting }));
      waiting = null;
      return;
    }
    post(message);
  };
  return fetch(INDEX).then(function (response) {
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }).then(function (index) {
    // Only Material's own worker, beside this file: never a script named by whoever wrote the URL.
    var worker = params.get("worker") || "";
    if (!/^search\.[0-9a-f]{8}\.min\.js$/.test(worker)) throw new Error("not Material's worker");
    importScripts(worker);
    loaded = true;
    self.dispatchEvent(new MessageEvent("message", { data: {
      type: 0,
      data: { config: index.config, docs: index.docs,
        options: { suggest: params.get("suggest") === "1" } }
    } }));
  }).catch(function () {
    self.postMessage = post;
    loading = null;   // tried again on the next query
    waiting = null;
    answerNone();
  });
}

addEventListener("message", function (event) {
  if (loaded) return;   // Material's worker has its own listener now
  var message = event.data || {};
  if (message.type !== 2) return;
  if (!String(message.data || "").trim()) {
    answerNone();       // what Material asks on start-up: nothing typed, nothing to load
    return;
  }
  waiting = message;
  if (!loading) loading = load();
});

postMessage({ type: 1 });
