// OMTX-Hub results page: the "New screen" view (#/new). Plain script, no
// build step, loaded before app.js, which calls window.OMTXScreen(ui) with
// its helpers (el, call, showError, ...) when the address is #/new.
//
// The form is sent as it is to both endpoints: first to POST
// /api/v1/estimate (multipart, as the batch takes it), whose answer is
// shown before Submit is enabled; then to POST /api/v1/predict/batch with
// an Idempotency-Key made once per form, so a retried submission is the
// same batch. Any change to the form disables Submit until the next
// estimate. A new target (a pasted sequence, a FASTA, a Boltz YAML and its
// A3M files) is stored first with POST /api/v1/targets.
(function () {
  'use strict';

  var MODELS = ['boltz2', 'descriptor-baseline-v1'];
  // The shipped SMARTS catalogs, by the names the filters block takes.
  var CATALOGS = [
    { id: 'pains_a', label: 'PAINS A' },
    { id: 'pains_b', label: 'PAINS B' },
    { id: 'pains_c', label: 'PAINS C' },
    { id: 'reactive', label: 'Reactive groups' }];
  // The property windows ({"min": …, "max": …}), sent in the filters block
  // only where an end is set.
  var WINDOW = [
    { k: 'molecular_weight', end: 'min', label: 'MW (g/mol) ≥', step: 'any' },
    { k: 'molecular_weight', end: 'max', label: 'MW (g/mol) ≤', step: 'any' },
    { k: 'heavy_atoms', end: 'min', label: 'Heavy atoms ≥', step: '1' },
    { k: 'heavy_atoms', end: 'max', label: 'Heavy atoms ≤', step: '1' }];
  var windowID = function (w) { return 'filter-' + w.k.replace(/_/g, '-') + '-' + w.end; };

  // idempotencyKey is 128 random bits in hex, made once per form.
  function idempotencyKey() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'page-' + Array.prototype.map.call(b, function (x) { return (x < 16 ? '0' : '') + x.toString(16); }).join('');
  }

  // parseFASTA reads FASTA text: one protein chain per record, its header
  // (the text after ">") kept as the record's name.
  function parseFASTA(text) {
    var recs = [];
    text.split(/\r?\n/).forEach(function (line) {
      line = line.trim();
      if (!line || line[0] === ';') return;
      if (line[0] === '>') { recs.push({ name: line.slice(1).trim(), seq: '' }); return; }
      if (!recs.length) recs.push({ name: '', seq: '' });
      recs[recs.length - 1].seq += line.replace(/[\s*]/g, '');
    });
    return recs.filter(function (r) { return r.seq; });
  }

  // chainsOf makes one protein chain a record, with ids A, B, C, ...;
  // msa is the chains' MSA mode ("server", the target's default, is
  // left out).
  function chainsOf(seqs, msa) {
    return seqs.map(function (s, i) {
      var c = { type: 'protein', id: String.fromCharCode(65 + i), sequence: s.toUpperCase() };
      if (msa && msa !== 'server') c.msa = { mode: msa };
      return c;
    });
  }

  // refusal is a check made here, before any call, shown as the API's are
  // (status 0: no request was made).
  function refusal(ui, field, message) {
    return new ui.ApiError(0, { error: { code: 'invalid', field: field, message: message } });
  }

  // count says n of something in the right number: "1 chunk", "2 chunks".
  function count(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  function duration(s) {
    if (s === undefined || s === null || isNaN(s)) return '—';
    if (s < 90) return Math.round(s) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }

  // first is the first of a response's fields that is a number, or null:
  // the estimate's filtered count (filtered_ligands) and expected cache
  // hits are shown only where the API gives them.
  function first(r, names) {
    for (var i = 0; i < names.length; i++) if (typeof r[names[i]] === 'number') return r[names[i]];
    return null;
  }

  window.OMTXScreen = function (ui) {
    var el = ui.el, append = ui.append, me = ui.reset('New screen'), main = ui.main;
    var key = idempotencyKey();
    var estimated = false;

    // ---------- form ----------

    var radio = function (value, label, checked) {
      return el('label', null, el('input', { type: 'radio', name: 'target-source', value: value, checked: checked, id: 'source-' + value }), ' ' + label);
    };
    var targetSelect = el('select', { id: 'target-id', name: 'target_id' }, el('option', { value: '', text: 'Loading your targets…' }));
    var panes = {
      saved: el('p', { 'data-pane': 'saved' }, el('label', { for: 'target-id', text: 'Target ' }), targetSelect),
      sequence: el('div', { 'data-pane': 'sequence', hidden: true },
        el('p', null, el('label', { for: 'target-name', text: 'Name ' }), el('input', { type: 'text', id: 'target-name', name: 'target-name' })),
        el('p', null, el('label', { for: 'sequence', text: 'Protein sequence (one-letter codes)' })),
        el('textarea', { id: 'sequence', name: 'sequence', rows: '4', cols: '70', spellcheck: 'false' })),
      fasta: el('p', { 'data-pane': 'fasta', hidden: true },
        el('label', { for: 'fasta', text: 'FASTA file (one protein chain a record; the first header names the target) ' }),
        el('input', { type: 'file', id: 'fasta', name: 'fasta', accept: '.fasta,.fa,.faa,.txt' })),
      // The MSA of a pasted or FASTA target's chains.
      msa: el('p', { 'data-pane': 'msa', hidden: true }, el('label', { for: 'msa-mode', text: 'MSA ' }),
        el('select', { id: 'msa-mode', name: 'msa-mode' },
          el('option', { value: 'server', text: 'From the deployment\'s MSA server, at the first job (Boltz\'s default)' }),
          el('option', { value: 'empty', text: 'None: single-sequence mode (Boltz\'s documentation calls it less accurate)' }))),
      yaml: el('div', { 'data-pane': 'yaml', hidden: true },
        el('p', null, el('label', { for: 'yaml', text: 'Boltz YAML ' }), el('input', { type: 'file', id: 'yaml', name: 'yaml', accept: '.yaml,.yml' })),
        el('p', null, el('label', { for: 'a3m', text: 'The A3M files it names ' }), el('input', { type: 'file', id: 'a3m', name: 'a3m', accept: '.a3m', multiple: true })))
    };
    var library = el('input', { type: 'file', id: 'library', name: 'library', accept: '.csv,.tsv,.txt,.smi,.sdf,.xlsx', required: true });
    var model = el('select', { id: 'model', name: 'model' }, MODELS.map(function (m) { return el('option', { value: m, text: m }); }));
    var ranking = el('select', { id: 'ranking-mode', name: 'ranking' }, [
      el('option', { value: 'hit_discovery', text: 'Hit discovery: by P(binder)' }),
      el('option', { value: 'lead_optimization', text: 'Lead optimization: binders by affinity_pred_value' })]);
    var number = function (id, label, attrs) {
      var a = { type: 'number', id: id, name: id, step: 'any', min: '0' };
      Object.keys(attrs || {}).forEach(function (k) { a[k] = attrs[k]; });
      return el('label', null, label + ' ', el('input', a));
    };
    var errors = el('div', { id: 'screen-errors', class: 'screen-errors', 'aria-live': 'assertive' });
    var result = el('div', { id: 'estimate-result' });
    var estimateBtn = el('button', { type: 'submit', id: 'estimate', class: 'primary', text: 'Estimate' });
    var submitBtn = el('button', { type: 'button', id: 'submit', disabled: true, text: 'Submit screen' });

    var form = el('form', { id: 'new-screen', novalidate: true },
      el('fieldset', null, el('legend', { text: 'Target' }),
        el('p', { class: 'row' }, radio('saved', 'A stored target', true), radio('sequence', 'Paste a sequence'),
          radio('fasta', 'Upload a FASTA'), radio('yaml', 'Upload a Boltz YAML')),
        panes.saved, panes.sequence, panes.fasta, panes.yaml, panes.msa),
      el('fieldset', null, el('legend', { text: 'Library' }),
        el('p', null, el('label', { for: 'library', text: 'Ligand library (.csv or .tsv with a SMILES column, .smi, .sdf, .xlsx) ' }), library),
        el('p', null, el('label', null, el('input', { type: 'checkbox', id: 'skip-invalid', name: 'skip_invalid' }),
          ' Skip invalid rows (they are kept as failed ligands); otherwise a library with one is refused')),
        el('p', null, el('label', { for: 'batch-name', text: 'Screen name ' }), el('input', { type: 'text', id: 'batch-name', name: 'batch_name' }))),
      el('fieldset', null, el('legend', { text: 'Model and ranking' }),
        el('p', { class: 'row' }, el('label', null, 'Model ', model), el('label', null, 'Ranking ', ranking)),
        el('p', { class: 'row' },
          number('binder-threshold', 'Binder threshold P ≥', { max: '1', placeholder: '0.5' }),
          number('min-ligand-iptm', 'Floor ligand_iptm ≥', { max: '1' }),
          number('min-iptm', 'Floor iptm ≥', { max: '1' }))),
      el('fieldset', null, el('legend', { text: 'Filters before the GPU' }),
        el('p', { class: 'row' }, CATALOGS.map(function (c) {
          return el('label', null, el('input', { type: 'checkbox', id: 'catalog-' + c.id, 'data-catalog': c.id }), ' ' + c.label);
        })),
        el('p', { class: 'row' }, WINDOW.map(function (w) { return number(windowID(w), w.label, { step: w.step }); })),
        el('p', null, el('label', { for: 'filter-smarts', text: 'Your own SMARTS, one a line (a ligand matching any is filtered out)' })),
        el('textarea', { id: 'filter-smarts', name: 'filter-smarts', rows: '2', cols: '70', spellcheck: 'false' })),
      el('p', { class: 'row' }, estimateBtn, submitBtn));

    append(main, [
      el('h1', { text: 'New screen' }),
      el('div', { class: 'screen-layout' }, el('div', null, form, result), errors)]);

    // ---------- behaviour ----------

    var source = function () { return form.querySelector('input[name=target-source]:checked').value; };
    var value = function (id) { return form.querySelector('#' + id).value.trim(); };
    // show shows the panes of a target source (and the MSA choice for a
    // new sequence).
    function show(src) {
      form.querySelector('#source-' + src).checked = true;
      Object.keys(panes).forEach(function (k) { panes[k].hidden = k !== src && !(k === 'msa' && (src === 'sequence' || src === 'fasta')); });
    }
    form.addEventListener('change', function (e) {
      if (e.target.name === 'target-source') show(source());
      invalidate();
    });
    form.addEventListener('input', invalidate);

    // invalidate disables Submit: what it would send is no longer what was
    // estimated.
    function invalidate() {
      if (!estimated) return;
      estimated = false;
      submitBtn.disabled = true;
      result.setAttribute('data-stale', 'true');
    }

    function loadTargets(select) {
      return ui.call('/api/v1/targets?page_size=100').then(function (page) {
        if (me !== ui.current()) return;
        targetSelect.textContent = '';
        if (!page.targets.length) append(targetSelect, el('option', { value: '', text: 'No stored targets: create one' }));
        page.targets.forEach(function (t) {
          var chains = (t.chains || []).map(function (c) { return c.ids.join('') + ' ' + c.length + ' aa'; }).join(', ');
          append(targetSelect, el('option', { value: t.target_id, text: (t.name || t.target_id) + ' (' + chains + ')' }));
        });
        if (select) targetSelect.value = select;
        if (!page.targets.length && !select) show('sequence');
      }).catch(function (err) { showErrors(err, 'Loading your targets'); });
    }

    // showErrors lists an API refusal: its message and field, and each
    // refused row of a library with its row number and field.
    function showErrors(err, step) {
      if (err instanceof ui.ApiError && err.status === 401) { ui.showError(main, err); return; }
      errors.textContent = '';
      if (!(err instanceof ui.ApiError)) { ui.showError(errors, err); return; }
      // The library's message starts with its field ("ligands: ..."): once is enough.
      var msg = err.field && err.message.indexOf(err.field + ': ') === 0 ? err.message.slice(err.field.length + 2) : err.message;
      var items = [el('li', { 'data-code': err.code, 'data-field': err.field },
        err.field ? el('code', { class: 'field', text: err.field }) : null, err.field ? ': ' : '', msg)];
      err.rows.forEach(function (r) {
        items.push(el('li', { class: 'row-error', 'data-row': String(r.row), 'data-field': r.field },
          'Row ' + r.row + ', ', el('code', { class: 'field', text: r.field }), ': ' + r.reason));
      });
      append(errors, el('div', { class: 'error', role: 'alert' },
        el('p', null, el('strong', { text: step + ' was refused' }), ' (' + err.code + (err.status ? ', HTTP ' + err.status : '') + ')'),
        el('ul', { id: 'error-list' }, items),
        err.requestId ? el('p', { class: 'muted', text: 'request ' + err.requestId }) : null));
    }

    function readFile(input) {
      var f = input.files[0];
      return f ? f.text() : Promise.resolve(null);
    }

    // targetID stores a new target where the form describes one, and
    // selects it, so a second estimate uses it as it is.
    function targetID() {
      var create;
      switch (source()) {
        case 'saved':
          return value('target-id') ? Promise.resolve(value('target-id')) : Promise.reject(refusal(ui, 'target_id', 'choose a stored target, or create one'));
        case 'sequence':
          create = Promise.resolve({ name: value('target-name'), target: { chains: chainsOf([value('sequence').replace(/\s+/g, '')], value('msa-mode')) } });
          break;
        case 'fasta':
          create = readFile(form.querySelector('#fasta')).then(function (text) {
            if (text === null) throw refusal(ui, 'fasta', 'choose a FASTA file');
            var recs = parseFASTA(text);
            return { name: recs.length ? recs[0].name : '', target: { chains: chainsOf(recs.map(function (r) { return r.seq; }), value('msa-mode')) } };
          });
          break;
        case 'yaml':
          var yml = form.querySelector('#yaml').files[0];
          if (!yml) return Promise.reject(refusal(ui, 'yaml', 'choose a Boltz YAML file'));
          var fd = new FormData();
          fd.append('yaml', yml, yml.name);
          fd.append('name', yml.name.replace(/\.ya?ml$/i, ''));
          Array.prototype.forEach.call(form.querySelector('#a3m').files, function (f) { fd.append('file', f, f.name); });
          create = Promise.resolve(fd);
          break;
      }
      return create.then(function (body) {
        var json = !(body instanceof FormData);
        return ui.call('/api/v1/targets', { method: 'POST', body: json ? JSON.stringify(body) : body,
          headers: json ? { 'Content-Type': 'application/json' } : {} });
      }).then(function (t) {
        show('saved');
        ui.announce('Target ' + (t.name || t.target_id) + (t.duplicate ? ' was already stored' : ' stored'));
        return loadTargets(t.target_id).then(function () { return t.target_id; });
      });
    }

    // body is the batch's multipart form, as both endpoints take it; the
    // optional fields are sent only where set.
    function body(target) {
      var fd = new FormData();
      fd.append('model', model.value);
      fd.append('target_id', target);
      fd.append('ranking', ranking.value);
      if (value('batch-name')) fd.append('batch_name', value('batch-name'));
      if (form.querySelector('#skip-invalid').checked) fd.append('skip_invalid', 'true');
      [['binder-threshold', 'binder_threshold'], ['min-ligand-iptm', 'min_ligand_iptm'], ['min-iptm', 'min_iptm']].forEach(function (f) {
        if (value(f[0]) !== '') fd.append(f[1], value(f[0]));
      });
      var filters = {};
      var catalogs = Array.prototype.filter.call(form.querySelectorAll('[data-catalog]'), function (c) { return c.checked; })
        .map(function (c) { return c.getAttribute('data-catalog'); });
      if (catalogs.length) filters.catalogs = catalogs;
      WINDOW.forEach(function (w) {
        var v = value(windowID(w));
        if (v === '') return;
        filters[w.k] = filters[w.k] || {};
        filters[w.k][w.end] = Number(v);
      });
      var smarts = value('filter-smarts').split(/\r?\n/).map(function (s) { return s.trim(); }).filter(Boolean);
      if (smarts.length) filters.smarts = smarts;
      if (Object.keys(filters).length) fd.append('filters', JSON.stringify(filters));
      var f = library.files[0];
      if (f) fd.append('library', f, f.name);
      return fd;
    }

    var target = '';
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      errors.textContent = '';
      result.textContent = '';
      estimated = false;
      submitBtn.disabled = true;
      estimateBtn.disabled = true;
      var step = 'Storing the target';
      targetID().then(function (id) {
        target = id;
        step = 'The estimate';
        return ui.call('/api/v1/estimate', { method: 'POST', body: body(id) });
      }).then(function (est) {
        if (me !== ui.current()) return;
        showEstimate(est);
        estimated = true;
        submitBtn.disabled = false;
        ui.announce('Estimate ready: ' + est.ligands + ' ligands, $' + ui.num(est.cost_usd, 4));
      }).catch(function (err) { if (me === ui.current()) showErrors(err, step); })
        .then(function () { estimateBtn.disabled = false; });
    });

    submitBtn.addEventListener('click', function () {
      if (!estimated) return;
      submitBtn.disabled = true;
      errors.textContent = '';
      ui.call('/api/v1/predict/batch', { method: 'POST', body: body(target), headers: { 'Idempotency-Key': key } }).then(function (r) {
        ui.announce('Screen ' + r.batch_id + ' submitted');
        location.hash = '#/batches/' + encodeURIComponent(r.batch_id);
      }).catch(function (err) {
        if (me !== ui.current()) return;
        showErrors(err, 'The submission');
        submitBtn.disabled = !estimated;
      });
    });

    function showEstimate(est) {
      result.removeAttribute('data-stale');
      var filtered = first(est, ['filtered_ligands']);
      var hits = (est.filter_hits || []).map(function (h) { return h.rule + ' ' + h.ligands; }).join(', ');
      var cached = first(est, ['cache_hits_expected', 'cache_hits', 'expected_cache_hits']);
      var row = function (k, label, v) { return [el('dt', { text: label }), el('dd', { 'data-k': k, text: v })]; };
      append(result, [
        el('h2', { text: 'Estimate' }),
        est.model_substitution ? el('p', { class: 'note', id: 'estimate-substitution', text: est.model_substitution }) : null,
        el('dl', { class: 'facts', id: 'estimate' },
          row('model', 'Model that would run', est.model + (est.requested_model && est.requested_model !== est.model ? ' (asked for ' + est.requested_model + ')' : '') +
            (est.model_note ? ': ' + est.model_note : '')),
          row('ligands', 'Ligands', String(est.ligands) + (est.invalid_ligands ? ' (and ' + count(est.invalid_ligands, 'invalid row', 'invalid rows') + ', kept as failed)' : '')),
          filtered !== null ? row('filtered', 'Filtered out before the GPU', String(filtered) + (hits ? ' (' + hits + ')' : '')) : null,
          cached !== null ? row('cache_hits', 'Cache hits expected', String(cached)) : null,
          row('gpu_hours', 'GPU hours', ui.num(est.gpu_seconds / 3600, 3) + ' (' + ui.num(est.gpu_seconds, 1) + ' GPU s) on ' + est.gpu_class + ' (' + count(est.chunks, 'chunk', 'chunks') + ')'),
          row('cost_usd', 'Cost', '$' + ui.num(est.cost_usd, 4) + ' ($' + ui.num(est.cost_per_ligand_usd, 6) + ' a ligand)'),
          row('wall_seconds', 'ETA', 'about ' + duration(est.wall_seconds))),
        el('p', { class: 'muted', text: est.basis }),
        el('p', { class: 'muted', text: 'Submit sends this form as it is; changing it asks for a new estimate.' })]);
    }

    loadTargets('');
  };
})();
