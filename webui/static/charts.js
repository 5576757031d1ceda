// gomesos web UI charts: small line and bar charts drawn as plain SVG,
// with no library and nothing fetched. app.js calls
// GomesosCharts.line(...) and GomesosCharts.bars(...), each returning an
// <svg> element to put in the page.
(function () {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";

  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, String(attrs[k]));
    });
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function pad2(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function clock(ms, seconds) {
    var d = new Date(ms);
    return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + (seconds ? ":" + pad2(d.getSeconds()) : "");
  }

  // line draws series over time.
  //   opts.name     data-chart attribute (for tests and styling)
  //   opts.title    accessible title
  //   opts.series   [{label, color, points: [[timeMs, value], ...]}]
  //   opts.yMax     top of the y axis (default: the largest value, at least 1)
  //   opts.yFormat  function formatting a y value for the axis labels
  //   opts.span     the most the x axis covers, back from now (milliseconds;
  //                 default an hour); it covers less while the data are
  //                 younger, down to minSpan (default a minute)
  //   opts.now      the right end of the x axis (default Date.now())
  function line(opts) {
    var W = 560, H = 200, L = 52, R = 12, T = 12, B = 44;
    var now = opts.now || Date.now();
    var maxSpan = opts.span || 3600 * 1000;
    var first = now;
    opts.series.forEach(function (s) {
      s.points.forEach(function (p) { if (p[0] < first && p[0] >= now - maxSpan) first = p[0]; });
    });
    var span = Math.max(opts.minSpan || 60 * 1000, Math.min(maxSpan, now - first));
    var x0 = now - span;
    var yMax = opts.yMax;
    var total = 0;
    if (!(yMax > 0)) {
      yMax = 0;
      opts.series.forEach(function (s) {
        s.points.forEach(function (p) { if (p[1] > yMax) yMax = p[1]; });
      });
      if (yMax <= 0) yMax = 1;
    }
    var fmt = opts.yFormat || function (v) { return String(Math.round(v * 100) / 100); };
    var sx = function (t) { return L + (W - L - R) * Math.max(0, Math.min(1, (t - x0) / span)); };
    var sy = function (v) { return T + (H - T - B) * (1 - Math.max(0, Math.min(1, v / yMax))); };

    var svg = svgEl("svg", {
      "class": "chart line-chart", viewBox: "0 0 " + W + " " + H, role: "img",
      "data-chart": opts.name, preserveAspectRatio: "xMidYMid meet"
    });
    svg.appendChild(svgEl("title", {}, opts.title || opts.name));
    // Grid and y labels.
    for (var i = 0; i <= 4; i++) {
      var v = yMax * i / 4;
      var y = sy(v);
      svg.appendChild(svgEl("line", { "class": "grid", x1: L, x2: W - R, y1: y, y2: y }));
      svg.appendChild(svgEl("text", { "class": "axis", x: L - 6, y: y + 4, "text-anchor": "end" }, fmt(v)));
    }
    // x labels: the span's ends and its middle.
    [x0, x0 + span / 2, now].forEach(function (t, k) {
      svg.appendChild(svgEl("text", {
        "class": "axis", x: sx(t), y: H - B + 16, "text-anchor": k === 0 ? "start" : k === 2 ? "end" : "middle"
      }, clock(t, span < 10 * 60 * 1000)));
    });
    opts.series.forEach(function (s, k) {
      var pts = s.points.filter(function (p) { return p[0] >= x0; });
      total += pts.length;
      var d = pts.map(function (p) { return sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1); }).join(" ");
      var g = svgEl("g", { "class": "series", "data-series": s.label, "data-points": pts.length });
      if (pts.length === 1) {
        g.appendChild(svgEl("circle", { cx: sx(pts[0][0]), cy: sy(pts[0][1]), r: 3, fill: s.color }));
      } else if (pts.length > 1) {
        g.appendChild(svgEl("polyline", { points: d, fill: "none", stroke: s.color, "stroke-width": 2 }));
      }
      svg.appendChild(g);
      // Legend.
      var lx = L + k * Math.floor((W - L) / opts.series.length);
      svg.appendChild(svgEl("rect", { x: lx, y: H - 16, width: 10, height: 10, fill: s.color }));
      var last = pts.length ? fmt(pts[pts.length - 1][1]) : "—";
      svg.appendChild(svgEl("text", { "class": "legend", x: lx + 14, y: H - 7 }, s.label + " " + last));
    });
    svg.setAttribute("data-points", String(total));
    return svg;
  }

  // bars draws one horizontal bar per item, its length the item's value
  // in [0, 1] (a share), labelled with the item's label and percentage.
  //   opts.name   data-chart attribute
  //   opts.title  accessible title
  //   opts.items  [{label, value, color, detail}]
  function bars(opts) {
    var W = 560, row = 24, L = 170, R = 56;
    var items = opts.items;
    var H = Math.max(1, items.length) * row + 8;
    var svg = svgEl("svg", {
      "class": "chart bar-chart", viewBox: "0 0 " + W + " " + H, role: "img",
      "data-chart": opts.name, "data-points": items.length
    });
    svg.appendChild(svgEl("title", {}, opts.title || opts.name));
    if (items.length === 0) {
      svg.appendChild(svgEl("text", { "class": "axis", x: 4, y: 18 }, "Nothing allocated."));
      return svg;
    }
    items.forEach(function (it, i) {
      var y = 4 + i * row;
      var share = Math.max(0, Math.min(1, it.value || 0));
      var g = svgEl("g", { "class": "bar", "data-label": it.label, "data-value": share.toFixed(4) });
      var label = it.label.length > 24 ? "…" + it.label.slice(-22) : it.label;
      g.appendChild(svgEl("title", {}, it.label + (it.detail ? " — " + it.detail : "")));
      g.appendChild(svgEl("text", { "class": "legend", x: L - 8, y: y + 15, "text-anchor": "end" }, label));
      g.appendChild(svgEl("rect", { "class": "track", x: L, y: y + 3, width: W - L - R, height: row - 8, rx: 3 }));
      g.appendChild(svgEl("rect", {
        x: L, y: y + 3, width: ((W - L - R) * share).toFixed(1), height: row - 8, rx: 3, fill: it.color || "#2f6fde"
      }));
      g.appendChild(svgEl("text", { "class": "legend", x: W - R + 6, y: y + 15 }, (share * 100).toFixed(1) + "%"));
      svg.appendChild(g);
    });
    return svg;
  }

  window.GomesosCharts = { line: line, bars: bars };
})();
