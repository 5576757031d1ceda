// gomesos web UI: a single page with hash routes, as Mesos's UI has,
// rendered in plain JavaScript from the master's JSON endpoints
// (/master/state, /metrics/snapshot, /master/roles) and, for slaves,
// executors and sandboxes, from the slaves' own /state and /files
// endpoints (another origin: they answer with Access-Control-Allow-Origin).
//
// Routes:
//   #/                                   overview: resources, tasks, charts
//   #/frameworks                         active and completed frameworks
//   #/frameworks/<id>                    one framework: tasks, offers, executors
//   #/slaves                             slaves
//   #/slaves/<id>                        one slave: resources, frameworks, executors
//   #/slaves/<id>/frameworks/<fid>/executors/<eid>          one executor
//   #/slaves/<id>/frameworks/<fid>/executors/<eid>/browse   its sandbox
//   #/slaves/<id>/browse?path=<dir>      a sandbox directory
//   #/slaves/<id>/view?path=<file>       a file, followed as it grows
//   #/offers                             outstanding offers
//
// The page polls every POLL_MS while visible (not while the tab is
// hidden), and a master that does not lead sends the browser to the
// leader.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var FOLLOW_MS = 1000;
  var REDIRECT_MS = 1500;
  var HISTORY_MS = 3600 * 1000;
  var FILE_PAGE = 64 * 1024;
  var FILE_KEEP = 1024 * 1024; // characters of a followed file kept in the page
  var TASK_STATES = ["staging", "starting", "running", "killing", "finished", "failed", "killed", "lost", "error"];
  var ACTIVE_STATES = { staging: true, starting: true, running: true, killing: true };
  var COLORS = ["#2f6fde", "#1f8a4c", "#b7791f", "#c53030", "#805ad5", "#0f8b8d", "#d53f8c", "#718096"];
  var STATE_COLORS = {
    staging: "#b7791f", starting: "#d69e2e", running: "#1f8a4c", killing: "#dd6b20",
    finished: "#2f6fde", failed: "#c53030", killed: "#718096", lost: "#805ad5", error: "#9b2c2c"
  };

  var stateURL = document.body.getAttribute("data-state-url") || "/master/state";
  var view = document.getElementById("view");

  // What the last poll brought.
  var current = null;     // /master/state
  var metrics = null;     // /metrics/snapshot (null when it failed)
  var roleInfo = null;    // /master/roles (null when it failed)
  var slavesByID = {};
  var frameworksByID = {};
  var seenLeader = null;  // the leader of the previous poll
  var previousLeader = null;
  var polls = 0;
  var pollTimer = null;
  var polling = false;
  var redirectTimer = null;
  var masterLog = false; // whether this master serves /files/read?path=/master/log

  // Per slave id: {base, id, state, error, pending, fetchedAt}.
  var slaveStates = {};

  // The allocation and task history kept in the page: samples of
  // {t, cpusUsed, cpusTotal, cpusOffered, memUsed, memTotal, memOffered,
  // tasks: {state: n}} over the last hour, kept across reloads of the tab
  // in sessionStorage.
  var history = loadHistory();

  // ---- small helpers ----

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null) return;
      if (k === "text") e.textContent = String(v);
      else if (k === "className") e.className = v;
      else e.setAttribute(k, String(v));
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  function td(text, attrs) {
    attrs = attrs || {};
    attrs.text = text;
    return el("td", attrs);
  }

  function link(href, text, attrs) {
    attrs = attrs || {};
    attrs.href = href;
    attrs.text = text;
    return el("a", attrs);
  }

  function num(v) {
    return typeof v === "number" && isFinite(v) ? v : 0;
  }

  function list(v) {
    return Array.isArray(v) ? v : [];
  }

  function fmtCPUs(v) {
    return String(Math.round(num(v) * 100) / 100);
  }

  // Megabytes, as Mesos reports mem and disk.
  function fmtMB(v) {
    v = num(v);
    if (v >= 1024 * 1024) return (v / (1024 * 1024)).toFixed(1) + " TB";
    if (v >= 1024) return (v / 1024).toFixed(1) + " GB";
    return (Math.round(v * 10) / 10) + " MB";
  }

  function fmtBytes(v) {
    v = num(v);
    if (v >= 1024 * 1024 * 1024) return (v / (1024 * 1024 * 1024)).toFixed(1) + " GB";
    if (v >= 1024 * 1024) return (v / (1024 * 1024)).toFixed(1) + " MB";
    if (v >= 1024) return (v / 1024).toFixed(1) + " KB";
    return v + " B";
  }

  function fmtPercent(v) {
    return (num(v) * 100).toFixed(1) + "%";
  }

  // Seconds since the epoch (a float) to an ISO-like UTC string.
  function fmtTime(secs) {
    secs = num(secs);
    if (secs <= 0) return "—";
    return new Date(secs * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function fmtDuration(secs) {
    secs = Math.max(0, Math.floor(num(secs)));
    var d = Math.floor(secs / 86400), h = Math.floor(secs % 86400 / 3600);
    var m = Math.floor(secs % 3600 / 60), s = secs % 60;
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    if (m > 0) return m + "m " + s + "s";
    return s + "s";
  }

  function resourcesOf(obj, field) {
    var r = (obj && obj[field]) || {};
    return { cpus: num(r.cpus), mem: num(r.mem), disk: num(r.disk), ports: r.ports || "" };
  }

  function plus(a, b) {
    return { cpus: a.cpus + b.cpus, mem: a.mem + b.mem, disk: a.disk + b.disk };
  }

  function zero() {
    return { cpus: 0, mem: 0, disk: 0 };
  }

  // "slave(1)@127.0.0.1:5051" -> {id: "slave(1)", addr: "127.0.0.1:5051"}.
  function parsePID(pid) {
    var m = /^([^@]+)@(.+)$/.exec(pid || "");
    return m ? { id: m[1], addr: m[2] } : null;
  }

  function shortID(id) {
    id = String(id || "");
    return id.length > 24 ? "…" + id.slice(-20) : id;
  }

  function taskState(t) {
    return String(t.state || "").replace(/^TASK_/, "").toLowerCase();
  }

  function setText(id, text) {
    var e = document.getElementById(id);
    if (e) e.textContent = text;
  }

  function section(title, children, attrs) {
    return el("section", attrs || {}, [el("h2", { text: title })].concat(children));
  }

  function card(title, children, attrs) {
    attrs = attrs || {};
    attrs.className = "card" + (attrs.className ? " " + attrs.className : "");
    return el("div", attrs, [el("h2", { text: title })].concat(children));
  }

  // dl builds a definition list from [label, value, id] rows; a value may
  // be a node.
  function dl(rows, attrs) {
    var out = el("dl", attrs || {});
    rows.forEach(function (r) {
      out.appendChild(el("dt", { text: r[0] }));
      var dd = el("dd", { id: r[2] });
      if (r[1] && r[1].nodeType) dd.appendChild(r[1]);
      else dd.textContent = r[1] === undefined || r[1] === null || r[1] === "" ? "—" : String(r[1]);
      out.appendChild(dd);
    });
    return out;
  }

  // table builds a grid table; rows are <tr> elements.
  function table(id, headers, rows, emptyText) {
    var thead = el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { text: h }); }))]);
    var tbody = el("tbody");
    if (rows.length === 0) {
      tbody.appendChild(el("tr", { className: "empty" }, [el("td", { colspan: headers.length, text: emptyText })]));
    }
    rows.forEach(function (r) { tbody.appendChild(r); });
    return el("table", { id: id, className: "grid" }, [thead, tbody]);
  }

  function idCell(id, href) {
    var c = el("td", { className: "id", title: id });
    if (href) c.appendChild(link(href, shortID(id)));
    else c.textContent = shortID(id);
    return c;
  }

  function stateBadge(state) {
    state = String(state || "");
    return el("span", { className: "state", "data-state": state, text: state.replace(/^TASK_/, "") });
  }

  // ---- routing ----

  // route parses location.hash: {path: [segments], query: {k: v}}.
  function route() {
    var h = location.hash.replace(/^#/, "");
    var q = {};
    var i = h.indexOf("?");
    if (i >= 0) {
      h.slice(i + 1).split("&").forEach(function (kv) {
        if (!kv) return;
        var j = kv.indexOf("=");
        var k = decodeURIComponent(j >= 0 ? kv.slice(0, j) : kv);
        q[k] = j >= 0 ? decodeURIComponent(kv.slice(j + 1).replace(/\+/g, " ")) : "";
      });
      h = h.slice(0, i);
    }
    var path = h.split("/").filter(function (s) { return s !== ""; }).map(decodeURIComponent);
    return { path: path, query: q };
  }

  function enc(s) {
    return encodeURIComponent(s);
  }

  function frameworkHref(id) {
    return "#/frameworks/" + enc(id);
  }

  function slaveHref(id) {
    return "#/slaves/" + enc(id);
  }

  function executorHref(sid, fid, eid) {
    return "#/slaves/" + enc(sid) + "/frameworks/" + enc(fid) + "/executors/" + enc(eid);
  }

  function browseHref(sid, path) {
    return "#/slaves/" + enc(sid) + "/browse?path=" + enc(path);
  }

  function viewHref(sid, path) {
    return "#/slaves/" + enc(sid) + "/view?path=" + enc(path);
  }

  // The executor of a task: a command task runs under an executor named
  // after the task, as in Mesos.
  function executorOf(t) {
    return t.executor_id || t.id;
  }

  // ---- the page's pages ----

  // pages maps a route's first segment to its renderer; a renderer builds
  // the page into a fresh node from the current state.
  var pages = {
    "": renderOverview,
    frameworks: renderFrameworksPage,
    slaves: renderSlavesPage,
    offers: renderOffersPage,
    master: renderMasterSub
  };

  // generation counts page changes, so that a file follower or slave
  // fetch started for a page that is no longer shown stops.
  var generation = 0;
  var shownRoute = null;

  function renderRoute() {
    if (!current) return;
    var r = route();
    var key = location.hash;
    var fresh = key !== shownRoute;
    if (fresh) {
      generation++;
      shownRoute = key;
    }
    var name = r.path[0] || "";
    var page = pages[name];
    Array.prototype.forEach.call(document.querySelectorAll("#nav a"), function (a) {
      a.className = a.getAttribute("data-nav") === (name || "overview") ? "current" : "";
    });
    var node;
    if (!page) {
      node = notFound("No page " + location.hash + ".");
    } else {
      node = page(r);
    }
    if (node === null) return; // the page keeps itself up to date (file viewer)
    var scroll = window.scrollY;
    while (view.firstChild) view.removeChild(view.firstChild);
    view.setAttribute("data-page", node.getAttribute("data-page") || "unknown");
    while (node.firstChild) view.appendChild(node.firstChild);
    if (!fresh) window.scrollTo(0, scroll);
    else window.scrollTo(0, 0);
  }

  function pageNode(name, title, children) {
    return el("div", { "data-page": name }, [el("h1", { className: "page-title", text: title })].concat(children));
  }

  function notFound(msg) {
    return pageNode("not-found", "Not found", [el("p", { className: "banner error", text: msg })]);
  }

  // ---- overview ----

  function allTasks(state) {
    var out = [];
    list(state.frameworks).concat(list(state.completed_frameworks)).forEach(function (f) {
      list(f.tasks).forEach(function (t) { out.push(t); });
      list(f.completed_tasks).forEach(function (t) { out.push(t); });
    });
    list(state.orphan_tasks).forEach(function (t) { out.push(t); });
    return out;
  }

  function taskCounts(state) {
    var counts = {};
    TASK_STATES.forEach(function (s) { counts[s] = 0; });
    allTasks(state).forEach(function (t) {
      var s = taskState(t);
      if (s in counts) counts[s]++;
    });
    return counts;
  }

  // totals sums the slaves' resources: total, used, offered, and the
  // reserved resources per role.
  function totals(state) {
    var out = { total: zero(), used: zero(), offered: zero(), reserved: {} };
    list(state.slaves).forEach(function (s) {
      out.total = plus(out.total, resourcesOf(s, "resources"));
      out.used = plus(out.used, resourcesOf(s, "used_resources"));
      out.offered = plus(out.offered, resourcesOf(s, "offered_resources"));
      var byRole = s.reserved_resources || {};
      Object.keys(byRole).forEach(function (role) {
        out.reserved[role] = plus(out.reserved[role] || zero(), resourcesOf(byRole, role));
      });
    });
    return out;
  }

  // dominantShare is DRF's share: the largest fraction of any of the
  // cluster's cpus, mem and disk that alloc holds.
  function dominantShare(alloc, total) {
    var s = 0;
    ["cpus", "mem", "disk"].forEach(function (k) {
      if (total[k] > 0) s = Math.max(s, alloc[k] / total[k]);
    });
    return s;
  }

  // allocated is what a framework holds: used plus offered.
  function allocated(f) {
    return plus(resourcesOf(f, "used_resources"), resourcesOf(f, "offered_resources"));
  }

  function renderOverview() {
    var state = current;
    var tot = totals(state);
    var counts = taskCounts(state);
    var nowSecs = Date.now() / 1000;
    var uptime = metrics && typeof metrics["master/uptime_secs"] === "number" ?
      metrics["master/uptime_secs"] : (state.start_time ? nowSecs - state.start_time : 0);
    var leading = state.leader && state.leader === state.pid;
    var prevAddr = previousLeader ? (parsePID(previousLeader) || { addr: "" }).addr : "";
    var prev = previousLeader ? el("span", {}, [
      link(location.protocol + "//" + prevAddr + "/", previousLeader, { id: "previous-leader-link" }), " (",
      link(location.protocol + "//" + prevAddr + "/files/download?path=" + enc("/master/log"), "log", { id: "previous-leader-log" }), ")"
    ]) : null;

    var master = card("Master", [dl([
      ["Cluster", state.cluster || "(unnamed)", "summary-cluster"],
      ["Version", state.version, "summary-version"],
      ["Leader", state.leader || "(none)", "summary-leader"],
      ["PID", state.pid, "summary-pid"],
      ["Started", fmtTime(state.start_time), "summary-start-time"],
      ["Elected", fmtTime(state.elected_time), "summary-elected-time"],
      ["Leader uptime", leading ? fmtDuration(state.elected_time ? nowSecs - state.elected_time : uptime) : "—", "summary-leader-uptime"],
      ["Master uptime", fmtDuration(uptime), "summary-uptime"],
      ["Previous leader", prev || "(not seen)", "summary-previous-leader"],
      ["Log", masterLog ? link("#/master/log", "Follow the master's log", { id: "master-log" }) : "(not served: no --log_dir)", "summary-log"]
    ])]);
    var cluster = card("Cluster", [dl([
      ["Activated slaves", num(state.activated_slaves), "summary-activated-slaves"],
      ["Deactivated slaves", num(state.deactivated_slaves), "summary-deactivated-slaves"],
      ["Frameworks", list(state.frameworks).length, "summary-frameworks"],
      ["Completed frameworks", list(state.completed_frameworks).length, "summary-completed-frameworks"],
      ["Offers", countOffers(state), "summary-offers"]
    ])]);

    var idle = {
      cpus: Math.max(0, tot.total.cpus - tot.used.cpus - tot.offered.cpus),
      mem: Math.max(0, tot.total.mem - tot.used.mem - tot.offered.mem),
      disk: Math.max(0, tot.total.disk - tot.used.disk - tot.offered.disk)
    };
    var resRow = function (label, key, fmt) {
      return el("tr", {}, [
        el("th", { text: label }),
        td(fmt(tot.total[key]), { id: "summary-" + key + "-total" }),
        td(fmt(tot.used[key]), { id: "summary-" + key + "-used" }),
        td(fmt(tot.offered[key]), { id: "summary-" + key + "-offered" }),
        td(fmt(idle[key]), { id: "summary-" + key + "-idle" })
      ]);
    };
    var resources = card("Resources", [el("table", { className: "resources" }, [
      el("thead", {}, [el("tr", {}, [el("th"), el("th", { text: "Total" }), el("th", { text: "Used" }),
        el("th", { text: "Offered" }), el("th", { text: "Idle" })])]),
      el("tbody", {}, [resRow("CPUs", "cpus", fmtCPUs), resRow("Mem", "mem", fmtMB), resRow("Disk", "disk", fmtMB)])
    ])]);

    var roles = Object.keys(tot.reserved).sort();
    var reserved = card("Reserved", [roles.length === 0 ? el("p", { className: "muted", text: "No reservations." }) :
      el("table", { className: "resources", id: "summary-reserved" }, [
        el("thead", {}, [el("tr", {}, [el("th", { text: "Role" }), el("th", { text: "CPUs" }), el("th", { text: "Mem" }), el("th", { text: "Disk" })])]),
        el("tbody", {}, roles.map(function (role) {
          var r = tot.reserved[role];
          return el("tr", { "data-role": role }, [el("th", { text: role }), td(fmtCPUs(r.cpus)), td(fmtMB(r.mem)), td(fmtMB(r.disk))]);
        }))
      ])]);

    var tasks = card("Tasks", [dl(TASK_STATES.map(function (s) {
      return [s.charAt(0).toUpperCase() + s.slice(1), counts[s], "summary-tasks-" + s];
    }), { className: "task-counts" })]);

    var charts = el("section", { className: "charts" }, [
      card("Allocation (last hour)", [allocationChart()], { id: "chart-allocation" }),
      card("Tasks by state (last hour)", [tasksChart()], { id: "chart-tasks" }),
      card("Dominant share by role", [roleSharesChart(state, tot.total)], { id: "chart-roles" }),
      card("Dominant share by framework", [frameworkSharesChart(state, tot.total)], { id: "chart-frameworks" })
    ]);

    var names = frameworkNames(state);
    var active = [], completed = [];
    list(state.frameworks).forEach(function (f) {
      list(f.tasks).forEach(function (t) { active.push(t); });
      list(f.completed_tasks).forEach(function (t) { completed.push(t); });
    });
    list(state.completed_frameworks).forEach(function (f) {
      list(f.tasks).concat(list(f.completed_tasks)).forEach(function (t) { completed.push(t); });
    });
    completed.sort(function (a, b) { return lastTimestamp(b) - lastTimestamp(a); });

    return pageNode("overview", "Overview", [
      el("section", { id: "summary", "aria-label": "Cluster summary" }, [master, cluster, resources, reserved, tasks]),
      charts,
      section("Active tasks", [tasksTable("active-tasks", active, names, false)]),
      section("Completed tasks", [tasksTable("completed-tasks", completed.slice(0, 100), names, true)])
    ]);
  }

  function countOffers(state) {
    var n = 0;
    list(state.frameworks).forEach(function (f) { n += list(f.offers).length; });
    return n;
  }

  function frameworkNames(state) {
    var names = {};
    list(state.frameworks).concat(list(state.completed_frameworks)).forEach(function (f) { names[f.id] = f.name; });
    return names;
  }

  function lastTimestamp(t) {
    var st = list(t.statuses);
    return st.length ? num(st[st.length - 1].timestamp) : 0;
  }

  // ---- charts ----

  function series(label, color, pick) {
    return {
      label: label, color: color,
      points: history.map(function (s) { return [s.t, pick(s)]; })
    };
  }

  function allocationChart() {
    var ratio = function (u, t) { return t > 0 ? u / t : 0; };
    return window.GomesosCharts.line({
      name: "allocation", title: "CPU and memory allocated (used + offered) as a share of the cluster",
      yMax: 1, yFormat: function (v) { return Math.round(v * 100) + "%"; },
      series: [
        series("CPUs", COLORS[0], function (s) { return ratio(s.cpusUsed + s.cpusOffered, s.cpusTotal); }),
        series("Mem", COLORS[1], function (s) { return ratio(s.memUsed + s.memOffered, s.memTotal); }),
        series("CPUs used", COLORS[2], function (s) { return ratio(s.cpusUsed, s.cpusTotal); })
      ]
    });
  }

  function tasksChart() {
    var shown = ["running", "staging", "finished", "failed", "killed", "lost"];
    return window.GomesosCharts.line({
      name: "tasks", title: "Tasks in each state",
      series: shown.map(function (st) {
        return series(st, STATE_COLORS[st], function (s) { return num((s.tasks || {})[st]); });
      })
    });
  }

  function roleSharesChart(state, total) {
    var byRole = {};
    list(state.frameworks).forEach(function (f) {
      var role = f.role || "*";
      byRole[role] = plus(byRole[role] || zero(), allocated(f));
    });
    var weights = {};
    if (roleInfo) list(roleInfo.roles).forEach(function (r) { weights[r.name] = r.weight; });
    return window.GomesosCharts.bars({
      name: "role-shares", title: "Each role's dominant share of the cluster",
      items: Object.keys(byRole).sort().map(function (role, i) {
        var a = byRole[role];
        return {
          label: role, value: dominantShare(a, total), color: COLORS[i % COLORS.length],
          detail: fmtCPUs(a.cpus) + " CPUs, " + fmtMB(a.mem) + (weights[role] ? ", weight " + weights[role] : "")
        };
      })
    });
  }

  function frameworkSharesChart(state, total) {
    return window.GomesosCharts.bars({
      name: "framework-shares", title: "Each framework's dominant share of the cluster",
      items: list(state.frameworks).map(function (f, i) {
        var a = allocated(f);
        return {
          label: f.name || f.id, value: dominantShare(a, total), color: COLORS[i % COLORS.length],
          detail: f.id + ": " + fmtCPUs(a.cpus) + " CPUs, " + fmtMB(a.mem)
        };
      })
    });
  }

  // record adds a sample of the cluster to the history.
  function record(state) {
    var tot = totals(state);
    var m = metrics || {};
    var pick = function (name, fallback) { return typeof m[name] === "number" ? m[name] : fallback; };
    var now = Date.now();
    history.push({
      t: now,
      cpusTotal: pick("master/cpus_total", tot.total.cpus),
      cpusUsed: pick("master/cpus_used", tot.used.cpus),
      cpusOffered: tot.offered.cpus,
      memTotal: pick("master/mem_total", tot.total.mem),
      memUsed: pick("master/mem_used", tot.used.mem),
      memOffered: tot.offered.mem,
      tasks: taskCounts(state)
    });
    while (history.length && history[0].t < now - HISTORY_MS) history.shift();
    try {
      sessionStorage.setItem(historyKey(), JSON.stringify(history));
    } catch (e) { /* storage full or disabled: keep it in memory only */ }
  }

  function historyKey() {
    return "gomesos.history";
  }

  function loadHistory() {
    try {
      var h = JSON.parse(sessionStorage.getItem(historyKey()) || "[]");
      var since = Date.now() - HISTORY_MS;
      return Array.isArray(h) ? h.filter(function (s) { return s && s.t >= since; }) : [];
    } catch (e) {
      return [];
    }
  }

  // ---- tasks ----

  function tasksTable(id, tasks, names, completed, emptyText) {
    var rows = tasks.map(function (t) {
      var r = resourcesOf(t, "resources");
      var slave = slavesByID[t.slave_id];
      var state = String(t.state || "");
      var eid = executorOf(t);
      return el("tr", {
        className: "task " + (completed ? "completed-task" : "active-task"),
        "data-task-id": t.id, "data-state": state,
        "data-framework-id": t.framework_id, "data-slave-id": t.slave_id
      }, [
        el("td", { className: "id", title: t.id, text: t.id }),
        td(t.name || ""),
        el("td", {}, [stateBadge(state)]),
        el("td", { title: t.framework_id }, [link(frameworkHref(t.framework_id), names[t.framework_id] || shortID(t.framework_id))]),
        el("td", { title: t.slave_id }, [slave ? link(slaveHref(t.slave_id), slave.hostname || shortID(t.slave_id)) : document.createTextNode(shortID(t.slave_id))]),
        td(fmtCPUs(r.cpus), { className: "num" }),
        td(fmtMB(r.mem), { className: "num" }),
        el("td", {}, [slave ? link(executorHref(t.slave_id, t.framework_id, eid) + "/browse", "Sandbox", {
          className: "sandbox", "data-task-id": t.id, "data-framework-id": t.framework_id,
          "data-slave-id": t.slave_id, "data-executor-id": eid
        }) : el("span", { className: "sandbox muted", text: "—", title: "slave unknown" })])
      ]);
    });
    return table(id, ["ID", "Name", "State", "Framework", "Slave", "CPUs", "Mem", "Sandbox"], rows,
      emptyText || (completed ? "No completed tasks." : "No active tasks."));
  }

  // ---- frameworks ----

  function renderFrameworksPage(r) {
    if (r.path.length >= 2) return renderFramework(r.path[1]);
    var state = current;
    var total = totals(state).total;
    var rows = list(state.frameworks).map(function (f) {
      var u = resourcesOf(f, "used_resources");
      return el("tr", { className: "framework", "data-framework-id": f.id, "data-active": f.active ? "true" : "false" }, [
        idCell(f.id, frameworkHref(f.id)),
        td(f.name || ""),
        td(f.hostname || ""),
        td(f.user || ""),
        td(f.role || ""),
        td(f.active ? "yes" : "no", { className: f.active ? "yes" : "no" }),
        td(String(list(f.tasks).length), { className: "num" }),
        td(String(list(f.offers).length), { className: "num" }),
        td(fmtCPUs(u.cpus), { className: "num" }),
        td(fmtMB(u.mem), { className: "num" }),
        td(fmtPercent(dominantShare(allocated(f), total)), { className: "num share" }),
        td(fmtTime(f.registered_time))
      ]);
    });
    var done = list(state.completed_frameworks).slice().reverse().map(function (f) {
      return el("tr", { className: "framework", "data-framework-id": f.id, "data-completed": "true" }, [
        idCell(f.id, frameworkHref(f.id)),
        td(f.name || ""),
        td(f.user || ""),
        td(f.role || ""),
        td(String(list(f.tasks).length + list(f.completed_tasks).length), { className: "num" }),
        td(fmtTime(f.registered_time)),
        td(fmtTime(f.unregistered_time))
      ]);
    });
    return pageNode("frameworks", "Frameworks", [
      section("Active frameworks", [table("frameworks", ["ID", "Name", "Host", "User", "Role", "Active", "Tasks", "Offers", "CPUs", "Mem", "Share", "Registered"], rows, "No frameworks.")]),
      section("Completed frameworks", [table("completed-frameworks", ["ID", "Name", "User", "Role", "Tasks", "Registered", "Unregistered"], done, "No completed frameworks.")])
    ]);
  }

  function renderFramework(id) {
    var f = frameworksByID[id];
    if (!f) return notFound("No framework " + id + " is known to this master.");
    var total = totals(current).total;
    var u = resourcesOf(f, "used_resources");
    var o = resourcesOf(f, "offered_resources");
    var names = {};
    names[f.id] = f.name;
    var details = card("Framework", [dl([
      ["ID", f.id, "framework-id"],
      ["Name", f.name, "framework-name"],
      ["User", f.user],
      ["Role", f.role],
      ["Principal", f.principal],
      ["Host", f.hostname],
      ["PID", f.pid],
      // Only http(s) links: a framework's webui_url is not trusted.
      ["Web UI", /^https?:\/\//i.test(f.webui_url || "") ? link(f.webui_url, f.webui_url, { rel: "noopener noreferrer" }) : f.webui_url || ""],
      ["Active", f.active === undefined ? "no (completed)" : f.active ? "yes" : "no"],
      ["Checkpoint", f.checkpoint ? "yes" : "no"],
      ["Failover timeout", f.failover_timeout ? fmtDuration(f.failover_timeout) : "0s"],
      ["Registered", fmtTime(f.registered_time)],
      ["Re-registered", fmtTime(f.reregistered_time)],
      ["Unregistered", fmtTime(f.unregistered_time)]
    ])]);
    var res = card("Resources", [el("table", { className: "resources" }, [
      el("thead", {}, [el("tr", {}, [el("th"), el("th", { text: "Used" }), el("th", { text: "Offered" })])]),
      el("tbody", {}, [
        el("tr", {}, [el("th", { text: "CPUs" }), td(fmtCPUs(u.cpus), { id: "framework-cpus-used" }), td(fmtCPUs(o.cpus))]),
        el("tr", {}, [el("th", { text: "Mem" }), td(fmtMB(u.mem)), td(fmtMB(o.mem))]),
        el("tr", {}, [el("th", { text: "Disk" }), td(fmtMB(u.disk)), td(fmtMB(o.disk))])
      ])
    ]), dl([["Dominant share", fmtPercent(dominantShare(allocated(f), total)), "framework-share"]])]);
    var executors = list(f.executors).map(function (x) {
      var r = resourcesOf(x, "resources");
      return el("tr", { className: "executor", "data-executor-id": x.executor_id }, [
        el("td", { className: "id" }, [link(executorHref(x.slave_id, f.id, x.executor_id), x.executor_id)]),
        td(x.name || ""),
        el("td", {}, [link(slaveHref(x.slave_id), hostOf(x.slave_id))]),
        td(fmtCPUs(r.cpus), { className: "num" }),
        td(fmtMB(r.mem), { className: "num" })
      ]);
    });
    return pageNode("framework", "Framework " + (f.name || f.id), [
      el("section", { className: "cards" }, [details, res]),
      section("Active tasks", [tasksTable("framework-tasks", list(f.tasks), names, false)]),
      section("Offers", [offersTable("framework-offers", list(f.offers))]),
      section("Executors", [table("framework-executors", ["ID", "Name", "Slave", "CPUs", "Mem"], executors, "No custom executors.")]),
      section("Completed tasks", [tasksTable("framework-completed-tasks", list(f.completed_tasks).slice().reverse(), names, true)])
    ]);
  }

  function hostOf(slaveID) {
    var s = slavesByID[slaveID];
    return s ? s.hostname || shortID(slaveID) : shortID(slaveID);
  }

  // ---- offers ----

  function offersTable(id, offers) {
    var rows = offers.map(function (o) {
      var r = resourcesOf(o, "resources");
      var f = frameworksByID[o.framework_id];
      return el("tr", { className: "offer", "data-offer-id": o.id, "data-framework-id": o.framework_id, "data-slave-id": o.slave_id }, [
        idCell(o.id),
        el("td", {}, [link(frameworkHref(o.framework_id), f ? f.name || shortID(f.id) : shortID(o.framework_id))]),
        el("td", {}, [link(slaveHref(o.slave_id), hostOf(o.slave_id))]),
        td(fmtCPUs(r.cpus), { className: "num" }),
        td(fmtMB(r.mem), { className: "num" }),
        td(fmtMB(r.disk), { className: "num" }),
        td(r.ports)
      ]);
    });
    return table(id, ["ID", "Framework", "Slave", "CPUs", "Mem", "Disk", "Ports"], rows, "No outstanding offers.");
  }

  function renderOffersPage() {
    var offers = [];
    list(current.frameworks).forEach(function (f) { offers = offers.concat(list(f.offers)); });
    return pageNode("offers", "Offers", [section("Outstanding offers", [offersTable("offers", offers)])]);
  }

  // ---- the master's log ----

  function renderMasterSub(r) {
    if (r.path[1] !== "log") return notFound("No page " + location.hash + ".");
    var own = { base: location.protocol + "//" + location.host };
    return renderViewer(null, own, "/master/log");
  }

  // checkMasterLog asks once whether this master serves its log.
  function checkMasterLog() {
    fetch("/files/read?path=" + enc("/master/log") + "&offset=-1", { cache: "no-store" })
      .then(function (r) { masterLog = r.ok; }, function () { masterLog = false; })
      .then(function () { if (masterLog) renderRoute(); });
  }

  // ---- slaves ----

  function reservedText(s) {
    var byRole = s.reserved_resources || {};
    return Object.keys(byRole).sort().map(function (role) {
      var r = resourcesOf(byRole, role);
      return role + ": " + fmtCPUs(r.cpus) + " CPUs, " + fmtMB(r.mem) + ", " + fmtMB(r.disk) + " disk";
    }).join("; ");
  }

  function renderSlavesPage(r) {
    if (r.path.length >= 2) return renderSlaveSub(r);
    var rows = list(current.slaves).map(function (s) {
      var t = resourcesOf(s, "resources");
      var u = resourcesOf(s, "used_resources");
      return el("tr", { className: "slave", "data-slave-id": s.id, "data-active": s.active === false ? "false" : "true" }, [
        idCell(s.id, slaveHref(s.id)),
        td(s.hostname || ""),
        td(s.pid || "", { className: "pid" }),
        td(fmtCPUs(u.cpus) + " / " + fmtCPUs(t.cpus), { className: "num" }),
        td(fmtMB(u.mem) + " / " + fmtMB(t.mem), { className: "num" }),
        td(fmtMB(u.disk) + " / " + fmtMB(t.disk), { className: "num" }),
        td(reservedText(s), { className: "reserved" }),
        td(s.active === false ? "no" : "yes", { className: s.active === false ? "no" : "yes" }),
        td(fmtTime(s.registered_time))
      ]);
    });
    return pageNode("slaves", "Slaves", [
      section("Slaves", [table("slaves", ["ID", "Host", "PID", "CPUs", "Mem", "Disk", "Reserved", "Active", "Registered"], rows, "No slaves.")])
    ]);
  }

  function renderSlaveSub(r) {
    var sid = r.path[1];
    var s = slavesByID[sid];
    if (!s) return notFound("No slave " + sid + " is known to this master.");
    var entry = slaveEntry(s);
    if (!entry) return notFound("Slave " + sid + " has no usable address (" + s.pid + ").");
    var rest = r.path.slice(2);
    if (rest.length === 0) return renderSlave(s, entry);
    if (rest[0] === "browse") return renderBrowse(s, entry, r.query.path || "");
    if (rest[0] === "view") return renderViewer(s, entry, r.query.path || "");
    if (rest[0] === "frameworks" && rest[2] === "executors" && rest.length >= 4) {
      return renderExecutor(s, entry, rest[1], rest[3], rest[4] === "browse");
    }
    return notFound("No page " + location.hash + ".");
  }

  // slaveEntry returns the cache entry for slave s's own endpoints.
  function slaveEntry(s) {
    var p = parsePID(s.pid);
    if (!p) return null;
    var addr = p.addr;
    var i = addr.lastIndexOf(":");
    var host = i >= 0 ? addr.slice(0, i) : addr;
    if ((host === "0.0.0.0" || host === "") && s.hostname && i >= 0) addr = s.hostname + addr.slice(i);
    var base = location.protocol + "//" + addr;
    var e = slaveStates[s.id];
    if (!e || e.base !== base) {
      e = slaveStates[s.id] = { base: base, id: p.id, state: null, error: null, pending: null, fetchedAt: 0 };
    }
    return e;
  }

  // fetchSlave fetches a slave's /state in the background (one fetch at a
  // time, at most once per poll) and renders the page again when it comes.
  function fetchSlave(e) {
    if (e.pending || (e.fetchedAt && Date.now() - e.fetchedAt < POLL_MS / 2)) return;
    var gen = generation;
    e.pending = fetch(e.base + "/" + e.id + "/state", { cache: "no-store", mode: "cors" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status + " " + r.statusText);
        return r.json();
      })
      .then(function (st) { e.state = st; e.error = null; },
        function (err) { e.error = (err && err.message) || String(err); })
      .then(function () {
        e.fetchedAt = Date.now();
        e.pending = null;
        if (gen === generation) renderRoute();
      });
  }

  // slaveNotice says what is known of a slave's own state while it is
  // being fetched or could not be.
  function slaveNotice(e) {
    if (e.error) {
      return el("p", { className: "banner error", id: "slave-error" }, [
        "Cannot read " + e.base + "/" + e.id + "/state: " + e.error + ". ",
        link(e.base + "/" + e.id + "/state", "Open it directly")
      ]);
    }
    return el("p", { className: "muted", id: "slave-pending", text: "Fetching the slave's state…" });
  }

  function renderSlave(s, e) {
    fetchSlave(e);
    var t = resourcesOf(s, "resources"), u = resourcesOf(s, "used_resources"), o = resourcesOf(s, "offered_resources");
    var attrs = s.attributes || {};
    var details = card("Slave", [dl([
      ["ID", s.id, "slave-id"],
      ["Host", s.hostname, "slave-hostname"],
      ["PID", s.pid],
      ["Version", s.version],
      ["Active", s.active === false ? "no" : "yes"],
      ["Registered", fmtTime(s.registered_time)],
      ["Attributes", Object.keys(attrs).sort().map(function (k) { return k + ":" + attrs[k]; }).join("; ")]
    ])]);
    var row = function (label, key, fmt) {
      return el("tr", {}, [el("th", { text: label }), td(fmt(t[key]), { id: "slave-" + key + "-total" }), td(fmt(u[key])), td(fmt(o[key]))]);
    };
    var res = card("Resources", [el("table", { className: "resources" }, [
      el("thead", {}, [el("tr", {}, [el("th"), el("th", { text: "Total" }), el("th", { text: "Used" }), el("th", { text: "Offered" })])]),
      el("tbody", {}, [row("CPUs", "cpus", fmtCPUs), row("Mem", "mem", fmtMB), row("Disk", "disk", fmtMB)])
    ]), dl([["Ports", t.ports], ["Reserved", reservedText(s) || "none"]])]);

    var children = [el("section", { className: "cards" }, [details, res])];
    if (e.state) {
      var execRows = [];
      var fwRows = [];
      var addFrameworks = function (fws, completed) {
        list(fws).forEach(function (f) {
          var execs = list(f.executors).map(function (x) { return [x, false]; })
            .concat(list(f.completed_executors).map(function (x) { return [x, true]; }));
          fwRows.push(el("tr", { className: "slave-framework", "data-framework-id": f.id }, [
            idCell(f.id, frameworkHref(f.id)), td(f.name || ""), td(f.user || ""), td(f.role || ""),
            td(String(list(f.executors).length), { className: "num" }), td(completed ? "completed" : "active")
          ]));
          execs.forEach(function (xc) {
            var x = xc[0], r = resourcesOf(x, "resources");
            execRows.push(el("tr", { className: "executor", "data-executor-id": x.id, "data-framework-id": f.id, "data-completed": xc[1] ? "true" : "false" }, [
              el("td", { className: "id" }, [link(executorHref(s.id, f.id, x.id), x.id)]),
              td(x.name || ""),
              el("td", {}, [link(frameworkHref(f.id), f.name || shortID(f.id))]),
              td(String(list(x.tasks).length), { className: "num" }),
              td(String(list(x.queued_tasks).length), { className: "num" }),
              td(String(list(x.completed_tasks).length), { className: "num" }),
              td(fmtCPUs(r.cpus), { className: "num" }),
              td(fmtMB(r.mem), { className: "num" }),
              el("td", {}, [x.directory ? link(browseHref(s.id, x.directory), "Sandbox", { className: "sandbox", "data-executor-id": x.id }) : document.createTextNode("—")])
            ]));
          });
        });
      };
      addFrameworks(e.state.frameworks, false);
      addFrameworks(e.state.completed_frameworks, true);
      children.push(section("Frameworks", [table("slave-frameworks", ["ID", "Name", "User", "Role", "Executors", "State"], fwRows, "No frameworks on this slave.")]));
      children.push(section("Executors", [table("slave-executors", ["ID", "Name", "Framework", "Tasks", "Queued", "Completed", "CPUs", "Mem", "Sandbox"], execRows, "No executors on this slave.")]));
    } else {
      children.push(slaveNotice(e));
    }
    var names = frameworkNames(current);
    var tasks = allTasks(current).filter(function (x) { return x.slave_id === s.id && ACTIVE_STATES[taskState(x)]; });
    children.push(section("Active tasks", [tasksTable("slave-tasks", tasks, names, false)]));
    children.push(el("p", {}, [link(e.base + "/files/read?path=/slave/log&offset=0", "Slave log (raw)", { className: "muted" }), " · ",
      link(viewHref(s.id, "/slave/log"), "Follow the slave's log", { id: "slave-log" })]));
    return pageNode("slave", "Slave " + (s.hostname || s.id), children);
  }

  // findExecutor looks an executor up in a slave's state.
  function findExecutor(st, fid, eid) {
    var found = null;
    list(st.frameworks).concat(list(st.completed_frameworks)).forEach(function (f) {
      if (f.id !== fid) return;
      list(f.executors).forEach(function (x) { if (x.id === eid && !found) found = { f: f, x: x, completed: false }; });
      list(f.completed_executors).forEach(function (x) { if (x.id === eid && !found) found = { f: f, x: x, completed: true }; });
    });
    return found;
  }

  function renderExecutor(s, e, fid, eid, browse) {
    fetchSlave(e);
    if (!e.state) {
      return pageNode("executor", "Executor " + eid, [slaveNotice(e)]);
    }
    var found = findExecutor(e.state, fid, eid);
    if (!found) return notFound("Slave " + s.id + " knows no executor " + eid + " of framework " + fid + ".");
    if (browse && found.x.directory) {
      location.replace(browseHref(s.id, found.x.directory)); // renders the listing on hashchange
      return null;
    }
    var x = found.x;
    var r = resourcesOf(x, "resources");
    var names = {};
    names[fid] = found.f.name;
    var withIDs = function (ts) {
      return list(ts).map(function (t) {
        var c = Object.assign({}, t);
        c.framework_id = c.framework_id || fid;
        c.slave_id = c.slave_id || s.id;
        c.executor_id = c.executor_id || eid;
        return c;
      });
    };
    var details = card("Executor", [dl([
      ["ID", x.id, "executor-id"],
      ["Name", x.name],
      ["Framework", link(frameworkHref(fid), found.f.name || fid)],
      ["Slave", link(slaveHref(s.id), s.hostname || s.id)],
      ["Source", x.source],
      ["Container", x.container],
      ["State", found.completed ? "completed" : "running"],
      ["CPUs", fmtCPUs(r.cpus)],
      ["Mem", fmtMB(r.mem)],
      ["Sandbox", x.directory ? link(browseHref(s.id, x.directory), x.directory, { id: "executor-sandbox", className: "sandbox" }) : "—"]
    ])]);
    return pageNode("executor", "Executor " + x.id, [
      el("section", { className: "cards" }, [details]),
      section("Tasks", [tasksTable("executor-tasks", withIDs(x.tasks), names, false)]),
      section("Queued tasks", [tasksTable("executor-queued-tasks", withIDs(x.queued_tasks), names, false, "No queued tasks.")]),
      section("Completed tasks", [tasksTable("executor-completed-tasks", withIDs(x.completed_tasks), names, true)])
    ]);
  }

  // ---- sandbox browser ----

  // sandboxRoot returns the executor directory that contains path, from
  // the slave's state, or "".
  function sandboxRoot(e, path) {
    var root = "";
    if (!e.state) return root;
    list(e.state.frameworks).concat(list(e.state.completed_frameworks)).forEach(function (f) {
      list(f.executors).concat(list(f.completed_executors)).forEach(function (x) {
        var d = x.directory || "";
        if (d && (path === d || path.indexOf(d + "/") === 0) && d.length > root.length) root = d;
      });
    });
    return root;
  }

  // breadcrumbs links each directory from the sandbox root down to path.
  function breadcrumbs(sid, e, path, lastIsFile) {
    fetchSlave(e);
    var root = sandboxRoot(e, path);
    var nav = el("nav", { className: "breadcrumbs", id: "breadcrumbs" });
    var start = root || "";
    var parts = path.slice(start.length).split("/").filter(function (p) { return p !== ""; });
    nav.appendChild(link(browseHref(sid, start || "/"), root ? "sandbox" : (start || "/")));
    var cur = start;
    parts.forEach(function (p, i) {
      cur += "/" + p;
      nav.appendChild(document.createTextNode(" / "));
      if (i === parts.length - 1 && lastIsFile) nav.appendChild(el("span", { text: p }));
      else nav.appendChild(link(browseHref(sid, cur), p));
    });
    return nav;
  }

  // listing caches the last directory listing: {key, entries, error}.
  var listing = { key: null, entries: null, error: null, pending: false, fetchedAt: 0 };

  function fetchListing(e, path) {
    var key = e.base + "\u0000" + path;
    if (listing.pending || (listing.key === key && Date.now() - listing.fetchedAt < POLL_MS / 2)) return;
    if (listing.key !== key) listing = { key: key, entries: null, error: null, pending: false, fetchedAt: 0 };
    var l = listing;
    l.pending = true;
    var gen = generation;
    fetch(e.base + "/files/browse?path=" + enc(path), { cache: "no-store", mode: "cors" })
      .then(function (r) {
        if (!r.ok) {
          return r.text().then(function (t) { throw new Error("HTTP " + r.status + ": " + t.trim()); });
        }
        return r.json();
      })
      .then(function (entries) { l.entries = list(entries); l.error = null; },
        function (err) { l.error = (err && err.message) || String(err); })
      .then(function () {
        l.pending = false;
        l.fetchedAt = Date.now();
        if (gen === generation && listing === l) renderRoute();
      });
  }

  function renderBrowse(s, e, path) {
    fetchListing(e, path);
    var children = [breadcrumbs(s.id, e, path, false)];
    if (listing.key !== e.base + "\u0000" + path || (!listing.entries && !listing.error)) {
      children.push(el("p", { className: "muted", text: "Listing " + path + "…" }));
    } else if (listing.error) {
      children.push(el("p", { className: "banner error", id: "browse-error" }, [
        "Cannot list " + path + ": " + listing.error + ". ",
        link(e.base + "/files/browse?path=" + enc(path), "Open the slave's listing directly")
      ]));
    } else {
      var rows = listing.entries.slice().sort(function (a, b) {
        var da = String(a.mode || "").charAt(0) === "d", db = String(b.mode || "").charAt(0) === "d";
        if (da !== db) return da ? -1 : 1;
        return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
      }).map(function (f) {
        var name = String(f.path).split("/").pop();
        var dir = String(f.mode || "").charAt(0) === "d";
        return el("tr", { className: "file", "data-name": name, "data-dir": dir ? "true" : "false" }, [
          td(f.mode || "", { className: "pid" }),
          td(String(f.nlink === undefined ? "" : f.nlink), { className: "num" }),
          td(f.uid || ""),
          td(f.gid || ""),
          td(fmtBytes(f.size), { className: "num" }),
          td(f.mtime ? fmtTime(f.mtime) : ""),
          el("td", {}, [dir ? link(browseHref(s.id, f.path), name + "/", { className: "dir" }) :
            link(viewHref(s.id, f.path), name, { className: "view" })]),
          el("td", {}, [dir ? null : link(e.base + "/files/download?path=" + enc(f.path), "Download", { className: "download" })])
        ]);
      });
      children.push(table("files", ["Mode", "Links", "UID", "GID", "Size", "Modified", "Name", ""], rows, "Empty directory."));
    }
    return pageNode("browse", "Sandbox of slave " + (s.hostname || s.id), children);
  }

  // ---- file viewer (tail -f through /files/read) ----

  function utf8Length(s) {
    return typeof TextEncoder === "function" ? new TextEncoder().encode(s).length : s.length;
  }

  // renderViewer shows file path of slave s (null: of this master) whose
  // endpoints e.base serves.
  function renderViewer(s, e, path) {
    var existing = document.getElementById("file-data");
    if (existing && existing.getAttribute("data-path") === path && view.getAttribute("data-page") === "file") {
      // The follower keeps the page up to date; refresh the breadcrumbs only.
      var bc = document.getElementById("breadcrumbs");
      if (bc && s) bc.parentNode.replaceChild(breadcrumbs(s.id, e, path, true), bc);
      return null;
    }
    var pre = el("pre", { id: "file-data", className: "file-data", "data-path": path, "data-offset": "0" });
    var follow = el("input", { type: "checkbox", id: "file-follow", checked: "checked" });
    var status = el("span", { id: "file-status", className: "muted", text: "loading…" });
    var node = pageNode("file", s ? path.split("/").pop() || path : "Master log", [
      s ? breadcrumbs(s.id, e, path, true) : el("nav", { className: "breadcrumbs", id: "breadcrumbs", text: path }),
      el("div", { className: "file-tools" }, [
        el("label", {}, [follow, " Follow"]), " ",
        link(e.base + "/files/download?path=" + enc(path), "Download", { className: "download" }), " ",
        status
      ]),
      pre
    ]);
    followFile(e, path, pre, follow, status);
    return node;
  }

  // followFile reads path from its last page on, and then, while the
  // follow box is ticked and the page is shown, whatever is appended.
  function followFile(e, path, pre, follow, status) {
    var gen = generation;
    var offset = -1;
    var url = function (off, len) {
      return e.base + "/files/read?path=" + enc(path) + "&offset=" + off + (len ? "&length=" + len : "");
    };
    var read = function (off, len) {
      return fetch(url(off, len), { cache: "no-store", mode: "cors" }).then(function (r) {
        if (!r.ok) return r.text().then(function (t) { throw new Error("HTTP " + r.status + ": " + t.trim()); });
        return r.json();
      });
    };
    var schedule = function (ms) {
      setTimeout(step, ms);
    };
    var step = function () {
      if (gen !== generation) return; // the page changed
      if (document.hidden || (offset >= 0 && !follow.checked)) {
        schedule(FOLLOW_MS);
        return;
      }
      var p = offset < 0 ? read(-1).then(function (r) {
        offset = Math.max(0, num(r.offset) - FILE_PAGE);
        return read(offset, FILE_PAGE);
      }) : read(offset, FILE_PAGE);
      p.then(function (r) {
        if (gen !== generation) return;
        var data = String(r.data || "");
        if (data.length > 0) {
          var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
          var text = pre.textContent + data;
          if (text.length > FILE_KEEP) text = text.slice(text.length - FILE_KEEP);
          pre.textContent = text;
          offset = num(r.offset) + utf8Length(data);
          if (follow.checked && atBottom) window.scrollTo(0, document.body.scrollHeight);
        }
        pre.setAttribute("data-offset", String(offset));
        status.textContent = fmtBytes(offset) + " read" + (follow.checked ? ", following" : "");
        status.className = "muted";
        // A full page means more is waiting: read on at once.
        schedule(utf8Length(data) >= FILE_PAGE ? 0 : FOLLOW_MS);
      }, function (err) {
        if (gen !== generation) return;
        status.textContent = "Cannot read " + path + ": " + ((err && err.message) || err) + " (retrying)";
        status.className = "error-text";
        schedule(FOLLOW_MS * 3);
      });
    };
    step();
  }

  // ---- leader redirect ----

  function renderLeaderNotice(state) {
    var e = document.getElementById("not-leader");
    var leader = state.leader || "";
    if (leader && leader === state.pid) {
      if (e) e.parentNode.removeChild(e);
      if (redirectTimer) { clearTimeout(redirectTimer); redirectTimer = null; }
      return;
    }
    if (!e) {
      e = el("div", { id: "not-leader", className: "banner notice" });
      document.getElementById("banners").appendChild(e);
    }
    while (e.firstChild) e.removeChild(e.firstChild);
    if (!leader) {
      e.appendChild(document.createTextNode("This master is not the leader and knows of no leader yet."));
      return;
    }
    var p = parsePID(leader);
    if (!p) {
      e.appendChild(document.createTextNode("This master is not the leader. The leader is " + leader + "."));
      return;
    }
    var target = location.protocol + "//" + p.addr + "/" + location.hash;
    e.appendChild(document.createTextNode("This master is not the leader. Redirecting to the leading master "));
    e.appendChild(link(target, leader, { id: "leader-link" }));
    e.appendChild(document.createTextNode("…"));
    if (!redirectTimer) {
      redirectTimer = setTimeout(function () { location.href = target; }, REDIRECT_MS);
    }
  }

  // ---- polling ----

  function showError(msg) {
    var banners = document.getElementById("banners");
    var e = document.getElementById("error");
    if (!e) {
      e = el("div", { id: "error", className: "banner error", role: "alert" });
      banners.insertBefore(e, banners.firstChild);
    }
    e.textContent = "Failed to fetch " + stateURL + ": " + msg + " (retrying every " + POLL_MS / 1000 + " s)";
    document.body.setAttribute("data-error", "true");
    setText("updated", "update failed at " + new Date().toLocaleTimeString());
  }

  function clearError() {
    var e = document.getElementById("error");
    if (e) e.parentNode.removeChild(e);
    document.body.removeAttribute("data-error");
  }

  function getJSON(url) {
    return fetch(url, { cache: "no-store", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status + " " + r.statusText);
      return r.json();
    });
  }

  function apply(state) {
    current = state;
    slavesByID = {};
    frameworksByID = {};
    list(state.slaves).forEach(function (s) { slavesByID[s.id] = s; });
    list(state.completed_frameworks).concat(list(state.frameworks)).forEach(function (f) { frameworksByID[f.id] = f; });
    if (state.leader && seenLeader && state.leader !== seenLeader) previousLeader = seenLeader;
    if (state.leader) seenLeader = state.leader;
    var cluster = state.cluster || "";
    setText("title-cluster", cluster ? "· " + cluster : "");
    document.title = cluster ? "gomesos · " + cluster : "gomesos";
    renderLeaderNotice(state);
    record(state);
    renderRoute();
    polls++;
    setText("updated", "updated " + new Date().toLocaleTimeString());
    clearError();
    document.body.setAttribute("data-loaded", "true");
    document.body.setAttribute("data-polls", String(polls));
  }

  function poll() {
    clearTimeout(pollTimer);
    pollTimer = null;
    if (document.hidden) {
      // Paused while the tab is hidden; visibilitychange resumes it.
      document.body.setAttribute("data-paused", "true");
      return;
    }
    document.body.removeAttribute("data-paused");
    if (polling) return;
    polling = true;
    var optional = function (url) {
      return getJSON(url).then(null, function () { return null; });
    };
    Promise.all([getJSON(stateURL), optional("/metrics/snapshot"), optional("/master/roles")])
      .then(function (got) {
        metrics = got[1];
        roleInfo = got[2];
        apply(got[0]);
      })
      .catch(function (err) {
        showError(err && err.message ? err.message : String(err));
      })
      .then(function () {
        polling = false;
        pollTimer = setTimeout(poll, POLL_MS);
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !pollTimer && !polling) poll();
  });
  window.addEventListener("hashchange", renderRoute);

  checkMasterLog();
  poll();
})();
