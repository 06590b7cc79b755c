// Draws 2D depictions for the results page with RDKit's JavaScript build
// (vendored, see api/ui/vendor.lock.json), off the page's thread. RDKit's
// bindings compile functions from strings (Emscripten's embind calls new
// Function), so this worker alone is served with a policy that allows
// eval and WebAssembly; the page's own policy allows neither.
// Message in: { id, smiles, width, height }; out: { id, svg } or
// { id, invalid: true } or { id, error }.
'use strict';

importScripts('vendor/RDKit_minimal.js?v=2026.9.1');

var ready = null;
function rdkit() {
  if (!ready) {
    // A failed start is forgotten, so the next depiction tries again.
    ready = self.initRDKitModule({ locateFile: function () { return 'vendor/RDKit_minimal.wasm?v=2026.9.1'; } })
      .catch(function (err) { ready = null; throw err; });
  }
  return ready;
}

self.onmessage = function (e) {
  var q = e.data;
  rdkit().then(function (RDKit) {
    var mol = null;
    try { mol = RDKit.get_mol(q.smiles); } catch (err) { mol = null; }
    if (!mol || !mol.is_valid()) {
      if (mol) mol.delete();
      self.postMessage({ id: q.id, invalid: true });
      return;
    }
    try {
      self.postMessage({ id: q.id, svg: mol.get_svg(q.width, q.height) });
    } finally {
      mol.delete();
    }
  }).catch(function (err) {
    self.postMessage({ id: q.id, error: String((err && err.message) || err) });
  });
};
