// The dashboard: start chains and watch them live, jobs and their batches, the queue, the
// archive and costs. Plain ES modules, no build step; live updates over /ws (live.js).

import { ApiError, describe, json, request, send, token } from "./api.js";
import { Live } from "./live.js";
import { escapeHtml as esc, renderMarkdown } from "./md.js";

const $ = (id) => document.getElementById(id);
const ICONS = { done: "✔", running: "◐", pending: "○", skipped: "–", stopped: "■" };
const state = { chainId: null, chain: null, fetchedAt: 0, job: null, tab: "chains", starting: false, open: {} };
const timers = {};
const tickets = {};

// The answer to the latest request for `key`, or null when a later one was sent meanwhile: answers
// can come back out of order, and an older one (a chain still running) must not overwrite a newer
// one (the chain done) that no later event would ever correct.
async function latest(key, path) {
  const ticket = (tickets[key] = (tickets[key] || 0) + 1);
  const body = await json(path);
  return ticket === tickets[key] ? body : null;
}

function later(key, fn, ms) {
  // Many events in a burst → one refresh.
  clearTimeout(timers[key]);
  timers[key] = setTimeout(() => fn().catch(report), ms);
}

function report(error) {
  if (error instanceof ApiError && error.status === 404) return;
  toast(error instanceof ApiError ? describe(error) : String(error));
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(timers.toast);
  timers.toast = setTimeout(() => (box.hidden = true), 5000);
}

const usd = (n) => (n === null || n === undefined ? "–" : `$${Number(n).toFixed(Math.abs(n) < 0.01 ? 6 : 4)}`);
const when = (t) => (t ? new Date(t * 1000).toLocaleTimeString() : "");
const seconds = (s) => (s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`);

// -- command ---------------------------------------------------------------------------------

async function startChain(event) {
  event.preventDefault();
  const command = $("command").value.trim();
  const error = $("command-error");
  error.hidden = true;
  if (!command) {
    error.textContent = "Type a command first.";
    error.hidden = false;
    return;
  }
  $("start").disabled = true;
  state.starting = true;
  try {
    const body = {
      command,
      broadcast: $("scope-broadcast").checked,
      realtime: $("mode-realtime").checked,
      origin: "web",
    };
    const started = await send("/chains", "POST", body);
    await selectChain(started.id);
    later("chains", refreshChains, 100);
  } catch (e) {
    // The error is shown here; the chain view is left as it was (nothing stays "starting").
    error.textContent = e instanceof ApiError ? describe(e) : String(e);
    error.hidden = false;
  } finally {
    $("start").disabled = false;
    state.starting = false;
  }
}

// -- the live chain view ---------------------------------------------------------------------

async function selectChain(id) {
  state.chainId = id;
  await refreshChain();
}

async function refreshChain() {
  if (!state.chainId) return;
  const chain = await latest("chain", `/chains/${encodeURIComponent(state.chainId)}`);
  if (!chain || chain.id !== state.chainId) return;
  state.chain = chain;
  state.fetchedAt = performance.now();
  renderChain(chain);
}

function renderChain(chain) {
  $("chain-empty").hidden = true;
  $("chain-body").hidden = false;
  $("chain-view").dataset.status = chain.status;
  $("chain-view").dataset.chain = chain.id;
  $("chain-command").textContent = chain.command;
  $("chain-id").textContent = chain.id;
  const badge = $("chain-status");
  badge.textContent = chain.status === "running" ? `running · ${chain.step}` : chain.status;
  badge.className = `badge ${chain.status}`;
  $("chain-mode").textContent = `${chain.broadcast ? "broadcast" : "one department"} · ${chain.realtime ? "realtime" : "batch"}`;
  const departments = chain.departments.length ? chain.departments.join(", ") : "to be classified";
  $("chain-route").textContent = `→ ${departments}${chain.route_method ? ` (${chain.route_method})` : ""}`;
  $("chain-cost").textContent = usd(chain.cost_usd);
  $("chain-realtime").textContent = usd(chain.realtime_cost_usd);
  const pct = chain.realtime_cost_usd ? ` (${Math.round((100 * chain.saving_usd) / chain.realtime_cost_usd)}%)` : "";
  $("chain-saving").textContent = usd(chain.saving_usd) + pct;
  tick();
  // each step's state is the server's (GET /chains/{id} → ladder), not worked out here
  $("steps").innerHTML = chain.ladder
    .map(({ step: name, state: s }) => {
      return `<li class="step ${s}" data-step="${name}" data-state="${s}" title="${name}: ${s}"><span class="icon">${ICONS[s] || "○"}</span>${name}</li>`;
    })
    .join("");
  // While the chain runs, the agents of its last two steps stay in view (earlier ones fold
  // up); once it is done the report comes first. A group the user opened or closed stays so.
  const groups = chain.steps.filter((s) => s.items.length);
  const recent = groups.slice(-2).map((s) => s.step);
  const open = (step) => state.open[`${chain.id}:${step}`] ?? (chain.status === "running" && recent.includes(step));
  $("step-details").innerHTML = groups.map((s) => renderStep(s, open(s.step))).join("");
  // Why a chain stopped or failed, unless its report already says it.
  const problem = chain.status !== "running" && chain.error && !(chain.report || "").includes(chain.error);
  $("chain-error").hidden = !problem;
  $("chain-error").textContent = problem ? chain.error : "";
  const box = $("report-box");
  box.hidden = !chain.report;
  if (chain.report) $("report").innerHTML = renderMarkdown(chain.report);
}

function renderStep(step, open) {
  const working = step.items.filter((i) => i.status === "working").length;
  const failed = step.items.filter((i) => !["working", "succeeded", "done"].includes(i.status)).length;
  const summary = `${step.items.length} agent(s)` + (working ? ` · ${working} working` : "") + (failed ? ` · ${failed} failed` : "");
  const cards = step.items.map(renderItem).join("");
  return `<details class="step-group" data-step="${esc(step.step)}" ${open ? "open" : ""}><summary><h4>${esc(step.step)} <small>${summary}</small></h4></summary><div class="agents">${cards}</div></details>`;
}

function renderItem(item) {
  const content = item.content || item.error || "";
  // The preview is plain text: Markdown marks left out (the full text below is rendered).
  const preview = content.replace(/(^|\s)(#{1,6}|&gt;|>)\s/g, "$1").replace(/\*\*|`/g, "").replace(/\s+/g, " ").trim();
  const body = content
    ? `<details><summary>${esc(preview.slice(0, 140))}${preview.length > 140 ? "…" : ""}</summary><div class="markdown">${renderMarkdown(content)}</div></details>`
    : `<div class="muted">${item.status === "working" ? "working…" : ""}</div>`;
  return `<div class="agent ${esc(item.status)}" data-agent="${esc(item.agent)}" data-status="${esc(item.status)}">
    <div class="agent-head"><span class="agent-name">${esc(item.agent_name)}</span><span class="agent-status">${esc(item.status)}</span></div>
    <div class="agent-meta">${esc(item.department || "")} · ${esc(item.model)}${item.cost_usd ? ` · ${usd(item.cost_usd)}` : ""}</div>
    ${body}</div>`;
}

function tick() {
  const chain = state.chain;
  if (!chain) return;
  const extra = chain.status === "running" ? (performance.now() - state.fetchedAt) / 1000 : 0;
  $("chain-elapsed").textContent = seconds(chain.elapsed_s + extra);
}

// -- lists -----------------------------------------------------------------------------------

async function refreshChains() {
  const chains = await latest("chains", "/chains?limit=30");
  if (!chains) return;
  $("chains-list").innerHTML = chains
    .map(
      (c) => `<tr data-chain="${esc(c.id)}" class="${c.id === state.chainId ? "selected" : ""}">
      <td class="mono">${esc(c.id)}</td><td class="wrap">${esc(c.command.slice(0, 80))}</td>
      <td><span class="badge ${esc(c.status)}">${esc(c.status === "running" ? `${c.step}…` : c.status)}</span>
      <div class="muted small">${c.broadcast ? "broadcast" : "single"} · ${c.realtime ? "realtime" : "batch"}</div></td>
      <td>${usd(c.cost_usd)}</td><td>${seconds(c.elapsed_s)}</td></tr>`,
    )
    .join("");
  if (!state.chainId && chains.length) await selectChain(chains[0].id);
}

async function refreshJobs() {
  const jobs = await latest("jobs", "/jobs?limit=30");
  if (!jobs) return;
  $("jobs-list").innerHTML = jobs.map(renderJob).join("") || `<p class="muted">No jobs yet.</p>`;
  if (state.job) await refreshJob(state.job);
}

function renderJob(job) {
  const providers = Object.entries(job.by_provider)
    .map(([name, c]) => {
      const ok = c.requests ? (100 * c.succeeded) / c.requests : 0;
      const bad = c.requests ? (100 * c.failed) / c.requests : 0;
      const canceled = c.canceled || 0; // grey, not red: a cancel is the user's choice, not a failure
      const off = c.requests ? (100 * canceled) / c.requests : 0;
      return `<div class="provider" data-provider="${esc(name)}"><span>${esc(name)}</span>
        <div class="bar"><div class="ok" style="width:${ok}%"></div><div class="bad" style="width:${bad}%"></div><div class="canceled" style="width:${off}%" title="${canceled} canceled"></div></div>
        <span class="muted">${c.succeeded + c.failed + canceled}/${c.requests}</span>${c.cut ? `<span class="cut" title="answers cut at max_output_tokens">${c.cut} cut</span>` : ""}</div>`;
    })
    .join("");
  return `<div class="job ${job.id === state.job ? "selected" : ""}" data-job="${esc(job.id)}">
    <div class="job-head"><span class="mono">${esc(job.id)}</span><span class="badge ${esc(job.status)}">${esc(job.status)}</span>
    <span class="muted">${esc(job.label || job.source)}</span><span>${job.finished}/${job.total}</span><span>${usd(job.cost_usd)}</span></div>
    ${providers}</div>`;
}

async function refreshJob(id) {
  state.job = id;
  const job = await latest("job", `/jobs/${encodeURIComponent(id)}`);
  if (!job) return;
  const rows = job.batch_list
    .map(
      (b) => `<tr><td class="mono">${esc(b.remote_id || b.id)}</td><td>${esc(b.provider)}</td><td>${esc(b.model || "(mixed)")}</td>
      <td>${esc(b.raw_status || b.status)}</td><td>${b.done_count + b.failed_count}/${b.request_count}</td><td>${b.poll_count}</td></tr>`,
    )
    .join("");
  const link = `/jobs/${encodeURIComponent(id)}/results`;
  const detail = $("job-detail");
  detail.hidden = false;
  detail.innerHTML = `<h4>${esc(job.id)} <a id="job-download" href="${link}" download="${esc(id)}-results.jsonl">Download results (JSONL)</a></h4>
    <table class="list"><thead><tr><th>batch</th><th>provider</th><th>model</th><th>status</th><th>done</th><th>polls</th></tr></thead><tbody>${rows}</tbody></table>
    <div id="job-results"></div>`;
  await showResults(link);
}

async function firstLines(response, count) {
  // Read the JSONL stream only as far as the preview needs (a job may have 100,000 lines).
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let lines = [];
  while (lines.length <= count) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    lines = text.split("\n");
  }
  reader.cancel().catch(() => {});
  return lines.filter(Boolean).slice(0, count);
}

async function showResults(link) {
  const lines = (await firstLines(await request(link), 100)).map((l) => JSON.parse(l));
  $("job-results").innerHTML = `<table class="list results"><thead><tr><th>custom_id</th><th>status</th><th>model</th><th>content</th><th>cost</th></tr></thead><tbody>${lines
    .map(
      (r) => `<tr><td class="mono">${esc(r.custom_id)}</td><td>${esc(r.status)}</td><td>${esc(r.model || "")}</td>
      <td class="wrap">${esc((r.content || r.error?.message || "").slice(0, 160))}</td><td>${usd(r.cost_usd)}</td></tr>`,
    )
    .join("")}</tbody></table>`;
}

async function download(event) {
  // With a token the browser cannot add the header to a plain link: fetch, then save.
  if (!token()) return;
  event.preventDefault();
  const link = event.target;
  const blob = await (await request(link.getAttribute("href"))).blob();
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: link.getAttribute("download") });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function refreshQueue() {
  const queue = await latest("queue", "/queue");
  if (!queue) return;
  $("queue-count").textContent = queue.requests;
  $("queue-badge").textContent = queue.requests;
  $("queue-age").textContent = queue.oldest_at ? `(oldest since ${when(queue.oldest_at)})` : "";
  $("queue-list").innerHTML = queue.jobs
    .map(
      (j) => `<tr data-job="${esc(j.id)}"><td class="mono">${esc(j.id)}</td><td>${esc(j.label || "")}</td><td>${j.total}</td><td>${when(j.created_at)}</td></tr>`,
    )
    .join("");
}

async function upload(inputId, path) {
  const file = $(inputId).files[0];
  if (!file) throw new Error("choose a JSONL file first");
  const form = new FormData();
  form.append("file", file);
  const done = await send(path, "POST", form);
  $(inputId).value = "";
  return done;
}

function queueMessage(text) {
  const box = $("queue-message");
  box.textContent = text;
  box.hidden = false;
}

async function queueAction(action) {
  try {
    if (action === "add") {
      const r = await upload("queue-file", "/queue/upload");
      queueMessage(`${r.total} request(s) queued as ${r.job_id}`);
    } else if (action === "flush") {
      const r = await send("/queue/flush", "POST");
      queueMessage(`${r.released} request(s) sent`);
      later("jobs", refreshJobs, 50);
    } else if (action === "clear") {
      const button = $("queue-clear");
      if (!button.dataset.armed) {
        button.dataset.armed = "1";
        button.textContent = "Really clear?";
        setTimeout(() => {
          delete button.dataset.armed;
          button.textContent = "Clear";
        }, 4000);
        return;
      }
      delete button.dataset.armed;
      button.textContent = "Clear";
      const r = await send("/queue", "DELETE");
      queueMessage(`${r.canceled_requests} request(s) in ${r.canceled_jobs.length} job(s) canceled`);
    }
    await refreshQueue();
  } catch (e) {
    queueMessage(e instanceof ApiError ? describe(e) : e.message);
  }
}

async function refreshArchive() {
  const entries = await latest("archive", "/archive");
  if (!entries) return;
  $("archive-list").innerHTML = entries
    .map(
      (e) => `<tr data-name="${esc(e.name)}"><td class="mono">${esc(e.chain_id || e.name)}</td><td>${esc(e.department || "")}</td>
      <td class="wrap">${esc((e.command || "").slice(0, 80))}</td><td>${when(e.modified_at)}</td></tr>`,
    )
    .join("");
}

async function showArchived(name) {
  const text = await (await request(`/archive/${encodeURIComponent(name)}`)).text();
  const body = text.replace(/^---\n[\s\S]*?\n---\n/, "");
  $("archive-view").hidden = false;
  $("archive-text").innerHTML = renderMarkdown(body);
}

// -- costs -----------------------------------------------------------------------------------

async function refreshCosts() {
  const costs = await latest("costs", "/costs?days=14");
  if (!costs) return;
  const budget = costs.budget_usd;
  $("budget-text").textContent = budget ? `${usd(costs.today_usd)} of ${usd(budget)}` : `${usd(costs.today_usd)} (no budget)`;
  const bar = $("budget-bar");
  bar.style.width = budget ? `${Math.min(100, (100 * costs.today_usd) / budget)}%` : "0%";
  bar.classList.toggle("over", Boolean(budget && costs.today_usd > budget));
  // left = budget - spent - held by open jobs: what the next submission is checked against
  const held = costs.held_usd ? `, ${usd(costs.held_usd)} held by open jobs` : "";
  const left = !budget ? "" : costs.remaining_usd >= 0 ? `${held}, ${usd(costs.remaining_usd)} left` : `${held}, over by ${usd(-costs.remaining_usd)}`;
  $("costs-today").textContent = `Today (${costs.timezone}): ${usd(costs.today_usd)}${budget ? ` of a ${usd(budget)} budget${left}` : " (no daily budget set)"}`;
  $("costs-chart").innerHTML = chart(costs.days, budget);
}

function chart(days, budget) {
  // Cost per day (solid) over what it would have cost at realtime prices (light), with the
  // daily budget as a dashed line when it is within the scale.
  const w = 560, h = 180, pad = 24, gap = 6, top = 20;
  const most = Math.max(...days.map((d) => d.realtime_cost_usd), 1e-9);
  const max = budget && budget <= 3 * most ? Math.max(most, budget) : most; // the budget line fits when near
  const scale = (v) => ((h - pad - top) * v) / max;
  const bw = (w - pad * 2) / days.length - gap;
  const bars = days
    .map((d, i) => {
      const x = pad + i * (bw + gap);
      const rh = scale(d.realtime_cost_usd);
      const ch = scale(d.cost_usd);
      const label = i % 2 === days.length % 2 ? "" : `<text x="${x + bw / 2}" y="${h - 6}" text-anchor="middle">${d.day.slice(5)}</text>`;
      return `<g data-day="${d.day}"><title>${d.day}: ${usd(d.cost_usd)} (realtime price ${usd(d.realtime_cost_usd)}, saving ${usd(d.realtime_cost_usd - d.cost_usd)})</title>
        <rect class="rt" x="${x}" y="${h - pad - rh}" width="${bw}" height="${rh}"></rect>
        <rect class="cost" x="${x}" y="${h - pad - ch}" width="${bw}" height="${ch}"></rect>${label}</g>`;
    })
    .join("");
  const axis = `<line class="axis" x1="${pad}" x2="${w - pad}" y1="${h - pad}" y2="${h - pad}"></line>`;
  let budgetLine = "";
  let budgetNote = "";
  if (budget && budget <= max) {
    const y = h - pad - scale(budget);
    budgetLine = `<line class="budget" x1="${pad}" x2="${w - pad}" y1="${y}" y2="${y}"><title>daily budget ${usd(budget)}</title></line>`;
    budgetNote = ` <span class="budget"></span> daily budget ${usd(budget)}`;
  } else if (budget) budgetNote = ` · daily budget ${usd(budget)} (above this scale)`;
  const saved = days.reduce((sum, d) => sum + d.realtime_cost_usd - d.cost_usd, 0);
  const spent = days.reduce((sum, d) => sum + d.cost_usd, 0);
  return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="cost per day"><text x="${pad}" y="12">scale: ${usd(max)} a day</text>${axis}${bars}${budgetLine}</svg>
    <p class="legend"><span class="cost"></span> cost <span class="rt"></span> realtime price${budgetNote}</p>
    <p class="muted" id="costs-total">${days.length} days: ${usd(spent)} spent, ${usd(saved)} saved against realtime prices</p>`;
}

// -- live events -----------------------------------------------------------------------------

function onEvent(event) {
  const data = event.data || {};
  if (event.type === "chain.started") {
    // Follow a new chain unless the one on screen is still running (or we are starting one).
    const busy = state.chain && state.chain.status === "running";
    if (!state.starting && (!state.chainId || !busy)) selectChain(data.chain_id).catch(report);
    later("chains", refreshChains, 200);
  } else if (event.type.startsWith("chain.")) {
    if (data.chain_id === state.chainId) {
      if (event.type === "chain.report" && data.report) {
        $("report-box").hidden = false;
        $("report").innerHTML = renderMarkdown(data.report);
      }
      later("chain", refreshChain, 120);
    }
    // a step's start and end, and each item as it lands (its cost): one refresh per burst
    if (event.type === "chain.step" || event.type === "chain.item") later("chains", refreshChains, 400);
    if (event.type === "chain.done") {
      later("chains", refreshChains, 200);
      later("archive", refreshArchive, 300);
      later("costs", refreshCosts, 300);
    }
  }
  if (event.type.startsWith("job.") || event.type.startsWith("batch.")) {
    later("jobs", refreshJobs, 300);
    later("costs", refreshCosts, 1000);
  }
  if (event.type.startsWith("queue.") || event.type.startsWith("job.")) later("queue", refreshQueue, 200);
}

function onSnapshot(snapshot) {
  // Everything may have changed while we were away: redraw from the current state, and follow
  // a chain that started meanwhile as a live `chain.started` would have (unless the one on
  // screen is still running).
  $("queue-badge").textContent = snapshot.queue.requests;
  const busy = state.chain && state.chain.status === "running" && snapshot.running_chains.some((c) => c.id === state.chainId);
  const shown = state.chain ? state.chain.created_at : -Infinity;
  const newer = [...snapshot.running_chains, ...snapshot.recent_chains]
    .filter((c) => c.created_at > shown)
    .sort((a, b) => b.created_at - a.created_at)[0];
  if (!state.chainId && snapshot.running_chains.length) state.chainId = snapshot.running_chains[0].id;
  else if (newer && !busy && !state.starting) state.chainId = newer.id;
  refreshAll();
}

function setConn(s) {
  $("conn").dataset.state = s;
  $("conn-text").textContent = { live: "live", connecting: "connecting…", syncing: "syncing…", reconnecting: "reconnecting…", offline: "offline" }[s];
}

function refreshAll() {
  refreshChain().catch(report);
  refreshChains().catch(report);
  refreshJobs().catch(report);
  refreshQueue().catch(report);
  refreshCosts().catch(report);
  if (state.tab === "archive") refreshArchive().catch(report);
}

function showTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const t of document.querySelectorAll(".tab")) t.hidden = t.id !== `tab-${name}`;
  if (name === "archive") refreshArchive().catch(report);
  if (name === "costs") refreshCosts().catch(report);
}

function wire() {
  $("command-form").addEventListener("submit", startChain);
  $("command").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("command-form").requestSubmit();
  });
  for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("step-details").addEventListener("click", (e) => {
    // Remember the user's choice (re-renders would otherwise undo it); `open` flips after this.
    const summary = e.target.closest("details.step-group > summary");
    if (summary && state.chain) state.open[`${state.chain.id}:${summary.parentElement.dataset.step}`] = !summary.parentElement.open;
  });
  $("chains-list").addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-chain]");
    if (row) selectChain(row.dataset.chain).then(refreshChains).catch(report);
  });
  $("jobs-list").addEventListener("click", (e) => {
    const job = e.target.closest("[data-job]");
    if (job) refreshJob(job.dataset.job).then(refreshJobs).catch(report);
  });
  $("job-detail").addEventListener("click", (e) => {
    if (e.target.id === "job-download") download(e).catch(report);
  });
  $("job-submit").addEventListener("click", () =>
    upload("job-file", "/jobs/upload")
      .then((r) => toast(`job ${r.job_id}: ${r.total} request(s) submitted`))
      .then(refreshJobs)
      .catch((e) => toast(e instanceof ApiError ? describe(e) : e.message)),
  );
  $("queue-add").addEventListener("click", () => queueAction("add"));
  $("queue-flush").addEventListener("click", () => queueAction("flush"));
  $("queue-clear").addEventListener("click", () => queueAction("clear"));
  $("archive-list").addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-name]");
    if (row) showArchived(row.dataset.name).catch(report);
  });
}

wire();
const live = new Live({ onEvent, onSnapshot, onState: setConn });
window.corthex = { state, live };
refreshAll();
live.connect();
setInterval(tick, 500);
