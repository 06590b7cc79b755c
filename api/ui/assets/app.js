// OMTX-Hub results page. Plain script, no build step; it uses only the
// public REST API (/api/v1), with the user's API key as a Bearer header.
// Addresses: #/ (jobs and batches), #/jobs/{job_id}, #/batches/{batch_id},
// #/new (a new screen: screen.js, given the helpers in `ui` below);
// "?key=…" after the route signs in and is then removed from the address.
(function () {
  'use strict';

  // CSV_COLUMNS are batch_results.csv's fixed columns, as the aggregator
  // writes them (aggregate/ranking csvHeader; api/ui_test.go checks the two
  // agree), and "error", the failure column's older name. Every other
  // column is one of the user's own.
  var CSV_COLUMNS = ['rank', 'batch_index', 'job_id', 'ligand_name', 'smiles', 'status',
    'affinity_probability_binary', 'predicted_binder',
    'affinity_pred_value_log10_ic50_um', 'pic50', 'delta_g_kcal_mol',
    'confidence', 'ligand_iptm', 'iptm', 'below_confidence_floor',
    'model', 'model_version', 'model_note',
    'structure_available', 'results_url', 'structure_url',
    'failure_reason', 'warnings',
    'modelled_smiles', 'msa_mode', 'msa_digest',
    'filter_rule', 'error'];

  var KEY = 'omtx.apiKey';
  var PAGE = 50;
  var POLL_MS = 3000;
  // The API lives where the page does, less the /ui suffix.
  var base = location.pathname.replace(/\/ui\/?$/, '');
  var main = document.getElementById('main');
  var announcer = document.getElementById('announce');
  var view = 0; // bumped on every navigation; stale work checks it
  var timers = [];
  var blobs = [];
  var watcher = null; // the IntersectionObserver of the view's depictions

  // ---------- small helpers ----------

  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') e.textContent = v;
        else if (k === 'on') Object.keys(v).forEach(function (ev) { e.addEventListener(ev, v[ev]); });
        else if (k === 'class') e.className = v;
        else e.setAttribute(k, v === true ? '' : v);
      });
    }
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  function append(parent, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(parent, c); }); return; }
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  function announce(msg) { announcer.textContent = ''; setTimeout(function () { announcer.textContent = msg; }, 30); }
  // proteinLine names a job's protein as its FASTA header (or target)
  // did, with its length: "CA2 (260 residues)", or "260 residues".
  function proteinLine(d) {
    var n = (d.protein_sequence || '').length + ' residues';
    return d.protein_name ? d.protein_name + ' (' + n + ')' : n;
  }

  // computeLine says where a result's model ran and what it cost: a run
  // on the CPU (gpu_class "cpu", the local stack's) has no GPU and no GPU
  // cost, so no GPU class or price is shown for it.
  function computeLine(r) {
    if (r.gpu_class === 'cpu') return 'CPU, no GPU cost';
    return (r.gpu_class || '—') + ' GPU, ' + num(r.gpu_seconds, 1) + ' GPU s, $' + num(r.cost_usd, 5);
  }

  function num(v, digits) {
    if (v === undefined || v === null || v === '' || isNaN(Number(v))) return '—';
    return Number(v).toFixed(digits);
  }
  function badge(status) { return el('span', { class: 'badge ' + status, 'data-status': status, text: status }); }
  function terminal(s) { return s === 'completed' || s === 'failed' || s === 'cancelled' || s === 'filtered'; }
  function later(fn, ms) { timers.push(setTimeout(fn, ms)); }
  function when(t) { return t ? new Date(t).toLocaleString() : '—'; }

  // ---------- key and address ----------

  function apiKey() { return sessionStorage.getItem(KEY) || ''; }

  function route() {
    var h = location.hash.replace(/^#/, '') || '/';
    var q = h.indexOf('?');
    return { path: q < 0 ? h : h.slice(0, q), params: new URLSearchParams(q < 0 ? '' : h.slice(q + 1)) };
  }

  // A ?key=… in the fragment signs in; it is then removed from the
  // address bar (and from history) at once.
  function takeKeyFromAddress() {
    var r = route();
    if (!r.params.has('key')) return;
    var k = r.params.get('key').trim();
    if (k) sessionStorage.setItem(KEY, k);
    r.params.delete('key');
    var rest = r.params.toString();
    history.replaceState(null, '', location.pathname + location.search + '#' + r.path + (rest ? '?' + rest : ''));
  }

  // ---------- API ----------

  function ApiError(status, body) {
    var e = (body && body.error) || {};
    this.status = status;
    this.code = e.code || 'http_' + status;
    this.message = e.message || ('HTTP ' + status);
    this.field = e.field || '';
    this.rows = e.rows || [];
    this.requestId = e.request_id || '';
  }

  function call(path, opts) {
    opts = opts || {};
    var headers = { Authorization: 'Bearer ' + apiKey() };
    if (!opts.raw) headers.Accept = 'application/json';
    Object.keys(opts.headers || {}).forEach(function (k) { headers[k] = opts.headers[k]; });
    // A body is sent as it is when it is a string or a form (the New
    // screen view builds its own); a plain object is sent as JSON.
    var init = { method: opts.method || 'GET', headers: headers, cache: 'no-store' };
    if (opts.body !== undefined) {
      init.body = opts.body;
      if (typeof opts.body !== 'string' && !(opts.body instanceof FormData)) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(opts.body);
      }
    }
    return fetch(base + path, init).then(function (resp) {
      if (!resp.ok) {
        return resp.json().catch(function () { return null; }).then(function (b) {
          var err = new ApiError(resp.status, b);
          if (resp.status === 401) { sessionStorage.removeItem(KEY); }
          throw err;
        });
      }
      if (opts.raw === 'blob') return resp.blob();
      if (opts.raw) return resp.text();
      return resp.json();
    });
  }

  function showError(container, err) {
    if (err instanceof ApiError && err.status === 401) { signIn('The API refused the key: ' + err.message); return; }
    var text = err instanceof ApiError
      ? err.message + (err.field ? ' (field ' + err.field + ')' : '') + (err.requestId ? ' [request ' + err.requestId + ']' : '')
      : 'Could not reach the API: ' + (err && err.message ? err.message : err);
    append(container, el('p', { class: 'error', role: 'alert', text: text }));
  }

  function download(path, name) {
    return call(path, { raw: 'blob' }).then(function (b) {
      var url = URL.createObjectURL(b);
      var a = el('a', { href: url, download: name });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }).catch(function (err) { showError(main, err); });
  }

  function fileButtons(prefix, names) {
    return el('div', { class: 'files' }, names.map(function (n) {
      return el('button', { type: 'button', 'data-file': n, on: { click: function () { download(prefix + n, n.replace(/^.*\//, '')); } } }, 'Download ' + n);
    }));
  }

  // ---------- views ----------

  function reset(title) {
    view++;
    timers.forEach(clearTimeout);
    timers = [];
    blobs.forEach(function (u) { URL.revokeObjectURL(u); });
    blobs = [];
    if (watcher) { watcher.disconnect(); watcher = null; }
    main.textContent = '';
    document.title = title + ' · OMTX-Hub';
    document.getElementById('signout').hidden = !apiKey();
    return view;
  }

  function signIn(message) {
    sessionStorage.removeItem(KEY);
    reset('Sign in');
    var input = el('input', { type: 'password', id: 'api-key', name: 'api-key', autocomplete: 'off', required: true, 'aria-describedby': 'key-help' });
    var form = el('form', { id: 'signin', on: { submit: function (e) {
      e.preventDefault();
      var k = input.value.trim();
      if (!k) return;
      sessionStorage.setItem(KEY, k);
      call('/api/v1/jobs?page_size=1').then(function () { announce('Signed in'); render(); }).catch(function (err) {
        signIn(err instanceof ApiError ? 'The API refused the key: ' + err.message : 'Could not reach the API.');
      });
    } } },
      el('h1', { text: 'Sign in' }),
      message ? el('p', { class: 'error', role: 'alert', text: message }) : null,
      el('p', null, el('label', { for: 'api-key', text: 'API key' })),
      el('p', null, input, ' ', el('button', { type: 'submit', class: 'primary', text: 'Sign in' })),
      el('p', { id: 'key-help', class: 'muted', text: 'The key stays in this browser tab (session storage) and is sent only to this API. make dev writes one to .omtx/dev-api-key.' }));
    append(main, form);
    input.focus();
  }

  function jobsList() {
    var me = reset('Jobs');
    var status = route().params.get('status') || '';
    var sel = el('select', { id: 'status-filter', on: { change: function () {
      location.hash = '#/' + (sel.value ? '?status=' + sel.value : '');
    } } }, ['', 'pending', 'queued', 'running', 'completed', 'failed', 'cancelled', 'filtered'].map(function (s) {
      return el('option', { value: s, selected: s === status, text: s || 'any' });
    }));
    var body = el('tbody');
    var more = el('button', { type: 'button', id: 'more', hidden: true, text: 'More' });
    append(main, [
      el('h1', { text: 'Jobs and batches' }),
      el('p', null, el('label', { for: 'status-filter', text: 'Status ' }), sel),
      el('table', { id: 'jobs' },
        el('caption', { class: 'sr-only', text: 'Your jobs and batches, newest first' }),
        el('thead', null, el('tr', null, ['Name', 'Kind', 'Status', 'Model', 'Ligands', 'Created'].map(function (c) { return el('th', { scope: 'col', text: c }); }))),
        body),
      more]);
    var token = '';
    function load() {
      var q = '?page_size=25' + (status ? '&status=' + status : '') + (token ? '&page_token=' + encodeURIComponent(token) : '');
      call('/api/v1/jobs' + q).then(function (page) {
        if (me !== view) return;
        page.jobs.forEach(function (j) {
          var batch = j.job_type === 'BATCH_PARENT';
          var href = batch ? '#/batches/' + j.job_id : '#/jobs/' + j.job_id;
          var name = (batch ? j.batch_name : j.input_data && j.input_data.ligand_name) || j.job_id;
          append(body, el('tr', null,
            el('td', null, el('a', { href: href, text: name })),
            el('td', { text: batch ? 'batch' : 'job' }),
            el('td', null, badge(j.status)),
            el('td', { text: j.model }),
            el('td', { class: 'num', text: batch && j.batch_config ? j.batch_config.total_ligands : 1 }),
            el('td', { text: when(j.created_at) })));
        });
        if (!body.children.length) append(body, el('tr', null, el('td', { colspan: 6, text: 'No jobs yet.' })));
        token = page.next_page_token || '';
        more.hidden = !token;
      }).catch(function (err) { showError(main, err); });
    }
    more.addEventListener('click', load);
    load();
  }

  // ---------- job view ----------

  function jobView(id) {
    var me = reset('Job ' + id);
    call('/api/v1/jobs/' + encodeURIComponent(id)).then(function (j) {
      if (me !== view) return;
      if (j.job_type === 'BATCH_PARENT') { location.replace('#/batches/' + id); return; }
      var r = j.results;
      var name = (j.input_data && j.input_data.ligand_name) || j.job_id;
      var target = readTarget(j.input_data.target_id);
      append(main, [
        j.batch_parent_id ? el('p', null, el('a', { href: '#/batches/' + j.batch_parent_id, text: '← Batch ' + j.batch_parent_id })) : null,
        el('h1', null, name, ' ', badge(j.status)),
        el('p', { class: 'muted' }, j.job_id, ' · created ', when(j.created_at)),
        modelBlock(j, r),
        warningsBlock(j.warnings, r && r.warnings),
        j.error ? el('p', { class: 'error', id: 'job-error', text: j.error }) : null,
        el('h2', { text: 'Input' }),
        el('dl', { class: 'facts' },
          el('dt', { text: 'Ligand SMILES' }), el('dd', { class: 'smiles', text: j.input_data.ligand_smiles }),
          el('dt', { text: 'Ligand (2D)' }), el('dd', null, depiction(j.input_data.ligand_smiles, 260, 180)),
          el('dt', { text: 'Protein' }), el('dd', { id: 'protein', text: proteinLine(j.input_data) })),
        targetBlock(me, j.input_data.target_id, target)
      ]);
      if (!terminal(j.status)) {
        append(main, el('p', { class: 'muted', id: 'waiting', text: 'This job is ' + j.status + '; the page refreshes when it ends.' }));
        later(function () { if (me === view) jobView(id); }, POLL_MS);
        return;
      }
      if (r) {
        var ic50 = Math.pow(10, r.affinity_pred_value);
        append(main, [
          el('h2', { text: 'Results' }),
          el('dl', { class: 'facts', id: 'results' },
            el('dt', { text: 'affinity_pred_value', title: QUANTITY.pred }), el('dd', { 'data-k': 'affinity_pred_value' }, num(r.affinity_pred_value, 3) + ' log10(IC50 / µM)', el('span', { class: 'muted', text: ' (IC50 ≈ ' + (ic50 < 0.01 ? ic50.toExponential(2) : ic50.toPrecision(3)) + ' µM)' })),
            el('dt', { text: 'pIC50', title: QUANTITY.pic50 }), el('dd', { 'data-k': 'pic50', text: num(r.pic50, 2) }),
            el('dt', { text: 'ΔG', title: QUANTITY.affinity }), el('dd', { 'data-k': 'delta_g_kcal_mol', text: num(r.delta_g_kcal_mol, 2) + ' kcal/mol' }),
            el('dt', { text: 'P(binder)', title: QUANTITY.prob }), el('dd', { 'data-k': 'affinity_probability_binary', text: num(r.affinity_probability_binary, 3) }),
            el('dt', { text: 'Confidence' }), el('dd', { 'data-k': 'confidence', text: num(r.confidence, 3) + ' (0–1)' }),
            el('dt', { text: 'Compute' }), el('dd', { id: 'compute', text: computeLine(r) })),
          el('h2', { text: 'Complex' })
        ]);
        structureBlock(me, j, r, target);
      }
      var files = ['input.json', 'results.json', 'logs.txt'];
      if (r && r.structure_available) files.push('structure.cif', 'structure.pdb');
      append(main, [el('h2', { text: 'Files' }), fileButtons('/api/v1/jobs/' + encodeURIComponent(id) + '/files/', files)]);
    }).catch(function (err) { if (me === view) showError(main, err); });
  }

  // targetBlock shows the target a job or batch runs on: its chains with
  // each protein chain's MSA mode, its cofactors, its constraints and the
  // screened ligand's chain. The target is read from its own route; a
  // deleted one is said to be so (the job ran on it as submitted).
  function targetBlock(me, targetId, target) {
    if (!targetId) return null;
    var box = el('section', { id: 'target', 'aria-label': 'Target' }, el('h2', { text: 'Target' }));
    (target || readTarget(targetId)).then(function (t) {
      if (me !== view) return;
      var parts = [];
      (t.chains || []).forEach(function (c) {
        var unit = c.type === 'protein' ? ' residues' : ' nucleotides';
        var msa = c.msa_mode ? ' · MSA: ' + (c.msa_mode === 'empty' ? 'none (single-sequence mode)' : c.msa_mode === 'file' ? 'uploaded' : 'server') : '';
        parts.push(el('li', { 'data-chain': c.ids.join(',') }, c.type + ' ' + c.ids.join(', ') + ' · ' + c.length + unit + msa));
      });
      (t.ligands || []).forEach(function (l) {
        parts.push(el('li', { 'data-cofactor': l.ccd || l.smiles }, 'cofactor ' + l.ids.join(', ') + ' · ' + (l.ccd ? 'CCD ' + l.ccd : l.smiles)));
      });
      (t.constraints || []).forEach(function (k, i) {
        parts.push(el('li', { 'data-constraint': k }, 'constraint ' + (i + 1) + ': ' + k));
      });
      (t.templates || []).forEach(function (n) { parts.push(el('li', null, 'template ' + n)); });
      parts.push(el('li', null, 'screened ligand: chain ' + t.ligand_chain));
      append(box, [
        el('p', { class: 'muted' }, (t.name ? t.name + ' · ' : '') + t.target_id + ' · ' + t.tokens + ' tokens without the ligand'),
        el('ul', { id: 'target-parts' }, parts)
      ]);
    }).catch(function (err) {
      if (me !== view) return;
      append(box, el('p', { class: 'muted', text: targetId + (err.status === 404 ? ': this target was deleted; the job ran on it as submitted.' : ': the target could not be read.') }));
    });
    return box;
  }

  // readTarget reads a job's target once for the target block and the 3D
  // view; a job without one resolves to null.
  function readTarget(targetId) {
    if (!targetId) return Promise.resolve(null);
    return call('/api/v1/targets/' + encodeURIComponent(targetId));
  }

  function modelBlock(j, r) {
    return el('div', { id: 'model' },
      el('p', null, 'Model served: ', el('strong', { id: 'model-served', text: j.model }),
        r ? el('span', { class: 'muted', text: ' (' + r.model_kind + ' ' + r.model_version + ')' }) : null,
        j.requested_model ? [' · requested: ', el('strong', { id: 'model-requested', text: j.requested_model })] : null),
      j.model_substitution ? el('p', { class: 'note', id: 'substitution', text: j.model_substitution }) : null);
  }

  function warningsBlock() {
    var all = [];
    Array.prototype.forEach.call(arguments, function (w) { (w || []).forEach(function (x) { if (all.indexOf(x) < 0) all.push(x); }); });
    if (!all.length) return null;
    return el('ul', { class: 'note', id: 'warnings', 'aria-label': 'Warnings' }, all.map(function (w) { return el('li', { text: w }); }));
  }

  var loading3Dmol = null;
  function load3Dmol() {
    if (window.$3Dmol) return Promise.resolve(window.$3Dmol);
    if (!loading3Dmol) {
      loading3Dmol = new Promise(function (resolve, reject) {
        var s = el('script', { src: 'ui/assets/vendor/3Dmol-min.js?v=2.5.5' });
        s.onload = function () { resolve(window.$3Dmol); };
        s.onerror = function () { loading3Dmol = null; reject(new Error('could not load the 3D viewer')); };
        document.head.appendChild(s);
      });
    }
    return loading3Dmol;
  }

  // RDKit's JavaScript build (vendored, see vendor.lock.json) draws the
  // 2D depictions in a worker (depict-worker.js), which has the policy
  // RDKit needs; its 7 MB WebAssembly loads once, on the first depiction
  // the page shows. depict resolves to an SVG string, or null for a SMILES
  // RDKit cannot read.
  var depicter = null;
  var depictions = {};
  var depictionId = 0;
  function depict(smiles, width, height) {
    if (!depicter) {
      depicter = new Worker('ui/assets/depict-worker.js');
      depicter.onmessage = function (e) {
        var d = depictions[e.data.id];
        delete depictions[e.data.id];
        if (!d) return;
        if (e.data.error) d.reject(new Error(e.data.error));
        else d.resolve(e.data.invalid ? null : e.data.svg);
      };
      depicter.onerror = function (e) {
        // The worker could not start (or RDKit not load): fail what waits,
        // and start afresh next time.
        Object.keys(depictions).forEach(function (id) { depictions[id].reject(new Error(e.message || 'RDKit did not load')); });
        depictions = {};
        depicter.terminate();
        depicter = null;
      };
    }
    var id = ++depictionId;
    return new Promise(function (resolve, reject) {
      depictions[id] = { resolve: resolve, reject: reject };
      depicter.postMessage({ id: id, smiles: smiles, width: width, height: height });
    });
  }

  // depiction returns a placeholder that is drawn as an SVG when it
  // scrolls into view, so a page of rows draws only what is seen.
  function depiction(smiles, width, height) {
    var box = el('span', { class: 'depiction', role: 'img', 'aria-label': '2D structure of ' + smiles, 'data-state': 'waiting',
      style: 'width:' + width + 'px;height:' + height + 'px' });
    box.dataset.smiles = smiles;
    box.dataset.size = width + 'x' + height;
    if (!('IntersectionObserver' in window)) { drawDepiction(box); return box; }
    if (!watcher) {
      watcher = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (!e.isIntersecting) return;
          watcher.unobserve(e.target);
          drawDepiction(e.target);
        });
      }, { rootMargin: '100px' });
    }
    watcher.observe(box);
    return box;
  }

  function drawDepiction(box) {
    box.setAttribute('data-state', 'drawing');
    var size = box.dataset.size.split('x').map(Number);
    depict(box.dataset.smiles, size[0], size[1]).then(function (svg) {
      if (svg === null) {
        box.setAttribute('data-state', 'invalid');
        box.textContent = 'RDKit cannot read this SMILES';
        return;
      }
      var node = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement;
      if (node.nodeName !== 'svg') throw new Error('RDKit drew no SVG');
      scrub(node);
      box.textContent = '';
      box.appendChild(document.importNode(node, true));
      box.setAttribute('data-state', 'drawn');
    }).catch(function (err) {
      box.setAttribute('data-state', 'error');
      box.textContent = '—';
      box.title = 'No depiction: ' + (err && err.message ? err.message : err);
    });
  }

  // scrub keeps a drawn SVG to drawing: no scripts, foreign content, event
  // handlers or links, whatever a SMILES makes RDKit write.
  function scrub(node) {
    Array.prototype.slice.call(node.querySelectorAll('script, foreignObject')).forEach(function (n) { n.remove(); });
    [node].concat(Array.prototype.slice.call(node.querySelectorAll('*'))).forEach(function (n) {
      Array.prototype.slice.call(n.attributes).forEach(function (a) {
        if (/^on/i.test(a.name) || /href$/i.test(a.name)) n.removeAttribute(a.name);
      });
    });
  }

  // heteroGroups sorts the structure's hetero residues into the screened
  // ligand and the target's cofactors. Boltz names each chain by its id in
  // the input, so the target's ligand_chain and its fixed ligands' ids
  // find them; without a target every hetero residue is the ligand.
  function heteroGroups(viewer, t) {
    var cofactors = {};
    ((t && t.ligands) || []).forEach(function (l) { l.ids.forEach(function (id) { cofactors[id] = l.ccd || l.smiles; }); });
    var groups = [], byKey = {};
    viewer.selectedAtoms({ hetflag: true }).forEach(function (a) {
      var key = a.chain + ':' + a.resi;
      if (!byKey[key]) {
        var role = !t || a.chain === t.ligand_chain ? 'ligand' : cofactors[a.chain] !== undefined ? 'cofactor' : '';
        if (!role) return; // a modified residue of a polymer chain keeps the cartoon
        byKey[key] = { chain: a.chain, resi: a.resi, resn: a.resn, role: role, atoms: [] };
        groups.push(byKey[key]);
      }
      byKey[key].atoms.push(a);
    });
    return groups;
  }

  function structureBlock(me, j, r, target) {
    if (!r.structure_available) {
      append(main, el('p', { id: 'no-structure' },
        'The model ' + j.model + ' produced no 3D structure for this prediction.',
        r.structure_unavailable_reason ? ' ' + r.structure_unavailable_reason : ''));
      return;
    }
    var box = el('div', { class: 'viewer', id: 'viewer', role: 'img', 'data-state': 'loading',
      'aria-label': '3D view of the predicted complex: protein as cartoon, screened ligand as green sticks, cofactors in magenta (ions as spheres). Drag to rotate, scroll to zoom.' });
    var legend = el('ul', { id: 'viewer-legend', class: 'legend', 'aria-label': 'Hetero groups in the 3D view' });
    var status = el('p', { class: 'muted', id: 'viewer-status', text: 'Loading the structure…' });
    var viewer = null;
    var spinning = false;
    var controls = el('p', null,
      el('button', { type: 'button', id: 'viewer-reset', on: { click: function () { if (viewer) { viewer.zoomTo(); viewer.render(); } } } }, 'Reset view'), ' ',
      el('button', { type: 'button', id: 'viewer-spin', 'aria-pressed': 'false', on: { click: function (e) {
        if (!viewer) return;
        spinning = !spinning;
        viewer.spin(spinning ? 'y' : false);
        e.currentTarget.setAttribute('aria-pressed', String(spinning));
      } } }, 'Spin'));
    append(main, [box, legend, status, controls]);
    var prefix = '/api/v1/jobs/' + encodeURIComponent(j.job_id) + '/files/';
    // PDB first (3Dmol's most robust reader), the mmCIF if that fails.
    var text = call(prefix + 'structure.pdb', { raw: true }).then(function (t) { return { t: t, f: 'pdb' }; }, function () {
      return call(prefix + 'structure.cif', { raw: true }).then(function (t) { return { t: t, f: 'cif' }; });
    });
    var t = (target || Promise.resolve(null)).catch(function () { return null; });
    Promise.all([load3Dmol(), text, t]).then(function (res) {
      if (me !== view) return;
      var lib = res[0], s = res[1];
      viewer = lib.createViewer(box, { backgroundColor: 'white' });
      viewer.addModel(s.t, s.f);
      viewer.setStyle({}, { cartoon: { color: 'spectrum' } });
      heteroGroups(viewer, res[2]).forEach(function (g) {
        var sel = { chain: g.chain, resi: g.resi, hetflag: true };
        var shape, label;
        if (g.role === 'ligand') {
          shape = 'sticks';
          viewer.setStyle(sel, { stick: { colorscheme: 'greenCarbon', radius: 0.25 } });
          label = 'ligand' + (j.input_data.ligand_name ? ' ' + j.input_data.ligand_name : '') + ' (chain ' + g.chain + ')';
        } else if (g.atoms.length === 1) {
          shape = 'sphere';
          viewer.setStyle(sel, { sphere: { color: 'magenta', radius: 0.9 } });
          label = g.resn + ' (chain ' + g.chain + ')';
        } else {
          shape = 'ball-and-stick';
          viewer.setStyle(sel, { stick: { colorscheme: 'magentaCarbon', radius: 0.15 }, sphere: { colorscheme: 'magentaCarbon', scale: 0.25 } });
          label = g.resn + ' (chain ' + g.chain + ')';
        }
        var c = g.atoms.reduce(function (m, a) { return { x: m.x + a.x / g.atoms.length, y: m.y + a.y / g.atoms.length, z: m.z + a.z / g.atoms.length }; }, { x: 0, y: 0, z: 0 });
        viewer.addLabel(label, { position: c, fontSize: 12, fontColor: 'black', backgroundColor: 'white', backgroundOpacity: 0.8, inFront: true });
        append(legend, el('li', { 'data-role': g.role, 'data-chain': g.chain, 'data-resn': g.resn, 'data-atoms': String(g.atoms.length), 'data-style': shape },
          (g.role === 'ligand' ? 'Screened ligand' : 'Cofactor') + ' ' + g.resn + ', chain ' + g.chain + ': ' + shape + ' (' + g.atoms.length + (g.atoms.length === 1 ? ' atom)' : ' atoms)')));
      });
      viewer.zoomTo();
      viewer.render();
      box.setAttribute('data-state', 'ready');
      status.textContent = 'From structure.' + s.f + ': protein as cartoon (coloured N to C terminus), screened ligand as green sticks, cofactors in magenta (ions as spheres), each labelled.';
    }).catch(function (err) {
      box.setAttribute('data-state', 'error');
      status.textContent = '';
      showError(status, err);
    });
  }

  // ---------- batch view ----------

  // Each affinity column is named by its quantity. The user's own library
  // columns (metadata) follow these, read from batch_results.csv. Only
  // failed and cancelled ligands have a failure reason; warnings are about
  // the input, whatever the outcome.
  // QUANTITY says what each affinity value is, in the words of
  // omtx/prediction.go; headers and labels carry it as their tooltip.
  var QUANTITY = {
    prob: 'affinity_probability_binary: the predicted probability (0–1) that the ligand binds',
    pred: 'affinity_pred_value: log10 of the predicted IC50 in µM (lower = stronger; 0 is 1 µM)',
    pic50: 'pIC50 = 6 − affinity_pred_value: −log10 of the predicted IC50 in M (higher = stronger)',
    affinity: 'ΔG in kcal/mol = −1.364 × pIC50 (at 298 K, IC50 taken as Kd; lower = stronger)'
  };

  var columns = [
    { k: 'rank', label: 'Rank', num: true },
    { k: 'name', label: 'Ligand' },
    { k: 'depiction', label: 'Structure', fixed: true },
    { k: 'smiles', label: 'SMILES' },
    { k: 'prob', label: 'P(binder)', num: true, d: 3 },
    { k: 'pred', label: 'affinity_pred_value log10(IC50 / µM)', num: true, d: 2 },
    { k: 'pic50', label: 'pIC50', num: true, d: 2 },
    { k: 'affinity', label: 'ΔG (kcal/mol)', num: true, d: 2 },
    { k: 'conf', label: 'Confidence', num: true, d: 3 },
    { k: 'floor', label: 'Below confidence floor' },
    { k: 'status', label: 'Status' },
    { k: 'reason', label: 'Failure reason' },
    { k: 'warnings', label: 'Warnings' }
  ];

  function batchView(id) {
    var me = reset('Batch ' + id);
    var enc = encodeURIComponent(id);
    call('/api/v1/batches/' + enc).then(function (b) {
      if (me !== view) return;
      var p = b.live_progress || b.progress || { total: 0, completed: 0, failed: 0, running: 0, pending: 0, cancelled: 0 };
      var cfg = b.batch_config || {};
      var br = b.batch_results;
      append(main, [
        el('h1', null, b.batch_name || b.job_id, ' ', badge(b.status)),
        el('p', { class: 'muted' }, b.job_id, ' · ', String(cfg.total_ligands || p.total), (cfg.total_ligands || p.total) === 1 ? ' ligand · ' : ' ligands · ',
          b.input_data && b.input_data.protein_sequence ? el('span', { id: 'protein', text: proteinLine(b.input_data) + ' · ' }) : null, 'created ', when(b.created_at)),
        modelBlock(b, null),
        warningsBlock(b.warnings),
        b.error ? el('p', { class: 'error', text: b.error }) : null,
        progressBlock(p, b.status),
        terminal(b.status) ? rerunBlock(id, p) : null,
        targetBlock(me, b.input_data && b.input_data.target_id)
      ]);
      if (!terminal(b.status)) {
        var cancel = el('button', { type: 'button', class: 'danger', id: 'cancel', text: 'Cancel batch…' });
        var dlg = el('dialog', { id: 'confirm-cancel', 'aria-labelledby': 'confirm-title' },
          el('h2', { id: 'confirm-title', text: 'Cancel this batch?' }),
          el('p', { text: 'Running chunks stop and the remaining ligands are marked cancelled. Finished results are kept.' }),
          el('form', { method: 'dialog' },
            el('button', { value: 'keep', class: 'primary', text: 'Keep running' }), ' ',
            el('button', { value: 'cancel', class: 'danger', id: 'confirm-cancel-yes', text: 'Cancel the batch' })));
        dlg.addEventListener('close', function () {
          if (dlg.returnValue !== 'cancel') { cancel.focus(); return; }
          call('/api/v1/batches/' + enc + '/cancel', { method: 'POST' }).then(function () {
            announce('Cancelling batch ' + id);
            batchView(id);
          }).catch(function (err) { showError(main, err); });
        });
        cancel.addEventListener('click', function () { dlg.showModal(); });
        append(main, [el('p', null, cancel), dlg]);
        later(function () { if (me === view) batchView(id); }, POLL_MS);
      }
      if (br) {
        var note = br.model_note ? el('p', { class: 'note', id: 'model-note', text: 'Model ' + b.model + ': ' + br.model_note }) : null;
        append(main, [
          el('h2', { text: 'Summary' }),
          note,
          el('dl', { class: 'facts', id: 'summary' },
            el('dt', { text: 'Outcome' }), el('dd', { id: 'status-line', 'data-failed': br.completed_with_failures ? 'true' : 'false', text: br.status_line || b.status }),
            el('dt', { text: 'Ranking' }), el('dd', { id: 'ranking-rule', text: br.ranking_rule }),
            el('dt', { text: 'Best ligand' }), el('dd', null, el('a', { href: '#/jobs/' + br.best_job_id, text: br.best_ligand })),
            el('dt', { text: 'Best ligand ΔG (kcal/mol)', title: QUANTITY.affinity }), el('dd', { text: num(br.best_affinity, 2) }),
            el('dt', { text: 'Best ligand affinity_pred_value log10(IC50 / µM)', title: QUANTITY.pred }), el('dd', { text: num(br.best_affinity_pred_value, 2) }),
            el('dt', { text: 'Mean ΔG (kcal/mol), predicted binders' + (br.binders !== undefined ? ' (n=' + br.binders + ')' : '') }),
            el('dd', { id: 'mean-binders', text: br.binders ? num(br.average_delta_g_kcal_mol_binders, 2) : '— (no predicted binders)' }),
            el('dt', { text: 'Mean ΔG (kcal/mol), all completed ligands (n=' + br.completed + ')' }), el('dd', { id: 'mean-all', text: num(br.average_affinity, 2) }),
            el('dt', { text: 'Compute' }), el('dd', { id: 'compute', text: br.cost_usd ? num(br.gpu_seconds, 1) + ' GPU s, $' + num(br.cost_usd, 4) : 'no GPU cost' }),
            br.cache_hits ? el('dt', { text: 'Result cache' }) : null,
            br.cache_hits ? el('dd', { id: 'cache-hits', text: br.cache_hits + (br.cache_hits === 1 ? ' ligand' : ' ligands') + ' from earlier runs, no GPU: ' +
              num(br.gpu_seconds_saved, 1) + ' GPU s and $' + num(br.cost_usd_saved, 4) + ' saved' }) : null)
        ]);
        if (br.histogram_file) histogramBlock(me, enc, br);
      }
      var tableBox = el('section', { id: 'ligands', 'aria-labelledby': 'ligands-title' }, el('h2', { id: 'ligands-title', text: 'Ligands' }));
      append(main, tableBox);
      if (terminal(b.status) && br) {
        var holder = el('div');
        append(tableBox, [rankingControl(me, enc, cfg, holder), holder]);
        rankedTable(me, enc, holder);
      } else childPages(me, enc, tableBox);
      var files = ['batch_config.json', 'ligands.json'];
      if (br) files.push('batch_results.csv', 'batch_results.json', 'summary.json');
      if (br && br.histogram_file) files.push('analysis/affinity_distribution.png');
      if (br && br.structures_zip_file) files.push('analysis/top_10_structures.zip');
      append(main, [el('h2', { text: 'Files' }), fileButtons('/api/v1/batches/' + enc + '/files/', files)]);
      // The ranked ligands as an SD file (scores as data fields), and the
      // predicted poses where the model wrote structures.
      var sd = br ? ['results.sdf'] : [];
      if (br && br.structures_zip_file) sd.push('poses.sdf');
      if (sd.length) append(main, fileButtons('/api/v1/batches/' + enc + '/', sd));
    }).catch(function (err) { if (me === view) showError(main, err); });
  }

  // rerunBlock offers a new batch of exactly the ligands that failed, or
  // of those cancelled (POST .../rerun, answered like a batch submission),
  // and opens it. One Idempotency-Key per button and view: a double click
  // or a retry after a lost answer starts one batch, not two.
  function rerunBlock(id, p) {
    var box = el('p', { id: 'rerun', class: 'row' });
    var stamp = Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
    [['failed', p.failed, 'Re-run failed'], ['cancelled', p.cancelled, 'Re-run cancelled']].forEach(function (x) {
      if (!x[1]) return;
      var which = x[0], key = 'ui-rerun-' + which + '-' + stamp;
      var btn = el('button', { type: 'button', id: 'rerun-' + which, 'data-which': which,
        title: 'Start a new batch of the ' + x[1] + ' ' + which + ' ' + (x[1] === 1 ? 'ligand' : 'ligands') + ' of this one' },
        x[2] + ' (' + x[1] + ')');
      btn.addEventListener('click', function () {
        btn.disabled = true;
        call('/api/v1/batches/' + encodeURIComponent(id) + '/rerun', { method: 'POST', body: { which: which }, headers: { 'Idempotency-Key': key } }).then(function (r) {
          announce('Started batch ' + r.batch_id);
          location.hash = '#/batches/' + encodeURIComponent(r.batch_id);
        }).catch(function (err) { btn.disabled = false; showError(box, err); });
      });
      append(box, btn);
    });
    return box.children.length ? box : null;
  }

  function progressBlock(p, status) {
    var total = Math.max(p.total, 1);
    // Filtered ligands were held back before the GPU: done, never run.
    var filtered = p.filtered || 0;
    var done = p.completed + p.failed + p.cancelled + filtered;
    var seg = function (k) { return el('span', { class: k, style: 'width:' + (100 * p[k] / total).toFixed(2) + '%' }); };
    return el('div', { id: 'progress' },
      el('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Ligands finished', 'aria-valuemin': '0',
        'aria-valuemax': String(p.total), 'aria-valuenow': String(done), 'aria-valuetext': done + ' of ' + p.total + ' finished (' + status + ')' },
        seg('completed'), seg('failed'), seg('cancelled'), seg('running')),
      el('p', { class: 'counts' },
        el('span', { 'data-k': 'completed' }, 'Completed ' + p.completed),
        el('span', { 'data-k': 'failed' }, 'Failed ' + p.failed),
        el('span', { 'data-k': 'running' }, 'Running ' + p.running),
        el('span', { 'data-k': 'pending' }, 'Pending ' + p.pending),
        el('span', { 'data-k': 'cancelled' }, 'Cancelled ' + p.cancelled),
        filtered ? el('span', { 'data-k': 'filtered' }, 'Filtered ' + filtered) : null,
        el('span', { class: 'muted' }, 'of ' + p.total)));
  }

  function histogramBlock(me, enc, br) {
    var caption = 'affinity_pred_value, log10(IC50 / µM), lower = stronger: predicted binders (blue, P(binder) ≥ ' +
      ((br.ranking && br.ranking.binder_threshold) || 0.5) + ') in front of all completed ligands (grey).' + (br.model_note ? ' Model: ' + br.model_note + '.' : '');
    var fig = el('figure', { id: 'histogram' }, el('figcaption', { text: caption }));
    append(main, [el('h2', { text: 'affinity_pred_value distribution' }), fig]);
    call('/api/v1/batches/' + enc + '/files/analysis/affinity_distribution.png', { raw: 'blob' }).then(function (b) {
      if (me !== view) return;
      var url = URL.createObjectURL(b);
      blobs.push(url);
      fig.insertBefore(el('img', { class: 'histogram', src: url, alt: 'Histogram of the batch\'s affinity_pred_value, predicted binders against all ligands' }), fig.firstChild);
    }).catch(function (err) { showError(fig, err); });
  }

  // rankingControl re-ranks a finished batch under another rule through
  // GET .../results (nothing is rerun); it starts at the batch's own rule.
  function rankingControl(me, enc, cfg, holder) {
    var mode = el('select', { id: 'ranking', name: 'ranking' }, [
      el('option', { value: 'hit_discovery', text: 'Hit discovery: by P(binder)' }),
      el('option', { value: 'lead_optimization', text: 'Lead optimization: binders by affinity_pred_value' })]);
    mode.value = cfg.ranking || 'hit_discovery';
    var field = function (id, label, value) {
      return el('label', null, label + ' ', el('input', { type: 'number', id: id, name: id, min: '0', max: '1', step: '0.05', value: value === undefined || value === null ? '' : String(value) }));
    };
    var form = el('form', { id: 'ranking-control', class: 'row', on: { submit: function (e) {
      e.preventDefault();
      var q = ['ranking=' + encodeURIComponent(mode.value)];
      ['binder_threshold', 'min_ligand_iptm', 'min_iptm'].forEach(function (k) {
        var v = form.querySelector('#' + k.replace(/_/g, '-')).value;
        if (k !== 'binder_threshold' || v !== '') q.push(k + '=' + encodeURIComponent(v));
      });
      rankedFromAPI(me, enc, holder, q.join('&'));
    } } },
      el('label', null, 'Ranking ', mode),
      field('binder-threshold', 'Binder threshold P ≥', cfg.binder_threshold || 0.5),
      field('min-ligand-iptm', 'Floor ligand_iptm ≥', cfg.min_ligand_iptm),
      field('min-iptm', 'Floor iptm ≥', cfg.min_iptm),
      el('button', { type: 'submit', class: 'primary', text: 'Re-rank' }));
    return form;
  }

  // rankedFromAPI fetches the ranking under the rule in q (up to 2,000
  // ranks, four pages), with the failures and their reasons after it.
  function rankedFromAPI(me, enc, holder, q) {
    holder.textContent = '';
    append(holder, el('p', { class: 'muted', text: 'Ranking…' }));
    var rows = [];
    function page(offset) {
      return call('/api/v1/batches/' + enc + '/results?' + q + '&page_size=500&offset=' + offset).then(function (r) {
        r.results.forEach(function (x) {
          rows.push({ rank: x.rank, index: x.batch_index, job_id: x.job_id, name: x.ligand_name, smiles: x.ligand_smiles,
            prob: x.affinity_probability_binary, pred: x.affinity_pred_value, pic50: x.pic50, affinity: x.delta_g_kcal_mol,
            conf: x.confidence, floor: (x.below_confidence_floor || []).join(', '), status: 'completed', reason: '',
            warnings: (x.warnings || []).join('; '), meta: x.ligand_metadata || {} });
        });
        if (r.next_offset && r.next_offset < 2000) return page(r.next_offset);
        return r;
      });
    }
    page(0).then(function (r) {
      if (me !== view) return;
      r.summary.failures.forEach(function (f) {
        rows.push({ rank: null, index: f.batch_index, job_id: f.job_id, name: f.ligand_name, smiles: f.ligand_smiles,
          status: f.status, reason: f.reason, floor: '', warnings: '', meta: {} });
      });
      holder.textContent = '';
      append(holder, el('p', { class: 'muted', id: 'ranking-applied', text: r.ranking.description + (r.partial ? ' (partial: the batch is still running)' : '') }));
      var keys = [];
      rows.forEach(function (x) { Object.keys(x.meta).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
      keys.sort();
      sortableTable(me, holder, rows, keys);
      announce('Re-ranked: ' + r.ranking.mode);
    }).catch(function (err) { holder.textContent = ''; showError(holder, err); });
  }

  // rowFromJob makes a table row from a child job document.
  function rowFromJob(j) {
    var r = j.results || {};
    return { rank: null, index: j.batch_index, job_id: j.job_id, name: j.input_data.ligand_name, smiles: j.input_data.ligand_smiles,
      affinity: r.delta_g_kcal_mol, pred: r.affinity_pred_value, pic50: r.pic50, prob: r.affinity_probability_binary, conf: r.confidence,
      floor: '', status: j.status, reason: j.error || '', warnings: (j.warnings || []).concat(r.warnings || []).join('; '), meta: j.ligand_metadata || {} };
  }

  // While a batch runs, its children come page by page from the cursor
  // API, in batch_index order.
  function childPages(me, enc, box) {
    var tokens = [''];
    var at = 0;
    var holder = el('div');
    append(box, [el('p', { class: 'muted', text: 'Ranking appears when the batch has finished; until then ligands are listed in library order.' }), holder]);
    function load() {
      var q = '?page_size=' + PAGE + (tokens[at] ? '&page_token=' + encodeURIComponent(tokens[at]) : '');
      call('/api/v1/batches/' + enc + '/jobs' + q).then(function (page) {
        if (me !== view) return;
        tokens[at + 1] = page.next_page_token || '';
        holder.textContent = '';
        append(holder, [
          table(page.jobs.map(rowFromJob), null, null),
          pager('Page ' + (at + 1), at > 0, !!page.next_page_token,
            function () { at--; load(); }, function () { at++; load(); })
        ]);
      }).catch(function (err) { showError(holder, err); });
    }
    load();
  }

  // A finished batch's table is its batch_results.csv (the batch's own
  // rule): every ligand, with its rank and the user's own columns, read
  // once and sorted and paged here (10,000 rows are a couple of
  // megabytes).
  function rankedTable(me, enc, holder) {
    append(holder, el('p', { class: 'muted', text: 'Loading ranked results…' }));
    call('/api/v1/batches/' + enc + '/files/batch_results.csv', { raw: true }).then(function (text) {
      if (me !== view) return;
      var rows = csvRows(text);
      var head = rows.shift() || [];
      var col = function (n) { return head.indexOf(n); };
      var ix = { rank: col('rank'), index: col('batch_index'), job: col('job_id'), name: col('ligand_name'), smiles: col('smiles'),
        status: col('status'), dg: col('delta_g_kcal_mol'), pred: col('affinity_pred_value_log10_ic50_um'), pic50: col('pic50'),
        prob: col('affinity_probability_binary'), conf: col('confidence'), floor: col('below_confidence_floor'),
        warnings: col('warnings'), reason: col('failure_reason') >= 0 ? col('failure_reason') : col('error') };
      // The user's own columns are the ones batch_results.csv does not
      // always have (CSV_COLUMNS), wherever they stand.
      var metaAt = [];
      head.forEach(function (h, i) { if (CSV_COLUMNS.indexOf(h) < 0) metaAt.push(i); });
      var keys = metaAt.map(function (i) { return head[i]; });
      var get = function (r, i) { return i < 0 ? '' : unguard(r[i] || ''); };
      var data = rows.filter(function (r) { return r.length > 1; }).map(function (r) {
        var meta = {};
        keys.forEach(function (k, i) { meta[k] = get(r, metaAt[i]); });
        return { rank: get(r, ix.rank) === '' ? null : Number(get(r, ix.rank)), index: Number(get(r, ix.index)), job_id: get(r, ix.job),
          name: get(r, ix.name), smiles: get(r, ix.smiles), status: get(r, ix.status),
          affinity: numOrNull(get(r, ix.dg)), pred: numOrNull(get(r, ix.pred)), pic50: numOrNull(get(r, ix.pic50)),
          prob: numOrNull(get(r, ix.prob)), conf: numOrNull(get(r, ix.conf)), floor: get(r, ix.floor).replace(/;/g, ', '),
          reason: get(r, ix.reason), warnings: get(r, ix.warnings), meta: meta };
      });
      holder.textContent = '';
      sortableTable(me, holder, data, keys);
    }).catch(function (err) { holder.textContent = ''; showError(holder, err); });
  }

  // sortableTable draws rows with sortable columns (the fixed ones, then
  // the user's metadata keys), paged here.
  function sortableTable(me, holder, data, keys) {
    var cols = columns.concat(keys.map(function (k) { return { k: 'meta:' + k, label: k, meta: k }; }));
    var box = el('div');
    // The filter outlives a re-rank: the holder keeps its text.
    var filter = el('input', { type: 'search', id: 'ligand-filter', name: 'ligand-filter', 'aria-describedby': 'ligand-filter-help',
      value: holder.dataset.filter || null, on: { input: function () { holder.dataset.filter = filter.value; at = 0; draw(); } } });
    append(holder, [
      el('p', { class: 'row filter' }, el('label', { for: 'ligand-filter', text: 'Filter ' }), filter,
        el('span', { id: 'ligand-filter-help', class: 'muted', text: 'Name, status, failure reason or your own columns (any case); or part of a SMILES (as written).' })),
      box]);
    var sort = { k: 'rank', dir: 1 };
    var at = 0;
    function draw(focusKey) {
      data.sort(compare(sort));
      var shown = data.filter(matches(filter.value.trim()));
      box.textContent = '';
      var pages = Math.max(1, Math.ceil(shown.length / PAGE));
      at = Math.min(at, pages - 1);
      var slice = shown.slice(at * PAGE, at * PAGE + PAGE);
      append(box, [
        table(slice, sort, function (k) {
          sort = { k: k, dir: sort.k === k ? -sort.dir : 1 };
          at = 0;
          draw(k);
          announce('Sorted by ' + k + (sort.dir > 0 ? ', ascending' : ', descending'));
        }, cols),
        pager('Rows ' + (shown.length ? at * PAGE + 1 : 0) + '–' + (at * PAGE + slice.length) + ' of ' + shown.length +
          (shown.length < data.length ? ' (filtered from ' + data.length + ')' : ''),
          at > 0, at < pages - 1, function () { at--; draw(); }, function () { at++; draw(); })
      ]);
      if (focusKey) { var b = box.querySelector('th button[data-k="' + focusKey + '"]'); if (b) b.focus(); }
    }
    draw();
  }

  // matches is the table filter: q, ignoring case, in the name, status,
  // failure reason or a metadata value, or q as written in the SMILES
  // (case is chemistry there: c is aromatic carbon, C aliphatic).
  function matches(q) {
    var lq = q.toLowerCase();
    return function (r) {
      if (!q) return true;
      if ((r.smiles || '').indexOf(q) >= 0) return true;
      var words = [r.name, r.status, r.reason, r.job_id].concat(Object.keys(r.meta || {}).map(function (k) { return r.meta[k]; }));
      return words.some(function (w) { return String(w || '').toLowerCase().indexOf(lq) >= 0; });
    };
  }

  function numOrNull(v) { return v === '' || isNaN(Number(v)) ? null : Number(v); }

  // Ranked rows first by rank; unranked (failed, cancelled) rows last
  // whatever the direction, by batch_index.
  function compare(sort) {
    return function (a, b) {
      var field = function (r) { return sort.k.indexOf('meta:') === 0 ? (r.meta || {})[sort.k.slice(5)] : r[sort.k]; };
      var x = field(a), y = field(b);
      var xn = x === null || x === undefined || x === '', yn = y === null || y === undefined || y === '';
      if (xn || yn) return xn && yn ? a.index - b.index : (xn ? 1 : -1);
      var c = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
      return c !== 0 ? c * sort.dir : a.index - b.index;
    };
  }

  function table(rows, sort, onSort, cols) {
    cols = cols || columns;
    return el('table', { class: 'ligands', 'data-rows': String(rows.length) },
      el('caption', { class: 'sr-only', text: 'Ligands of the batch' + (sort ? ', sortable by column' : '') }),
      el('thead', null, el('tr', null, cols.map(function (c) {
        var sorted = sort && sort.k === c.k;
        return el('th', { scope: 'col', class: c.num ? 'num' : null, title: QUANTITY[c.k], 'aria-sort': sort && !c.fixed ? (sorted ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none') : null },
          onSort && !c.fixed ? el('button', { type: 'button', 'data-k': c.k, on: { click: function () { onSort(c.k); } } }, c.label, sorted ? (sort.dir > 0 ? ' ▲' : ' ▼') : '') : c.label);
      }))),
      el('tbody', null, rows.map(function (r) {
        return el('tr', { 'data-job': r.job_id }, cols.map(function (c) {
          if (c.k === 'rank') return el('td', { class: 'num', 'data-k': 'rank', text: r.rank === null ? '—' : r.rank });
          if (c.k === 'name') return el('td', { 'data-k': 'name' }, el('a', { href: '#/jobs/' + r.job_id, text: r.name || r.job_id }));
          if (c.k === 'status') return el('td', { 'data-k': 'status' }, badge(r.status));
          if (c.k === 'depiction') return el('td', { 'data-k': 'depiction' }, r.smiles ? depiction(r.smiles, 150, 100) : '—');
          if (c.k === 'smiles') return smilesCell(r);
          if (c.meta) return el('td', { 'data-k': c.k, text: (r.meta || {})[c.meta] || '' });
          if (c.num) return el('td', { class: 'num', 'data-k': c.k, text: num(r[c.k], c.d) });
          return el('td', { class: c.k === 'smiles' ? 'smiles' : null, 'data-k': c.k, text: r[c.k] || '' });
        }));
      })));
  }

  // smilesCell shows a SMILES on one line, cut with an ellipsis; the cell
  // holds the whole string (a selection copies it), its tooltip shows it,
  // and its button copies it.
  function smilesCell(r) {
    var text = el('span', { class: 'smi', title: r.smiles, text: r.smiles });
    var copy = el('button', { type: 'button', class: 'copy', 'aria-label': 'Copy the SMILES of ' + (r.name || r.job_id), title: 'Copy SMILES', text: 'Copy', on: { click: function () {
      var done = function () { announce('SMILES copied'); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(r.smiles).then(done, function () { selectText(text); });
      } else selectText(text);
    } } });
    return el('td', { class: 'smiles', 'data-k': 'smiles' }, text, copy);
  }

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    announce('SMILES selected: press Ctrl+C to copy');
  }

  function pager(label, hasPrev, hasNext, prev, next) {
    return el('div', { class: 'pager' },
      el('button', { type: 'button', class: 'prev', disabled: !hasPrev, on: { click: prev } }, '← Previous'),
      el('span', { class: 'page-label', 'aria-live': 'polite', text: label }),
      el('button', { type: 'button', class: 'next', disabled: !hasNext, on: { click: next } }, 'Next →'));
  }

  // csvRows parses RFC 4180 CSV.
  function csvRows(text) {
    var rows = [], row = [], field = '', i = 0, q = false;
    while (i < text.length) {
      var ch = text[i];
      if (q) {
        if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
        if (ch === '"') { q = false; i++; continue; }
        field += ch; i++; continue;
      }
      if (ch === '"') { q = true; i++; continue; }
      if (ch === ',') { row.push(field); field = ''; i++; continue; }
      if (ch === '\r') { i++; continue; }
      if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
      field += ch; i++;
    }
    if (field !== '' || row.length) { row.push(field); rows.push(row); }
    return rows;
  }

  // unguard undoes the CSV's spreadsheet-formula guard (a leading quote).
  function unguard(v) { return /^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v; }

  // The helpers screen.js's view uses.
  var ui = { el: el, append: append, announce: announce, call: call, showError: showError, ApiError: ApiError, num: num,
    main: main, reset: reset, current: function () { return view; } };

  // ---------- router ----------

  function render() {
    takeKeyFromAddress();
    var r = route();
    document.getElementById('who').textContent = apiKey() ? 'Signed in' : '';
    if (!apiKey()) { signIn(''); return; }
    var m;
    if ((m = r.path.match(/^\/jobs\/([^/]+)$/))) jobView(decodeURIComponent(m[1]));
    else if ((m = r.path.match(/^\/batches\/([^/]+)$/))) batchView(decodeURIComponent(m[1]));
    else if (r.path === '/new' && window.OMTXScreen) window.OMTXScreen(ui);
    else jobsList();
    main.focus();
  }

  document.getElementById('signout').addEventListener('click', function () {
    sessionStorage.removeItem(KEY);
    announce('Signed out');
    signIn('');
  });
  window.addEventListener('hashchange', render);
  render();
})();
