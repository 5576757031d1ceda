// The trace viewer: draws the deliveries in view (virtual scrolling),
// the lanes, the faults as bands and the violation, and filters by
// message type and task id (kept in the URL's fragment:
// #type=<name>&task=<id>&pings=0).
(function () {
  'use strict';
  var T = JSON.parse(document.getElementById('trace-data').textContent);
  var ROW = 18, GUTTER = 100, LANE = 130, MARGIN = 30;
  var NS = 'http://www.w3.org/2000/svg';
  var D = T.d, lanes = T.lanes;
  var width = GUTTER + Math.max(lanes.length, 1) * LANE + 20;
  var scroll = document.getElementById('scroll');
  var spacer = document.getElementById('spacer');
  var header = document.getElementById('lanes');
  var typeSel = document.getElementById('type-filter');
  var taskIn = document.getElementById('task-filter');
  var pings = document.getElementById('hide-pings');
  var shown = document.getElementById('shown');
  var detail = document.getElementById('detail');
  var fates = ['', 'dropped', 'delayed', 'duplicated'];
  var rows = [];
  var selected = -1;
  var pending = false;

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function laneX(l) { return l < 0 ? GUTTER - 6 : GUTTER + l * LANE + LANE / 2; }
  // secs prints a virtual time as Go prints a duration (1m2.345s).
  function secs(us) {
    var s = us / 1e6, m = Math.floor(s / 60), h = Math.floor(m / 60);
    var rest = (s - 60 * m).toFixed(3).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '') + 's';
    return h > 0 ? h + 'h' + (m - 60 * h) + 'm' + rest : m > 0 ? m + 'm' + rest : rest;
  }
  function shortType(i) {
    var t = T.types[i] || '';
    return t.replace(/^mesos\.internal\./, '').replace(/^mesos\.scheduler\./, 'scheduler.');
  }
  function isPing(i) { return /Ping|Pong/.test(T.types[i] || ''); }

  // The lane header.
  (function () {
    var svg = el('svg', {width: width, height: 34});
    lanes.forEach(function (l, i) {
      svg.appendChild(el('text', {x: laneX(i), y: 14, 'text-anchor': 'middle', 'class': 'lane-name lane-' + l.kind}, l.name));
      svg.appendChild(el('text', {x: laneX(i), y: 28, 'text-anchor': 'middle', 'class': 'time'}, l.addr));
    });
    svg.appendChild(el('text', {x: 4, y: 14, 'class': 'lane-name'}, 'virtual time'));
    header.appendChild(svg);
  })();

  function matches(i) {
    var d = D[i];
    if (typeSel.value !== '' && T.types[d[5]] !== typeSel.value) { return false; }
    if (pings.checked && isPing(d[5])) { return false; }
    var task = taskIn.value.trim();
    if (task !== '' && !(d[7] && d[7].indexOf(task) >= 0)) { return false; }
    return true;
  }

  // first returns the first position p in rows for which pred(rows[p]).
  function first(pred) {
    var lo = 0, hi = rows.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (pred(rows[mid])) { hi = mid; } else { lo = mid + 1; }
    }
    return lo;
  }
  function rowAtTime(us) { return first(function (i) { return D[i][0] >= us; }); }
  function rowOfStep(step) { return first(function (i) { return i >= step; }); }

  function applyFilters() {
    rows = [];
    for (var i = 0; i < D.length; i++) { if (matches(i)) { rows.push(i); } }
    spacer.style.height = (rows.length * ROW + 2 * MARGIN) + 'px';
    spacer.style.width = width + 'px';
    shown.textContent = rows.length + ' of ' + D.length + ' deliveries shown';
    var h = [];
    if (typeSel.value !== '') { h.push('type=' + encodeURIComponent(typeSel.value)); }
    if (taskIn.value.trim() !== '') { h.push('task=' + encodeURIComponent(taskIn.value.trim())); }
    if (pings.checked) { h.push('pings=0'); }
    if (history.replaceState) { history.replaceState(null, '', h.length ? '#' + h.join('&') : location.pathname + location.search); }
    render();
  }

  function render() {
    pending = false;
    var top = scroll.scrollTop, h = scroll.clientHeight || 600;
    var lo = Math.max(0, Math.floor((top - MARGIN) / ROW) - 10);
    var hi = Math.min(rows.length, Math.ceil((top + h) / ROW) + 10);
    var yOf = function (p) { return MARGIN + p * ROW; };
    var svg = el('svg', {width: width, height: rows.length * ROW + 2 * MARGIN, id: 'chart', 'data-first': lo, 'data-last': hi});
    var defs = el('defs', {});
    [['arrow', '#444'], ['arrow-delayed', '#e67e00'], ['arrow-duplicated', '#7b1fa2'], ['arrow-exited', '#999'], ['arrow-selected', '#06c']].forEach(function (m) {
      var mk = el('marker', {id: m[0], viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'});
      mk.appendChild(el('path', {d: 'M0,0 L10,5 L0,10 z', fill: m[1], stroke: 'none'}));
      defs.appendChild(mk);
    });
    svg.appendChild(defs);
    var yTop = yOf(lo) - ROW, yBot = yOf(hi) + ROW;

    // The violation's row, behind everything.
    var vp = -1;
    if (T.violation) {
      vp = rowOfStep(T.violation.step);
      if (vp > 0 && vp - 1 >= lo && vp - 1 < hi) {
        svg.appendChild(el('rect', {x: 0, y: yOf(vp - 1), width: width, height: ROW, 'class': 'violation-row'}));
      }
    }
    // Lifelines.
    lanes.forEach(function (l, i) {
      svg.appendChild(el('line', {x1: laneX(i), y1: yTop, x2: laneX(i), y2: yBot, 'class': 'lifeline'}));
    });
    // Faults: bands over the lanes they hit, for as long as they last.
    T.events.forEach(function (e) {
      var p0 = rowAtTime(e.at);
      if (!e.fault) {
        if (p0 >= lo && p0 < hi) {
          e.lanes.forEach(function (l) {
            var m = el('circle', {cx: laneX(l), cy: yOf(p0), r: 4, 'class': 'event-mark'});
            m.appendChild(el('title', {}, e.text));
            svg.appendChild(m);
          });
        }
        return;
      }
      if (e.kind === 'jump-clock') {
        if (p0 >= lo && p0 < hi) {
          svg.appendChild(el('line', {x1: GUTTER, y1: yOf(p0), x2: width, y2: yOf(p0), 'class': 'jump'}));
          svg.appendChild(el('text', {x: GUTTER + 4, y: yOf(p0) - 3, 'class': 'band-label'}, e.text));
        }
        return;
      }
      var p1 = e.until > e.at ? rowAtTime(e.until) : p0 + 1;
      if (p1 <= p0) { p1 = p0 + 1; }
      if (p1 < lo || p0 > hi) { return; }
      var a = Math.max(p0, lo - 1), b = Math.min(p1, hi + 1);
      e.lanes.forEach(function (l) {
        var r = el('rect', {x: laneX(l) - LANE / 2 + 3, y: yOf(a), width: LANE - 6, height: Math.max((b - a) * ROW, 4), 'class': 'band band-' + e.kind, 'data-kind': e.kind});
        r.appendChild(el('title', {}, e.text));
        svg.appendChild(r);
      });
      if (p0 >= lo && e.lanes.length > 0) {
        svg.appendChild(el('text', {x: laneX(e.lanes[0]) - LANE / 2 + 5, y: yOf(p0) + 10, 'class': 'band-label'}, e.kind));
      }
    });
    // Deliveries.
    var lastTime = null;
    for (var p = lo; p < hi; p++) {
      var i = rows[p], d = D[i], y = yOf(p) + ROW / 2;
      var fate = fates[d[8]];
      var cls = 'row' + (d[2] === 1 ? ' exited' : '') + (fate ? ' ' + fate : '') + (i === selected ? ' selected' : '');
      var g = el('g', {'class': cls, 'data-i': i, 'data-type': T.types[d[5]], 'data-tasks': d[7] ? d[7].join(' ') : '', 'data-fate': fate});
      if (d[0] !== lastTime) {
        g.appendChild(el('text', {x: 4, y: y + 3, 'class': 'time'}, secs(d[0])));
        lastTime = d[0];
      }
      var x1 = laneX(d[3]), x2 = laneX(d[4]);
      var marker = fate === 'dropped' ? '' : 'url(#' + (i === selected ? 'arrow-selected' : fate === 'delayed' ? 'arrow-delayed' : fate === 'duplicated' ? 'arrow-duplicated' : d[2] === 1 ? 'arrow-exited' : 'arrow') + ')';
      var y1 = y;
      if (fate === 'delayed') { y1 = yOf(rowAtTime(d[1])) + ROW / 2; }
      if (fate === 'dropped') { x2 = (x1 + x2) / 2; }
      if (d[3] === d[4] && d[3] >= 0) {
        g.appendChild(el('path', {d: 'M' + x1 + ',' + (y - 5) + ' h24 v10 h-24', 'marker-end': marker}));
      } else {
        var ln = el('line', {x1: x1, y1: y1, x2: x2, y2: y});
        if (marker) { ln.setAttribute('marker-end', marker); }
        g.appendChild(ln);
      }
      if (fate === 'dropped') {
        g.appendChild(el('path', {d: 'M' + (x2 - 5) + ',' + (y - 5) + ' l10,10 m0,-10 l-10,10', 'class': 'cross'}));
      }
      var label = shortType(d[5]) + (fate ? ' (' + fate + ')' : '');
      g.appendChild(el('text', {x: Math.min(x1, x2) + 4, y: y - 3, 'class': 'label'}, label));
      g.appendChild(el('line', {x1: x1, y1: y, x2: x2 === x1 ? x1 + 24 : x2, y2: y, 'class': 'hit'}));
      g.appendChild(el('title', {}, secs(d[0]) + ' ' + d[9] + ' → ' + d[10] + ' ' + label));
      svg.appendChild(g);
    }
    // The violation, between the last delivery before it and the next.
    if (vp >= 0 && vp >= lo - 1 && vp <= hi + 1) {
      var vy = yOf(vp);
      svg.appendChild(el('line', {x1: 0, y1: vy, x2: width, y2: vy, 'class': 'violation-marker', 'data-invariant': T.violation.invariant, 'data-row': vp}));
      svg.appendChild(el('text', {x: GUTTER + 4, y: vy - 4, 'class': 'violation-label'}, 'invariant ' + T.violation.invariant + ' violated at ' + secs(T.violation.at)));
    }
    var old = spacer.querySelector('svg');
    if (old) { spacer.replaceChild(svg, old); } else { spacer.appendChild(svg); }
  }

  function show(i) {
    selected = i;
    var d = D[i];
    detail.textContent = secs(d[0]) + (d[8] === 2 ? ' (sent at ' + secs(d[1]) + ')' : '') + '  ' + (d[2] === 1 ? 'exited' : 'message') +
      (fates[d[8]] ? ' [' + fates[d[8]] + ']' : '') + '\n' + d[9] + ' → ' + d[10] + '\n' + (T.types[d[5]] || 'link broken') +
      (d[7] ? '\ntasks: ' + d[7].join(', ') : '') + '\n' + d[6];
    render();
  }

  function gotoViolation() {
    if (!T.violation) { return; }
    scroll.scrollTop = Math.max(0, MARGIN + rowOfStep(T.violation.step) * ROW - (scroll.clientHeight || 600) / 2);
    render();
  }

  scroll.addEventListener('scroll', function () {
    header.scrollLeft = scroll.scrollLeft;
    if (!pending) { pending = true; requestAnimationFrame(render); }
  });
  spacer.addEventListener('click', function (ev) {
    var g = ev.target.closest ? ev.target.closest('g.row') : null;
    if (g) { show(+g.getAttribute('data-i')); }
  });
  typeSel.addEventListener('change', applyFilters);
  taskIn.addEventListener('input', applyFilters);
  pings.addEventListener('change', applyFilters);
  var btn = document.getElementById('goto-violation');
  if (btn) { btn.addEventListener('click', gotoViolation); }

  // Filters from the URL's fragment.
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var parts = kv.split('='), v = decodeURIComponent(parts[1] || '');
    if (parts[0] === 'type') { typeSel.value = v; }
    if (parts[0] === 'task') { taskIn.value = v; }
    if (parts[0] === 'pings' && v === '0') { pings.checked = true; }
  });
  applyFilters();
  gotoViolation();
  window.addEventListener('resize', render);
  document.body.setAttribute('data-rendered', 'true');
})();
