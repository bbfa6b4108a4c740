// The wrun dashboard: one page per hash route, each drawn from the head's
// JSON API (the same records `wrun list --json` prints) and redrawn every
// two seconds. Every figure carries a data-testid for the browser test.
"use strict";

const PAGE = 100; // rows a table shows, "Show more" adds as many
const limits = {}; // per table: how many rows it shows now
// Per paged table (tasks, actors, objects): the places its pages start
// after, the page shown last; a place comes from the head ("next"), so a
// page neither repeats nor skips rows however many come and go.
const places = {};
// The cluster's resources over the last two minutes, by name (cpus,
// memory, each custom resource, object store bytes): [used, total] pairs,
// newest last, sampled at each redraw of the overview.
const history = {};
const HISTORY = 60;
let timer = null;

const esc = (s) =>
  String(s ?? "-").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const size = (b) => {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return `${i ? b.toFixed(1) : b} ${u[i]}`;
};
const when = (ms) => (ms ? new Date(ms).toLocaleString() : "-");
const state = (s) => `<span class="state-${esc(s)}">${esc(s)}</span>`;

async function api(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/login"; throw new Error("logged out"); }
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

// A table of a page of records (`listed`), with buttons to the next page
// and back to the first.
function paged(id, cols, page) {
  const shown = places[id] || [];
  const nav = (shown.length ? `<button data-first="${id}">First page</button> ` : "") +
    (page.next ? `<button data-next="${id}" data-place="${esc(page.next)}">Next page</button>` : "");
  return table(id, cols, page.records, page.total, nav);
}

function table(id, cols, rows, total, nav) {
  const head = cols.map((c) => `<th class="${c.num ? "num" : ""}">${esc(c.title)}</th>`).join("");
  const body = rows
    .map((r) => `<tr data-testid="${id}-row" data-id="${esc(r.id ?? "")}">` +
      cols.map((c) => `<td class="${c.num ? "num" : ""}" data-field="${c.key}">${c.show ? c.show(r) : esc(r[c.key])}</td>`).join("") +
      "</tr>")
    .join("");
  const more = nav !== undefined
    ? `<div class="pager">showing <span data-testid="${id}-shown">${rows.length}</span> of <span data-testid="${id}-total">${total}</span>${(places[id] || []).length ? " from here" : ""} ${nav}</div>`
    : total > rows.length
    ? `<div class="pager">showing <span data-testid="${id}-shown">${rows.length}</span> of <span data-testid="${id}-total">${total}</span> <button data-more="${id}">Show more</button></div>`
    : `<div class="pager muted"><span data-testid="${id}-total">${total}</span> in all</div>`;
  return `<table data-testid="${id}"><tr>${head}</tr>${body}</table>${more}`;
}

const limit = (id) => limits[id] || PAGE;
const query = (params) => new URLSearchParams(params).toString();
async function listed(kind, filters, id) {
  const q = [["limit", PAGE], ...filters.map((f) => ["filter", f])];
  const after = (places[id] || []).at(-1);
  if (after) q.push(["after", after]);
  return api(`/api/list/${kind}?${new URLSearchParams(q)}`);
}

const jobCols = [
  { key: "id", title: "Job", show: (j) => `<a href="#/jobs/${esc(j.id)}">${esc(j.id)}</a>` },
  { key: "name", title: "Name" },
  { key: "state", title: "State", show: (j) => state(j.state) },
  { key: "node", title: "Driver's node" },
  { key: "submitted_ms", title: "Submitted", show: (j) => when(j.submitted_ms) },
  { key: "duration_ms", title: "Duration (ms)", num: true },
];
const nodeCols = [
  { key: "id", title: "Node" },
  { key: "state", title: "State", show: (n) => state(n.state) },
  { key: "address", title: "Address" },
  { key: "cpus", title: "CPUs free / total", show: (n) => {
      const t = n.total.cpus || 0, f = n.available.cpus || 0;
      const pct = t ? Math.round((100 * (t - f)) / t) : 0;
      return `<span data-testid="node-cpus">${f}/${t}</span> <span class="bar"><span style="width:${pct}%"></span></span>`;
    } },
  { key: "running_jobs", title: "Jobs", num: true },
  { key: "queued", title: "Queued", num: true },
  { key: "objects", title: "Objects", num: true },
  { key: "bytes_in_memory", title: "Object bytes", num: true, show: (n) => size(n.bytes_in_memory) },
];
const taskCols = [
  { key: "id", title: "Call" },
  { key: "name", title: "Name" },
  { key: "state", title: "State", show: (t) => state(t.state) },
  { key: "node", title: "Node" },
  { key: "ran_ms", title: "Ran (ms)", num: true },
  { key: "attempt", title: "Retries", num: true },
  { key: "why", title: "Waiting for / error", show: (t) => esc(t.waiting_for ?? t.error ?? "") },
];
const actorCols = [
  { key: "id", title: "Actor" },
  { key: "class", title: "Class" },
  { key: "name", title: "Name" },
  { key: "state", title: "State", show: (a) => state(a.state) },
  { key: "node", title: "Node" },
  { key: "job", title: "Job", show: (a) => `<a href="#/jobs/${esc(a.job)}">${esc(a.job)}</a>` },
  { key: "death", title: "Death" },
];
const objectCols = [
  { key: "id", title: "Object" },
  { key: "state", title: "State" },
  { key: "size", title: "Size", num: true, show: (o) => size(o.size) },
  { key: "refs", title: "Refs", num: true },
  { key: "node", title: "Node" },
  { key: "job", title: "Job" },
  { key: "spilled", title: "Spilled" },
];
const memoryCols = [
  { key: "job", title: "Job" },
  { key: "node", title: "Node" },
  { key: "objects", title: "Objects", num: true },
  { key: "in_memory_bytes", title: "In memory", num: true, show: (m) => size(m.in_memory_bytes) },
  { key: "spilled_bytes", title: "Spilled", num: true, show: (m) => size(m.spilled_bytes) },
  { key: "pending_objects", title: "Pending", num: true },
];

function summaryTable(id, rows) {
  const states = [...new Set(rows.flatMap((r) => Object.keys(r.states)))].sort();
  const cols = [{ key: "name", title: "Name" }, { key: "total", title: "Total", num: true },
    ...states.map((s) => ({ key: s, title: s, num: true, show: (r) => esc(r.states[s] ?? 0) }))];
  return table(id, cols, rows.map((r) => ({ ...r, id: r.name })), rows.length);
}

// Samples what the nodes alive use of each resource now.
function sample(alive) {
  const sums = {};
  const add = (k, used, total) => {
    const p = (sums[k] ||= [0, 0]);
    p[0] += used; p[1] += total;
  };
  for (const n of alive) {
    add("cpus", n.total.cpus - n.available.cpus, n.total.cpus);
    if (n.total.memory) add("memory", n.total.memory - n.available.memory, n.total.memory);
    for (const [k, t] of Object.entries(n.total.custom || {})) add(k, t - ((n.available.custom || {})[k] ?? 0), t);
    add("object store", n.bytes_in_memory || 0, 0);
  }
  for (const [k, p] of Object.entries(sums)) {
    const h = (history[k] ||= []);
    h.push(p);
    if (h.length > HISTORY) h.shift();
  }
}

const bytesLike = (k) => k === "memory" || k === "object store";
// CPUs, memory and the object store first, then custom resources by name.
const FIRST = ["cpus", "memory", "object store"];
const chartOrder = (a, b) => {
  const [i, j] = [FIRST.indexOf(a[0]), FIRST.indexOf(b[0])];
  return (i < 0 ? FIRST.length : i) - (j < 0 ? FIRST.length : j) || a[0].localeCompare(b[0]);
};
function charts() {
  return `<div class="charts">${Object.entries(history).sort(chartOrder).map(([k, h]) => {
    const [used, total] = h[h.length - 1];
    const now = bytesLike(k) ? size(used) + (total ? ` of ${size(total)}` : "") : `${+used.toFixed(2)} of ${total}`;
    return `<figure><figcaption>${esc(k)}: <span data-testid="chart-${esc(k)}">${esc(now)}</span></figcaption>` +
      `<canvas class="chart" data-resource="${esc(k)}" width="280" height="70"></canvas></figure>`;
  }).join("")}</div>`;
}

function drawCharts() {
  for (const c of document.querySelectorAll("canvas.chart")) {
    const h = history[c.dataset.resource] || [];
    const g = c.getContext("2d");
    g.clearRect(0, 0, c.width, c.height);
    const max = Math.max(1, ...h.map(([u, t]) => Math.max(u, t)));
    g.strokeStyle = "#3056d3";
    g.beginPath();
    h.forEach(([used], i) => {
      const x = (i / (HISTORY - 1)) * c.width, y = c.height - (used / max) * (c.height - 4) - 2;
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
  }
}

const pages = {
  async overview() {
    const s = await api("/api/status");
    const alive = s.nodes.filter((n) => n.state === "alive");
    const total = alive.reduce((a, n) => a + (n.total.cpus || 0), 0);
    const free = alive.reduce((a, n) => a + (n.available.cpus || 0), 0);
    sample(alive);
    const running = s.jobs.filter((j) => j.state === "running").length;
    const tasks = await api("/api/summary/tasks");
    const runningTasks = tasks.reduce((a, r) => a + (r.states.running ?? 0), 0);
    const card = (id, v, k) => `<div class="card"><div class="v" data-testid="${id}">${esc(v)}</div><div class="k">${k}</div></div>`;
    return `<div class="cards">${card("nodes-alive", alive.length, "nodes alive")}${card("cpus-used", `${total - free}/${total}`, "CPUs in use")}` +
      `${card("jobs-running", running, "jobs running")}${card("tasks-running", runningTasks, "calls running")}` +
      `${card("jobs-kept", s.jobs.length, "jobs kept")}</div>` +
      `<h2>Resources in use (last two minutes)</h2>${charts()}` +
      `<h2>Nodes</h2>${table("nodes", nodeCols, s.nodes, s.nodes.length)}` +
      `<h2>Recent jobs</h2>${table("recent-jobs", jobCols, s.jobs.slice(-10).reverse(), Math.min(10, s.jobs.length))}`;
  },
  async jobs() {
    const s = await api("/api/status");
    const jobs = s.jobs.slice().reverse();
    return `<h2>Jobs</h2>${table("jobs", jobCols, jobs.slice(0, limit("jobs")), jobs.length)}`;
  },
  async job(id) {
    const [j, summary, tasks, actors] = await Promise.all([
      api(`/api/jobs/${id}`), api(`/api/summary/tasks?${query({ job: id })}`),
      listed("tasks", [`job=${id}`], "job-tasks"), listed("actors", [`job=${id}`], "job-actors"),
    ]);
    const logs = await api(`/api/jobs/${id}/logs?${query({ from: 0, limit: 500 })}`);
    return `<h2>Job <span data-testid="job-id">${esc(j.id)}</span> (${esc(j.name)}): <span data-testid="job-state">${state(j.state)}</span></h2>` +
      `<p>on node ${esc(j.node)} · submitted ${when(j.submitted_ms)} · ${esc(j.duration_ms ?? "-")} ms · args ${esc(JSON.stringify(j.args))}` +
      ` · <a href="/api/jobs/${esc(id)}/timeline" download="timeline-${esc(id)}.json">timeline (Perfetto)</a></p>` +
      (j.detail ? `<p class="state-failed">${esc(j.detail)}</p>` : "") +
      `<h2>Calls by name and state</h2>${summaryTable("job-summary", summary)}` +
      `<h2>Calls, newest first</h2>${paged("job-tasks", taskCols, tasks)}` +
      `<h2>Actors</h2>${paged("job-actors", actorCols, actors)}` +
      `<h2>Logs (first ${logs.lines.length} lines)</h2><pre class="logs" data-testid="job-logs">${logs.lines.map((l) => esc(`[${l.task}] ${l.message}`)).join("\n")}</pre>`;
  },
  async nodes() {
    const s = await api("/api/status");
    const running = await listed("tasks", ["state=running"], "running");
    return `<h2>Nodes</h2>${table("nodes", nodeCols, s.nodes, s.nodes.length)}` +
      `<h2>Running now</h2>${paged("running", taskCols, running)}`;
  },
  async actors() {
    const a = await listed("actors", [], "actors");
    const summary = await api("/api/summary/actors");
    return `<h2>Actors by class and state</h2>${summaryTable("actor-summary", summary)}` +
      `<h2>Actors</h2>${paged("actors", actorCols, a)}`;
  },
  async objects() {
    const [m, o] = await Promise.all([api("/api/memory"), listed("objects", [], "objects")]);
    return `<h2>Memory by job and node</h2>${table("memory", memoryCols, m.map((r) => ({ ...r, id: `${r.job}@${r.node}` })), m.length)}` +
      `<h2>Objects</h2>${paged("objects", objectCols, o)}`;
  },
  async groups() {
    const s = await api("/api/status");
    const cols = [{ key: "id", title: "Group" }, { key: "strategy", title: "Strategy" },
      { key: "bundles", title: "Bundles", show: (g) => esc(JSON.stringify(g.bundles)) }];
    return `<h2>Placement groups</h2>${table("groups", cols, s.placement_groups, s.placement_groups.length)}`;
  },
  async logs() {
    const s = await api("/api/status");
    const params = new URLSearchParams(location.hash.split("?")[1] || "");
    const job = params.get("job") || (s.jobs.length ? s.jobs[s.jobs.length - 1].id : "");
    const search = params.get("search") || "";
    const follow = params.get("follow") === "1";
    const key = `${job}\n${search}`;
    if (logView.key !== key) Object.assign(logView, { key, job, search, lines: [], next: 0, full: false, dropped: 0 });
    if (job && logView.next === 0) await readLines();
    const options = s.jobs.slice().reverse().map((j) => `<option value="${esc(j.id)}" ${j.id === job ? "selected" : ""}>${esc(j.id)} ${esc(j.name)}</option>`).join("");
    return `<h2>Logs</h2><form id="log-form">job <select name="job">${options}</select> ` +
      `search <input name="search" value="${esc(search)}" data-testid="log-search"> ` +
      `<label><input type="checkbox" name="follow" value="1" data-testid="log-follow" ${follow ? "checked" : ""}> follow</label> <button>Show</button></form>` +
      `<p class="muted"><span data-testid="log-count">${logView.lines.length}</span> lines` +
      (logView.dropped ? `, the first ${logView.dropped} no longer shown` : "") +
      (logView.full && !follow ? ` <button data-more-lines="1">More lines</button>` : "") + `</p>` +
      `<pre class="logs" data-testid="logs">${logView.lines.map(lineText).join("\n")}</pre>`;
  },
};

// The logs page's lines: read from the head by line number, a page at a
// time, and, while "follow" is on, every second from where the last read
// stopped, so no line is shown twice or skipped.
const LOG_PAGE = 2000;
const LOG_KEPT = 20000; // lines a followed view keeps (the oldest go)
const logView = { key: "", job: "", search: "", lines: [], next: 0, full: false, dropped: 0 };
const lineText = (l) => esc(`${l.n} [${l.task}] ${l.message}`);

// One read at a time (following and a redraw may both ask): each starts
// where the last stopped.
let reading = Promise.resolve([]);
function readLines() {
  reading = reading.then(readOnce, readOnce);
  return reading;
}

async function readOnce() {
  const r = await api(`/api/jobs/${logView.job}/logs?${query({ from: logView.next, limit: LOG_PAGE, search: logView.search })}`);
  logView.lines.push(...r.lines);
  logView.next = r.next;
  logView.full = r.lines.length === LOG_PAGE;
  const over = logView.lines.length - LOG_KEPT;
  if (over > 0) { logView.lines.splice(0, over); logView.dropped += over; }
  return r.lines;
}

// Appends the lines written since the last read, without redrawing the
// page (the form keeps what one types).
async function followLogs() {
  const pre = document.querySelector('[data-testid="logs"]');
  if (!pre || !logView.job) return;
  const added = await readLines();
  if (!added.length) return;
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.insertAdjacentHTML("beforeend", (pre.textContent ? "\n" : "") + added.map(lineText).join("\n"));
  document.querySelector('[data-testid="log-count"]').textContent = logView.lines.length;
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

// One drawing at a time: the two-second redraw and a click or a change of
// page may ask at once, and pages keep state (the lines read so far) that
// two drawings at once would both add to.
let drawing = Promise.resolve();
let queued = 0; // drawings asked for and not done
function render() {
  queued++;
  drawing = drawing.then(draw, draw).finally(() => queued--);
  return drawing;
}

async function draw() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  let name = parts[0] || "overview";
  let arg;
  if (name === "jobs" && parts[1]) { name = "job"; arg = decodeURIComponent(parts[1]); }
  const main = document.getElementById("main");
  try {
    const html = await (pages[name] || pages.overview)(arg);
    main.innerHTML = html;
    main.dataset.page = name;
    main.dataset.ready = "true";
    drawCharts();
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    main.dataset.ready = "error";
    main.innerHTML = `<p class="state-failed" data-testid="error">${esc(e.message)}</p>`;
  }
  document.querySelectorAll("header a").forEach((a) =>
    a.classList.toggle("active", a.dataset.page === (name === "job" ? "jobs" : name)));
}

document.addEventListener("click", (e) => {
  const d = e.target.dataset || {};
  if (d.more) { limits[d.more] = limit(d.more) + PAGE; render(); }
  if (d.next) { places[d.next] = [...(places[d.next] || []), d.place]; render(); }
  if (d.first) { delete places[d.first]; render(); }
  if (d.moreLines) readLines().then(render);
});
document.addEventListener("change", (e) => {
  if (e.target.name === "follow") e.target.form.requestSubmit();
});
document.addEventListener("submit", (e) => {
  if (e.target.id !== "log-form") return;
  e.preventDefault();
  const f = new FormData(e.target);
  location.hash = `#/logs?${query({ job: f.get("job"), search: f.get("search"), follow: f.get("follow") || "0" })}`;
});
window.addEventListener("hashchange", () => {
  for (const id of Object.keys(places)) delete places[id];
  document.getElementById("main").dataset.ready = "false";
  render();
});
render();
// Live: every page but the logs (whose form one types in) redraws itself;
// followed logs grow every second.
timer = setInterval(() => {
  // A slow head does not pile drawings up: one at a time, none queued.
  if (queued === 0 && document.getElementById("main").dataset.page !== "logs") render();
}, 2000);
setInterval(() => {
  const following = document.querySelector('[data-testid="log-follow"]')?.checked;
  // In turn with drawings: a drawing of the page shows every line read
  // before it, and the lines read after are appended after it.
  if (queued === 0 && document.getElementById("main").dataset.page === "logs" && following) {
    queued++;
    drawing = drawing.then(followLogs, followLogs).catch(() => {}).finally(() => queued--);
  }
}, 1000);
