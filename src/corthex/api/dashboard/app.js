// The dashboard: start chains and watch them live, jobs and their batches, the queue, the
// archive and costs. Plain ES modules, no build step; live updates over /ws (live.js); every
// view has its own URL (router.js). The views live in their own modules:
//   chain.js (the live chain), jobs.js (jobs and a job's detail), lists.js (chains, queue,
//   archive), costs.js, format.js (money and times), ui.js (toast, refresh helpers).

import { send } from "./api.js";
import { chainAction, chainState, refreshChain, rememberFold, selectChain, tick } from "./chain.js";
import { refreshCosts } from "./costs.js";
import { jobAction, jobsState, refreshJobs, showJob, showMoreJobs } from "./jobs.js";
import { download, resultsPage, showResults } from "./results.js";
import { listState, queueAction, refreshArchive, refreshChains, refreshQueue, showArchived, upload } from "./lists.js";
import { Live } from "./live.js";
import { renderMarkdown } from "./md.js";
import { chooseLanguage, loadLanguage, t } from "./i18n.js";
import { go, href, onRoute, parse } from "./router.js";
import { $, dismissToast, errorText, later, report, showEmulated, toast } from "./ui.js";

const state = { tab: "chains", route: parse() };

// -- command ---------------------------------------------------------------------------------

async function startChain(event) {
  event.preventDefault();
  const command = $("command").value.trim();
  const error = $("command-error");
  error.hidden = true;
  if (!command) {
    error.textContent = t("command.empty");
    error.hidden = false;
    return;
  }
  $("start").disabled = true;
  chainState.starting = true;
  try {
    const body = { command, broadcast: $("scope-broadcast").checked, realtime: $("mode-realtime").checked, origin: "web" };
    const deadline = $("deadline").value.trim();
    if (deadline) body.deadline = deadline; // a duration (2h) or an ISO time: the server reads it
    const started = await send("/chains", "POST", body);
    await followChain(started.id);
    later("chains", refreshChains, 100);
  } catch (e) {
    // The error is shown here; the chain view is left as it was (nothing stays "starting").
    error.textContent = errorText(e);
    error.hidden = false;
  } finally {
    $("start").disabled = false;
    chainState.starting = false;
  }
}

// Show a chain, and keep the address naming the chain on screen (a reload opens it again).
async function followChain(id) {
  if (state.route.tab === "chains" && !state.route.detail) {
    history.replaceState(null, "", href("chains", id));
    state.route = parse();
  }
  await selectChain(id);
}

// -- routes ----------------------------------------------------------------------------------

function showTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const t of document.querySelectorAll(".tab")) t.hidden = t.id !== `tab-${name}`;
  if (name === "archive") refreshArchive().catch(report);
  if (name === "costs") refreshCosts().catch(report);
  if (name === "jobs") refreshJobs().catch(report);
}

// A job or an archived report opens full-width in its own view; a chain opens in the chain view.
async function applyRoute(route) {
  const detail = Boolean(route.id) && (route.tab === "jobs" || route.tab === "archive");
  state.route = { ...route, detail };
  document.body.dataset.view = detail ? "detail" : "main";
  $("detail").hidden = !detail;
  $("main").hidden = detail;
  showTab(route.tab);
  if (!detail) {
    jobsState.job = null;
    delete $("detail-body").dataset.job;
    delete $("detail-body").dataset.archive;
  }
  if (!detail && route.tab === "chains" && route.id && route.id !== chainState.chainId) {
    await selectChain(route.id);
    await refreshChains();
  }
  if (!detail) return;
  $("detail-back").setAttribute("href", href(route.tab));
  $("detail-back").textContent = `← ${t(route.tab === "jobs" ? "tab.jobs" : "tab.archive")}`;
  $("detail-body").innerHTML = `<p class="muted">${t("common.loading")}</p>`;
  window.scrollTo(0, 0);
  if (route.tab === "jobs") await showJob(route.id);
  else {
    jobsState.job = null;
    await showArchived(route.id);
  }
}

// -- live events -----------------------------------------------------------------------------

function onChainEvent(event, data) {
  if (event.type === "chain.started") {
    // Follow a new chain unless the one on screen is still running (or we are starting one).
    const busy = chainState.chain && chainState.chain.status === "running";
    if (!chainState.starting && (!chainState.chainId || !busy)) followChain(data.chain_id).catch(report);
    later("chains", refreshChains, 200);
    return;
  }
  if (data.chain_id === chainState.chainId) {
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

function onEvent(event) {
  const data = event.data || {};
  if (event.type.startsWith("chain.")) onChainEvent(event, data);
  if (event.type.startsWith("job.") || event.type.startsWith("batch.")) {
    later("jobs", refreshJobs, 300);
    if (jobsState.job) later("job", () => showJob(jobsState.job), 400);
    later("costs", refreshCosts, 1000);
  }
  if (event.type.startsWith("queue.") || event.type.startsWith("job.")) later("queue", refreshQueue, 200);
}

function onSnapshot(snapshot) {
  // Everything may have changed while we were away: redraw from the current state, and follow
  // a chain that started meanwhile as a live `chain.started` would have (unless the one on
  // screen is still running).
  $("queue-badge").textContent = snapshot.queue.requests;
  const busy = chainState.chain && chainState.chain.status === "running" && snapshot.running_chains.some((c) => c.id === chainState.chainId);
  const shown = chainState.chain ? chainState.chain.created_at : -Infinity;
  const newer = [...snapshot.running_chains, ...snapshot.recent_chains]
    .filter((c) => c.created_at > shown)
    .sort((a, b) => b.created_at - a.created_at)[0];
  if (!chainState.chainId && snapshot.running_chains.length) chainState.chainId = snapshot.running_chains[0].id;
  else if (newer && !busy && !chainState.starting) chainState.chainId = newer.id;
  refreshAll();
}

function setConn(s) {
  $("conn").dataset.state = s;
  $("conn-text").textContent = t(`conn.${s}`);
}

async function refreshChainsAndPick() {
  const chains = await refreshChains();
  if (!chainState.chainId && chains.length) await followChain(chains[0].id);
}

function refreshAll() {
  refreshChain().catch(report);
  refreshChainsAndPick().catch(report);
  refreshJobs().catch(report);
  refreshQueue().catch(report);
  refreshCosts().catch(report);
  if (state.tab === "archive") refreshArchive().catch(report);
  if (jobsState.job) showJob(jobsState.job).catch(report);
}

// -- wiring ----------------------------------------------------------------------------------

function on(id, type, fn) {
  $(id).addEventListener(type, fn);
}

function wireLists() {
  const redraw = { chains: refreshChains, jobs: refreshJobs, queue: refreshQueue, archive: refreshArchive };
  for (const [name, fn] of Object.entries(redraw)) {
    for (const input of document.querySelectorAll(`#tab-${name} .filters select, #tab-${name} .filters input`)) {
      input.addEventListener(input.type === "search" ? "input" : "change", () => later(name, fn, 150));
    }
  }
  on("chains-more", "click", () => ((listState.chains += 30), refreshChains().catch(report)));
  on("archive-more", "click", () => ((listState.archive += 30), refreshArchive().catch(report)));
  on("jobs-more", "click", () => showMoreJobs().catch(report));
  on("chains-list", "click", (e) => {
    const row = e.target.closest("tr[data-chain]");
    if (row && !e.target.closest("a")) go("chains", row.dataset.chain);
  });
  on("archive-list", "click", (e) => {
    const row = e.target.closest("tr[data-name]");
    if (row && !e.target.closest("a")) go("archive", row.dataset.name);
  });
}

function wireDetail() {
  on("detail-body", "click", (e) => {
    const id = e.target.closest("[id]")?.id;
    if (id === "job-download" || id === "job-download-failed") download(e).catch(report);
    else if (id === "job-cancel") jobAction("cancel");
    else if (id === "job-retry") jobAction("retry");
    else if (id === "results-prev") resultsPage(-1).catch(report);
    else if (id === "results-next") resultsPage(1).catch(report);
  });
  on("detail-body", "change", (e) => {
    if (e.target.id === "results-status") ((jobsState.resultsPage = 0), showResults().catch(report));
  });
  on("detail-body", "input", (e) => {
    if (e.target.id === "results-search") ((jobsState.resultsPage = 0), later("results", showResults, 200));
  });
}

function wire() {
  on("command-form", "submit", startChain);
  on("command", "keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("command-form").requestSubmit();
  });
  for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => go(b.dataset.tab));
  on("step-details", "click", rememberFold);
  on("chain-stop", "click", () => chainAction("cancel"));
  on("chain-rerun", "click", () => chainAction("rerun", (id) => go("chains", id)));
  on("toast-close", "click", dismissToast);
  on("job-submit", "click", () =>
    upload("job-file", jobUploadPath())
      .then((r) => toast(t("jobs.submitted", { job_id: r.job_id, total: r.total })))
      .then(refreshJobs)
      .catch((e) => toast(errorText(e), { sticky: true })),
  );
  on("queue-add", "click", () => queueAction("add"));
  on("queue-flush", "click", () => queueAction("flush", () => later("jobs", refreshJobs, 50)));
  on("queue-clear", "click", () => queueAction("clear"));
  on("lang-switch", "change", (e) => switchLanguage(e.target.value).catch(report));
  wireLists();
  wireDetail();
  onRoute((route) => applyRoute(route).catch(report));
}

// A deadline typed beside the file (2h, 90m, an ISO time) goes with it; the server reads it.
function jobUploadPath() {
  const deadline = $("job-deadline").value.trim();
  return deadline ? `/jobs/upload?${new URLSearchParams({ deadline })}` : "/jobs/upload";
}

// The header's language switch: relabel the page, then redraw what app code wrote.
async function switchLanguage(code) {
  await chooseLanguage(code);
  setConn($("conn").dataset.state);
  await applyRoute(state.route);
  refreshAll();
  showEmulated().catch(() => {});
}

await loadLanguage().catch(report); // English labels (the page's own) when the server cannot say
wire();
const live = new Live({ onEvent, onSnapshot, onState: setConn });
window.corthex = { state, chainState, jobsState, live };
applyRoute(parse()) // the address as it is now: it may have changed while the words loaded
  .catch(report)
  .finally(() => refreshAll());
showEmulated().catch(() => {});
live.connect();
setInterval(tick, 500);
