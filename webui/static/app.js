// gomesos web UI: polls the master's /master/state and renders it.
// No framework, no build step, no network access beyond the master and
// the slaves it names.
(function () {
  "use strict";

  var POLL_MS = 2000;
  // Slave state fetches that failed (no CORS, slave gone) are retried
  // only this often.
  var SLAVE_RETRY_MS = 30000;
  var TASK_STATES = ["staging", "starting", "running", "killing", "finished", "failed", "killed", "lost", "error"];

  var stateURL = document.body.getAttribute("data-state-url") || "/master/state";

  // The last master state rendered, and lookups built from it.
  var current = null;
  var slavesByID = {};
  // Per slave ID: {base, stateURL, ok, pending, fetchedAt, tasks, executors}.
  var sandboxes = {};

  // ---- small helpers ----

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null) return;
        if (k === "text") e.textContent = String(v);
        else if (k === "className") e.className = v;
        else e.setAttribute(k, String(v));
      });
    }
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

  function setText(id, text) {
    var e = document.getElementById(id);
    if (e) e.textContent = text;
  }

  function num(v) {
    return typeof v === "number" && isFinite(v) ? v : 0;
  }

  function fmtCPUs(v) {
    v = num(v);
    return String(Math.round(v * 100) / 100);
  }

  // Megabytes, as Mesos reports mem and disk.
  function fmtMB(v) {
    v = num(v);
    if (v >= 1024 * 1024) return (v / (1024 * 1024)).toFixed(1) + " TB";
    if (v >= 1024) return (v / 1024).toFixed(1) + " GB";
    return (Math.round(v * 10) / 10) + " MB";
  }

  // Seconds since the epoch (a float) to an ISO-like UTC string.
  function fmtTime(secs) {
    secs = num(secs);
    if (secs <= 0) return "—";
    var d = new Date(secs * 1000);
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function resourcesOf(obj, field) {
    var r = (obj && obj[field]) || {};
    return { cpus: num(r.cpus), mem: num(r.mem), disk: num(r.disk) };
  }

  function list(v) {
    return Array.isArray(v) ? v : [];
  }

  // "slave(1)@127.0.0.1:5051" -> {id: "slave(1)", addr: "127.0.0.1:5051"}.
  function parsePID(pid) {
    var m = /^([^@]+)@(.+)$/.exec(pid || "");
    if (!m) return null;
    return { id: m[1], addr: m[2] };
  }

  // The base URL of a slave's HTTP server, from its pid (or hostname when
  // the pid names no usable address).
  function slaveBase(slave) {
    var p = parsePID(slave.pid);
    if (!p) return null;
    var addr = p.addr;
    var i = addr.lastIndexOf(":");
    var host = i >= 0 ? addr.slice(0, i) : addr;
    if ((host === "0.0.0.0" || host === "") && slave.hostname && i >= 0) {
      addr = slave.hostname + addr.slice(i);
    }
    return { base: "http://" + addr, id: p.id };
  }

  // ---- error and notice banners ----

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

  function renderLeaderNotice(state) {
    var e = document.getElementById("not-leader");
    var leader = state.leader || "";
    if (leader && leader === state.pid) {
      if (e) e.parentNode.removeChild(e);
      return;
    }
    if (!e) {
      e = el("div", { id: "not-leader", className: "banner notice" });
      document.getElementById("banners").appendChild(e);
    }
    while (e.firstChild) e.removeChild(e.firstChild);
    if (!leader) {
      e.appendChild(document.createTextNode("This master is not the leader and knows of no leader."));
      return;
    }
    var p = parsePID(leader);
    e.appendChild(document.createTextNode("This master is not the leader. The leader is "));
    if (p) e.appendChild(el("a", { href: "http://" + p.addr + "/", text: leader }));
    else e.appendChild(document.createTextNode(leader));
    e.appendChild(document.createTextNode("."));
  }

  // ---- summary ----

  function allTasks(state) {
    var out = [];
    list(state.frameworks).concat(list(state.completed_frameworks)).forEach(function (f) {
      list(f.tasks).forEach(function (t) { out.push(t); });
      list(f.completed_tasks).forEach(function (t) { out.push(t); });
    });
    list(state.orphan_tasks).forEach(function (t) { out.push(t); });
    return out;
  }

  function renderSummary(state) {
    var cluster = state.cluster || "(unnamed)";
    setText("summary-cluster", cluster);
    setText("title-cluster", state.cluster ? "· " + state.cluster : "");
    document.title = state.cluster ? "gomesos · " + state.cluster : "gomesos";
    setText("summary-version", state.version || "—");
    setText("summary-leader", state.leader || "(none)");
    setText("summary-pid", state.pid || "—");
    setText("summary-start-time", fmtTime(state.start_time));
    setText("summary-elected-time", fmtTime(state.elected_time));
    setText("summary-activated-slaves", String(num(state.activated_slaves)));
    setText("summary-deactivated-slaves", String(num(state.deactivated_slaves)));
    setText("summary-frameworks", String(list(state.frameworks).length));
    setText("summary-completed-frameworks", String(list(state.completed_frameworks).length));

    var total = { cpus: 0, mem: 0, disk: 0 };
    var used = { cpus: 0, mem: 0, disk: 0 };
    list(state.slaves).forEach(function (s) {
      var t = resourcesOf(s, "resources");
      var u = resourcesOf(s, "used_resources");
      total.cpus += t.cpus; total.mem += t.mem; total.disk += t.disk;
      used.cpus += u.cpus; used.mem += u.mem; used.disk += u.disk;
    });
    setText("summary-cpus-total", fmtCPUs(total.cpus));
    setText("summary-cpus-used", fmtCPUs(used.cpus));
    setText("summary-mem-total", fmtMB(total.mem));
    setText("summary-mem-used", fmtMB(used.mem));
    setText("summary-disk-total", fmtMB(total.disk));
    setText("summary-disk-used", fmtMB(used.disk));

    var counts = {};
    TASK_STATES.forEach(function (s) { counts[s] = 0; });
    allTasks(state).forEach(function (t) {
      var s = String(t.state || "").replace(/^TASK_/, "").toLowerCase();
      if (s in counts) counts[s]++;
    });
    TASK_STATES.forEach(function (s) { setText("summary-tasks-" + s, String(counts[s])); });
  }

  // ---- tables ----

  function fillTable(id, rows, columns, emptyText) {
    var tbody = document.querySelector("#" + id + " tbody");
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    if (rows.length === 0) {
      tbody.appendChild(el("tr", { className: "empty" }, [el("td", { colspan: columns, text: emptyText })]));
      return;
    }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  function shortID(id) {
    id = String(id || "");
    return id.length > 24 ? "…" + id.slice(-20) : id;
  }

  function idCell(id) {
    return el("td", { className: "id", title: id, text: shortID(id) });
  }

  function renderFrameworks(state) {
    var rows = list(state.frameworks).map(function (f) {
      var u = resourcesOf(f, "used_resources");
      return el("tr", { className: "framework", "data-framework-id": f.id, "data-active": f.active ? "true" : "false" }, [
        idCell(f.id),
        td(f.name || ""),
        td(f.user || ""),
        td(f.role || ""),
        td(f.active ? "yes" : "no", { className: f.active ? "yes" : "no" }),
        td(String(list(f.tasks).length), { className: "num" }),
        td(fmtCPUs(u.cpus), { className: "num" }),
        td(fmtMB(u.mem), { className: "num" }),
        td(fmtTime(f.registered_time))
      ]);
    });
    fillTable("frameworks", rows, 9, "No frameworks.");

    var done = list(state.completed_frameworks).slice().reverse().map(function (f) {
      return el("tr", { className: "framework", "data-framework-id": f.id, "data-completed": "true" }, [
        idCell(f.id),
        td(f.name || ""),
        td(f.user || ""),
        td(f.role || ""),
        td(String(list(f.tasks).length + list(f.completed_tasks).length), { className: "num" }),
        td(fmtTime(f.registered_time)),
        td(fmtTime(f.unregistered_time))
      ]);
    });
    fillTable("completed-frameworks", done, 7, "No completed frameworks.");
  }

  function renderSlaves(state) {
    var rows = list(state.slaves).map(function (s) {
      var t = resourcesOf(s, "resources");
      var u = resourcesOf(s, "used_resources");
      return el("tr", { className: "slave", "data-slave-id": s.id, "data-active": s.active === false ? "false" : "true" }, [
        idCell(s.id),
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
    fillTable("slaves", rows, 9, "No slaves.");
  }

  // reservedText summarises a slave's reserved_resources: per role, its
  // CPUs, memory and disk ("analytics: 1 CPUs, 128 MB, 100 MB disk").
  function reservedText(s) {
    var byRole = s.reserved_resources || {};
    return Object.keys(byRole).sort().map(function (role) {
      var r = resourcesOf(byRole, role);
      return role + ": " + fmtCPUs(r.cpus) + " CPUs, " + fmtMB(r.mem) + ", " + fmtMB(r.disk) + " disk";
    }).join("; ");
  }

  function taskRow(t, frameworkNames, completed) {
    var r = resourcesOf(t, "resources");
    var slave = slavesByID[t.slave_id];
    var fname = frameworkNames[t.framework_id];
    var state = String(t.state || "");
    return el("tr", {
      className: "task " + (completed ? "completed-task" : "active-task"),
      "data-task-id": t.id,
      "data-state": state,
      "data-framework-id": t.framework_id,
      "data-slave-id": t.slave_id
    }, [
      el("td", { className: "id", title: t.id, text: t.id }),
      td(t.name || ""),
      el("td", {}, [el("span", { className: "state", "data-state": state, text: state.replace(/^TASK_/, "") })]),
      td(fname ? fname : shortID(t.framework_id), { title: t.framework_id }),
      td(slave ? slave.hostname || slave.id : shortID(t.slave_id), { title: t.slave_id }),
      td(fmtCPUs(r.cpus), { className: "num" }),
      td(fmtMB(r.mem), { className: "num" }),
      el("td", {}, [sandboxLink(t)])
    ]);
  }

  function renderTasks(state) {
    var names = {};
    list(state.frameworks).concat(list(state.completed_frameworks)).forEach(function (f) {
      names[f.id] = f.name;
    });
    var active = [];
    var completed = [];
    list(state.frameworks).forEach(function (f) {
      list(f.tasks).forEach(function (t) { active.push(t); });
      list(f.completed_tasks).forEach(function (t) { completed.push(t); });
    });
    list(state.completed_frameworks).forEach(function (f) {
      list(f.tasks).concat(list(f.completed_tasks)).forEach(function (t) { completed.push(t); });
    });
    // Newest completions first.
    completed.sort(function (a, b) { return lastTimestamp(b) - lastTimestamp(a); });
    fillTable("active-tasks", active.map(function (t) { return taskRow(t, names, false); }), 8, "No active tasks.");
    fillTable("completed-tasks", completed.map(function (t) { return taskRow(t, names, true); }), 8, "No completed tasks.");
  }

  function lastTimestamp(t) {
    var st = list(t.statuses);
    return st.length ? num(st[st.length - 1].timestamp) : 0;
  }

  // ---- sandboxes ----

  function sandboxEntry(slaveID) {
    var slave = slavesByID[slaveID];
    if (!slave) return null;
    var b = slaveBase(slave);
    if (!b) return null;
    var e = sandboxes[slaveID];
    if (!e || e.base !== b.base) {
      e = sandboxes[slaveID] = {
        base: b.base,
        stateURL: b.base + "/" + b.id + "/state",
        ok: false, failed: false, pending: null, fetchedAt: 0,
        tasks: {}, executors: {}
      };
    }
    return e;
  }

  function key(a, b) {
    return a + "\u0000" + b;
  }

  function directoryOf(e, t) {
    return e.tasks[key(t.framework_id, t.id)] ||
      e.executors[key(t.framework_id, t.executor_id || t.id)] || "";
  }

  function browseURL(e, dir) {
    return e.base + "/files/browse?path=" + encodeURIComponent(dir || "");
  }

  // sandbox describes the link for task t: {href, status} where status is
  // resolved (the executor's directory is known), pending (the slave's
  // state is being fetched), fallback (it could not be found) or
  // unavailable (the slave is unknown).
  function sandbox(t) {
    var e = sandboxEntry(t.slave_id);
    if (!e) return { href: null, status: "unavailable" };
    var dir = directoryOf(e, t);
    if (dir) return { href: browseURL(e, dir), status: "resolved", dir: dir };
    if (!e.ok && !e.failed) return { href: browseURL(e, ""), status: "pending" };
    return { href: browseURL(e, ""), status: "fallback" };
  }

  function sandboxLink(t) {
    var s = sandbox(t);
    if (!s.href) {
      return el("span", { className: "sandbox", "data-sandbox": s.status, title: "slave unknown", text: "—" });
    }
    return el("a", {
      className: "sandbox", href: s.href, target: "_blank", rel: "noopener",
      "data-sandbox": s.status, "data-task-id": t.id, "data-framework-id": t.framework_id,
      "data-slave-id": t.slave_id, title: s.dir || "sandbox directory not known", text: "Sandbox"
    });
  }

  function taskByLink(a) {
    var id = a.getAttribute("data-task-id");
    var fid = a.getAttribute("data-framework-id");
    var found = null;
    if (!current) return null;
    list(current.frameworks).concat(list(current.completed_frameworks)).forEach(function (f) {
      if (f.id !== fid) return;
      list(f.tasks).concat(list(f.completed_tasks)).forEach(function (t) {
        if (t.id === id) found = t;
      });
    });
    return found;
  }

  function updateSandboxLinks() {
    var links = document.querySelectorAll("a.sandbox");
    Array.prototype.forEach.call(links, function (a) {
      var t = taskByLink(a);
      if (!t) return;
      var s = sandbox(t);
      if (!s.href) return;
      a.href = s.href;
      a.setAttribute("data-sandbox", s.status);
      a.title = s.dir || "sandbox directory not known";
    });
  }

  function indexSlaveState(e, st) {
    var tasks = {};
    var executors = {};
    list(st.completed_frameworks).concat(list(st.frameworks)).forEach(function (f) {
      list(f.completed_executors).concat(list(f.executors)).forEach(function (x) {
        if (!x.directory) return;
        executors[key(f.id, x.id)] = x.directory;
        list(x.tasks).concat(list(x.queued_tasks), list(x.completed_tasks)).forEach(function (t) {
          tasks[key(f.id, t.id)] = x.directory;
        });
      });
    });
    e.tasks = tasks;
    e.executors = executors;
  }

  // fetchSandboxes fetches the state of slave e, once at a time, and
  // updates the links when it arrives.
  function fetchSandboxes(e) {
    if (e.pending) return e.pending;
    e.pending = fetch(e.stateURL, { cache: "no-store", mode: "cors" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (st) {
        indexSlaveState(e, st);
        e.ok = true;
        e.failed = false;
      }, function () {
        e.failed = true;
      })
      .then(function () {
        e.fetchedAt = Date.now();
        e.pending = null;
        updateSandboxLinks();
      });
    return e.pending;
  }

  // refreshSandboxes fetches, in the background, the state of each slave
  // that runs a task whose sandbox is not known yet.
  function refreshSandboxes(state) {
    var now = Date.now();
    var wanted = {};
    allTasks(state).forEach(function (t) {
      var e = sandboxEntry(t.slave_id);
      if (!e || directoryOf(e, t)) return;
      wanted[t.slave_id] = e;
    });
    Object.keys(wanted).forEach(function (id) {
      var e = wanted[id];
      var wait = e.failed ? SLAVE_RETRY_MS : POLL_MS;
      if (e.fetchedAt === 0 || now - e.fetchedAt >= wait) fetchSandboxes(e);
    });
  }

  // A click on a link whose directory is not known yet fetches the
  // slave's state first.
  document.addEventListener("click", function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest("a.sandbox") : null;
    if (!a || a.getAttribute("data-sandbox") === "resolved") return;
    var t = taskByLink(a);
    var e = t && sandboxEntry(t.slave_id);
    if (!e) return;
    ev.preventDefault();
    var w = window.open("about:blank", "_blank");
    if (w) w.opener = null;
    fetchSandboxes(e).then(function () {
      var url = sandbox(t).href || a.href;
      if (w) w.location.href = url;
      else window.location.href = url;
    });
  });

  // ---- polling ----

  function render(state) {
    current = state;
    slavesByID = {};
    list(state.slaves).forEach(function (s) { slavesByID[s.id] = s; });
    renderLeaderNotice(state);
    renderSummary(state);
    renderFrameworks(state);
    renderSlaves(state);
    renderTasks(state);
    setText("updated", "updated " + new Date().toLocaleTimeString());
    clearError();
    document.body.setAttribute("data-loaded", "true");
    refreshSandboxes(state);
  }

  function poll() {
    fetch(stateURL, { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status + " " + r.statusText);
        return r.json();
      })
      .then(render)
      .catch(function (err) {
        showError(err && err.message ? err.message : String(err));
      })
      .then(function () {
        setTimeout(poll, POLL_MS);
      });
  }

  poll();
})();
