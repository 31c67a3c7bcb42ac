// Runs Material for MkDocs' own search worker under Node, so `kb eval --baseline lunr` measures
// the built-in search exactly as customers get it. Input on stdin: {worker, index, queries}.
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const sandbox = { console: { warn() {}, log() {}, error() {} }, setTimeout, clearTimeout, Promise };
let onMessage;
let reply;
sandbox.self = sandbox;
sandbox.addEventListener = (type, fn) => { onMessage = fn; };
sandbox.postMessage = (message) => reply(message);
// A language other than English loads lunr's stemmer for it, from "../lunr" beside the worker.
sandbox.importScripts = (...urls) => {
  for (const url of urls) {
    const file = path.resolve(path.dirname(input.worker), url);
    vm.runInContext(fs.readFileSync(file, "utf8"), sandbox);
  }
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(input.worker, "utf8"), sandbox);
const send = (data) => new Promise((resolve) => { reply = resolve; onMessage({ data }); });
(async () => {
  // Parsed inside the worker's own realm: lunr checks `instanceof` on what it is given.
  sandbox.rawIndex = fs.readFileSync(input.index, "utf8");
  const index = vm.runInContext("JSON.parse(rawIndex)", sandbox);
  index.options = { suggest: true }; // as the site's bundle sets it with search.suggest on
  await send({ type: 0, data: index });
  const results = [];
  for (const query of input.queries) {
    const answer = await send({ type: 2, data: query });
    // Each group is one page (its sections first when they matched): keep page URLs, best first.
    results.push(answer.data.items.map((group) => group[0].location.split("#")[0]));
  }
  process.stdout.write(JSON.stringify(results));
})();
