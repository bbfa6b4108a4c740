// The wrun dashboard: one page per hash route, each drawn from the head's
// JSON API (the same records `wrun list --json` prints) and redrawn every
// two seconds. Every figure carries a data-testid for the browser test.
"use strict";

const PAGE = 100; // rows a table shows, "Show more" adds as many
const limits = {}; // per table: how many rows it shows now
const cpuHistory = []; // [used, total] of the cluster, newest last
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

function table(id, cols, rows, total) {
  const head = cols.map((c) => `<th class="${c.num ? "num" : ""}">${esc(c.title)}</th>`).join("");
  const body = rows
    .map((r) => `<tr data-testid="${id}-row" data-id="${esc(r.id ?? "")}">` +
      cols.map((c) => `<td class="${c.num ? "num" : ""}" data-field="${c.key}">${c.show ? c.show(r) : esc(r[c.key])}</td>`).join("") +
      "</tr>")
    .join("");
  const more = total > rows.length
    ? `<div class="pager">showing <span data-testid="${id}-shown">${rows.length}</span> of <span data-testid="${id}-total">${total}</span> <button data-more="${id}">Show more</button></div>`
    : `<div class="pager muted"><span data-testid="${id}-total">${total}</span> in all</div>`;
  return `<table data-testid="${id}"><tr>${head}</tr>${body}</table>${more}`;
}

const limit = (id) => limits[id] || PAGE;
const query = (params) => new URLSearchParams(params).toString();
async function listed(kind, filters, id) {
  const q = [["limit", limit(id)], ...filters.map((f) => ["filter", f])];
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

function drawCpu() {
  const c = document.getElementById("cpu-chart");
  if (!c) return;
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const max = Math.max(1, ...cpuHistory.map((p) => p[1]));
  g.strokeStyle = "#3056d3";
  g.beginPath();
  cpuHistory.forEach(([used], i) => {
    const x = (i / 59) * c.width, y = c.height - (used / max) * (c.height - 4) - 2;
    i ? g.lineTo(x, y) : g.moveTo(x, y);
  });
  g.stroke();
}

const pages = {
  async overview() {
    const s = await api("/api/status");
    const alive = s.nodes.filter((n) => n.state === "alive");
    const total = alive.reduce((a, n) => a + (n.total.cpus || 0), 0);
    const free = alive.reduce((a, n) => a + (n.available.cpus || 0), 0);
    cpuHistory.push([total - free, total]);
    if (cpuHistory.length > 60) cpuHistory.shift();
    const running = s.jobs.filter((j) => j.state === "running").length;
    const tasks = await api("/api/summary/tasks");
    const runningTasks = tasks.reduce((a, r) => a + (r.states.running ?? 0), 0);
    const card = (id, v, k) => `<div class="card"><div class="v" data-testid="${id}">${esc(v)}</div><div class="k">${k}</div></div>`;
    return `<div class="cards">${card("nodes-alive", alive.length, "nodes alive")}${card("cpus-used", `${total - free}/${total}`, "CPUs in use")}` +
      `${card("jobs-running", running, "jobs running")}${card("tasks-running", runningTasks, "calls running")}` +
      `${card("jobs-kept", s.jobs.length, "jobs kept")}</div>` +
      `<h2>CPUs in use (last two minutes)</h2><canvas id="cpu-chart" width="600" height="90"></canvas>` +
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
      `<h2>Calls, newest first</h2>${table("job-tasks", taskCols, tasks.records, tasks.total)}` +
      `<h2>Actors</h2>${table("job-actors", actorCols, actors.records, actors.total)}` +
      `<h2>Logs (first ${logs.lines.length} lines)</h2><pre class="logs" data-testid="job-logs">${logs.lines.map((l) => esc(`[${l.task}] ${l.message}`)).join("\n")}</pre>`;
  },
  async nodes() {
    const s = await api("/api/status");
    const running = await listed("tasks", ["state=running"], "running");
    return `<h2>Nodes</h2>${table("nodes", nodeCols, s.nodes, s.nodes.length)}` +
      `<h2>Running now</h2>${table("running", taskCols, running.records, running.total)}`;
  },
  async actors() {
    const a = await listed("actors", [], "actors");
    const summary = await api("/api/summary/actors");
    return `<h2>Actors by class and state</h2>${summaryTable("actor-summary", summary)}` +
      `<h2>Actors</h2>${table("actors", actorCols, a.records, a.total)}`;
  },
  async objects() {
    const [m, o] = await Promise.all([api("/api/memory"), listed("objects", [], "objects")]);
    return `<h2>Memory by job and node</h2>${table("memory", memoryCols, m.map((r) => ({ ...r, id: `${r.job}@${r.node}` })), m.length)}` +
      `<h2>Objects</h2>${table("objects", objectCols, o.records, o.total)}`;
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
    const options = s.jobs.slice().reverse().map((j) => `<option value="${esc(j.id)}" ${j.id === job ? "selected" : ""}>${esc(j.id)} ${esc(j.name)}</option>`).join("");
    let lines = [];
    if (job) lines = (await api(`/api/jobs/${job}/logs?${query({ from: 0, limit: 2000, search })}`)).lines;
    return `<h2>Logs</h2><form id="log-form">job <select name="job">${options}</select> ` +
      `search <input name="search" value="${esc(search)}" data-testid="log-search"> <button>Show</button></form>` +
      `<p class="muted"><span data-testid="log-count">${lines.length}</span> lines</p>` +
      `<pre class="logs" data-testid="logs">${lines.map((l) => esc(`${l.n} [${l.task}] ${l.message}`)).join("\n")}</pre>`;
  },
};

async function render() {
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
    drawCpu();
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    main.dataset.ready = "error";
    main.innerHTML = `<p class="state-failed" data-testid="error">${esc(e.message)}</p>`;
  }
  document.querySelectorAll("header a").forEach((a) =>
    a.classList.toggle("active", a.dataset.page === (name === "job" ? "jobs" : name)));
}

document.addEventListener("click", (e) => {
  const id = e.target.dataset && e.target.dataset.more;
  if (id) { limits[id] = limit(id) + PAGE; render(); }
});
document.addEventListener("submit", (e) => {
  if (e.target.id !== "log-form") return;
  e.preventDefault();
  const f = new FormData(e.target);
  location.hash = `#/logs?${query({ job: f.get("job"), search: f.get("search") })}`;
});
window.addEventListener("hashchange", () => { document.getElementById("main").dataset.ready = "false"; render(); });
render();
// Live: every page but the logs (whose form one types in) redraws itself.
timer = setInterval(() => {
  if (document.getElementById("main").dataset.page !== "logs") render();
}, 2000);
