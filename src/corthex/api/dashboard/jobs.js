// Jobs: the list (status filter, search, chain steps hidden unless asked for, "show more") and
// the full-width detail of one job (#/jobs/ID): summary, providers, batches, results with a status
// filter, a search and pages, cancel / retry, and downloads (all, or the failed only).

import { ApiError, request, send, token } from "./api.js";
import { columnDigits, count, esc, preview, usd, when } from "./format.js";
import { href } from "./router.js";
import { $, latest, latestFiltered, report, toast } from "./ui.js";

const PAGE = 30;
const RESULTS_PAGE = 100;
const FAILED = ["failed", "expired"];
export const jobsState = { shown: PAGE, job: null, resultsPage: 0, results: [], resultsFor: null };

function listFilters() {
  return { status: $("jobs-status").value, search: $("jobs-search").value.trim().toLowerCase(), chains: $("jobs-chains").checked };
}

// Chain steps are jobs too; hidden by default, they would otherwise flood the list. The API
// cannot filter by source, so a few more are asked for and the chain ones left out here.
export async function refreshJobs() {
  const f = listFilters();
  const limit = Math.min(1000, f.chains ? jobsState.shown + 1 : jobsState.shown * 4 + 50);
  const query = new URLSearchParams({ limit: String(limit) });
  const plain = `/jobs?${query}`;
  if (f.status) query.set("status", f.status);
  const jobs = await latestFiltered("jobs", `/jobs?${query}`, plain);
  if (!jobs) return;
  const matching = jobs.filter(
    (j) =>
      (f.chains || j.source !== "chain") &&
      (!f.status || j.status === f.status) && // an API that ignores ?status= still shows the right ones
      (!f.search || `${j.id} ${j.label || ""} ${j.source}`.toLowerCase().includes(f.search)),
  );
  const page = matching.slice(0, jobsState.shown);
  const digits = columnDigits(page.map((j) => j.cost_usd));
  $("jobs-list").innerHTML = page.map((j) => renderJob(j, digits)).join("") || `<p class="muted">No jobs${f.status || f.search ? " match" : " yet"}.</p>`;
  $("jobs-more").hidden = matching.length <= jobsState.shown && jobs.length < limit;
}

function providerBars(job) {
  return Object.entries(job.by_provider)
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
}

function renderJob(job, digits) {
  return `<a class="job" href="${href("jobs", job.id)}" data-job="${esc(job.id)}" data-source="${esc(job.source)}">
    <div class="job-head"><span class="mono">${esc(job.id)}</span><span class="badge ${esc(job.status)}">${esc(job.status)}</span>
    <span class="muted">${esc(job.label || job.source)}</span><span>${job.finished}/${job.total}</span><span class="money">${usd(job.cost_usd, digits)}</span>
    <span class="muted small">${esc(when(job.created_at))}</span></div>
    ${providerBars(job)}</a>`;
}

export function showMoreJobs() {
  jobsState.shown += PAGE;
  return refreshJobs();
}

// -- the detail ------------------------------------------------------------------------------

const canceledOf = (job) => job.canceled ?? 0; // counted apart once the API does (issue 16, item 3)

function summaryFigures(job) {
  const figures = [
    ["requests", count(job.total)],
    ["finished", count(job.finished)],
    ["succeeded", count(job.succeeded)],
    ["failed", count(job.failed)],
    ["canceled", count(canceledOf(job))],
    ["cut", count(job.cut)],
    ["cost", usd(job.cost_usd)],
    ["batches", count(job.batches)],
  ];
  return figures.map(([k, v]) => `<div><dt>${k}</dt><dd data-figure="${k}">${v}</dd></div>`).join("");
}

function providerTable(job) {
  const rows = Object.entries(job.by_provider);
  const digits = columnDigits(rows.flatMap(([, c]) => [c.cost_usd, c.realtime_cost_usd, c.saving_usd]));
  const body = rows
    .map(
      ([name, c]) => `<tr data-provider="${esc(name)}"><td>${esc(name)}</td><td class="num">${count(c.requests)}</td><td class="num">${count(c.succeeded)}</td>
      <td class="num">${count(c.failed)}</td><td class="num">${count(c.input_tokens)}</td><td class="num">${count(c.output_tokens)}</td>
      <td class="num money">${usd(c.cost_usd, digits)}</td><td class="num money">${usd(c.realtime_cost_usd, digits)}</td><td class="num money">${usd(c.saving_usd, digits)}</td></tr>`,
    )
    .join("");
  return `<div class="table-scroll"><table class="list"><thead><tr><th>provider</th>${["requests", "succeeded", "failed", "tokens in", "tokens out", "cost", "realtime price", "saving"].map((h) => `<th class="num">${h}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function batchTable(job) {
  const rows = job.batch_list
    .map(
      (b) => `<tr><td class="mono">${esc(b.remote_id || b.id)}</td><td>${esc(b.provider)}</td><td>${esc(b.model || "(mixed)")}</td>
      <td>${esc(b.status)}${b.raw_status && b.raw_status !== b.status ? ` <span class="muted small">${esc(b.raw_status)}</span>` : ""}</td>
      <td class="num">${b.done_count + b.failed_count}/${b.request_count}</td><td class="num">${b.poll_count}</td>
      <td>${esc(when(b.created_at))}</td><td>${esc(when(b.ended_at))}</td></tr>`,
    )
    .join("");
  return `<div class="table-scroll"><table class="list"><thead><tr><th>batch</th><th>provider</th><th>model</th><th>status</th><th>done</th><th>polls</th><th>created</th><th>ended</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export async function showJob(id) {
  const first = jobsState.job !== id;
  jobsState.job = id;
  const job = await latest("job", `/jobs/${encodeURIComponent(id)}`);
  if (!job || jobsState.job !== id) return;
  const detail = $("detail-body");
  detail.dataset.job = id;
  const open = ["queued", "running"].includes(job.status);
  const retryable = job.failed > 0 || canceledOf(job) > 0;
  const link = `/jobs/${encodeURIComponent(id)}/results`;
  $("detail-title").innerHTML = `<span class="mono">${esc(job.id)}</span> <span class="badge ${esc(job.status)}" id="job-status">${esc(job.status)}</span>
    <span class="muted">${esc(job.label || "")} · ${esc(job.source)} · created ${esc(when(job.created_at))}${job.completed_at ? ` · ended ${esc(when(job.completed_at))}` : ""}</span>`;
  if (first) jobsState.resultsPage = 0;
  const keep = first ? null : { status: $("results-status")?.value, search: $("results-search")?.value };
  detail.innerHTML = `<div class="actions">
      <button id="job-cancel" class="danger" ${open ? "" : "hidden"}>Cancel job</button>
      <button id="job-retry" ${retryable ? "" : "hidden"}>Retry failed &amp; expired</button>
      <a id="job-download" class="button" href="${link}" download="${esc(id)}-results.jsonl">Download results (JSONL)</a>
      <a id="job-download-failed" class="button" href="${link}?status=failed,expired" download="${esc(id)}-failed.jsonl">Download failed only</a>
    </div>
    <dl class="figures wide">${summaryFigures(job)}</dl>
    <h4>By provider</h4>${providerTable(job)}
    <h4>Batches</h4>${batchTable(job)}
    <h4>Results</h4>
    <div class="row filters">
      <select id="results-status" aria-label="result status"><option value="">every status</option>
        ${["succeeded", "failed", "expired", "canceled"].map((s) => `<option>${s}</option>`).join("")}</select>
      <input id="results-search" type="search" placeholder="search custom_id or text" aria-label="search results">
      <span id="results-range" class="muted"></span>
      <button id="results-prev">‹ Previous</button><button id="results-next">Next ›</button>
    </div>
    <div id="job-results"></div>`;
  if (keep) {
    $("results-status").value = keep.status || "";
    $("results-search").value = keep.search || "";
  }
  await showResults();
}

function resultMatches(r, status, search) {
  if (status && r.status !== status) return false;
  if (!search) return true;
  return `${r.custom_id} ${r.content || ""} ${r.error?.message || ""}`.toLowerCase().includes(search);
}

// Read the JSONL stream only as far as the page needs (a job may have 100,000 lines).
async function readMatching(response, wanted, test) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let rest = "";
  const found = [];
  let more = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const lines = (rest + decoder.decode(value, { stream: true })).split("\n");
    rest = lines.pop();
    for (const line of lines.filter(Boolean)) {
      const r = JSON.parse(line);
      if (!test(r)) continue;
      if (found.length === wanted) more = true;
      else found.push(r);
    }
    if (more) break;
  }
  if (!more && rest.trim()) {
    const r = JSON.parse(rest);
    if (test(r)) found.length < wanted ? found.push(r) : (more = true);
  }
  reader.cancel().catch(() => {});
  return { found, more };
}

export async function showResults() {
  const id = jobsState.job;
  const status = $("results-status").value;
  const search = $("results-search").value.trim().toLowerCase();
  const start = jobsState.resultsPage * RESULTS_PAGE;
  const ticket = (jobsState.resultsTicket = (jobsState.resultsTicket || 0) + 1); // the latest filter wins
  const response = await resultsResponse(id, status ? [status] : null);
  const { found, more } = await readMatching(response, start + RESULTS_PAGE, (r) => resultMatches(r, status, search));
  if (jobsState.job !== id || ticket !== jobsState.resultsTicket) return;
  const rows = found.slice(start);
  const digits = columnDigits(rows.map((r) => r.cost_usd));
  $("results-range").textContent = rows.length ? `${start + 1}–${start + rows.length}${more ? "" : ` of ${start + rows.length}`}` : "no results";
  $("results-prev").disabled = start === 0;
  $("results-next").disabled = !more;
  $("job-results").innerHTML = `<table class="list results"><thead><tr><th>custom_id</th><th>status</th><th>model</th><th>content</th><th class="num">cost</th></tr></thead><tbody>${rows
    .map(
      (r) => `<tr data-status="${esc(r.status)}"><td class="mono">${esc(r.custom_id)}</td><td><span class="badge ${esc(r.status)}">${esc(r.status)}</span></td><td>${esc(r.model || "")}</td>
      <td class="wrap">${esc(preview(r.content || r.error?.message || "", 240))}</td><td class="num money">${usd(r.cost_usd, digits)}</td></tr>`,
    )
    .join("")}</tbody></table>`;
}

export function resultsPage(step) {
  jobsState.resultsPage = Math.max(0, jobsState.resultsPage + step);
  return showResults();
}

// The results, asked for with ?status= when given; an API without that filter (or refusing
// the form) gets the plain request, and the filter is applied here.
async function resultsResponse(id, statuses) {
  const base = `/jobs/${encodeURIComponent(id)}/results`;
  if (!statuses) return request(base);
  try {
    return await request(`${base}?status=${statuses.join(",")}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) return request(base);
    throw e;
  }
}

// Downloads: a plain link when no token is needed and everything is wanted; otherwise fetch,
// keep the wanted lines, then save.
export async function download(event) {
  const link = event.target.closest("a");
  const failedOnly = link.id === "job-download-failed";
  if (!token() && !failedOnly) return;
  event.preventDefault();
  const response = await resultsResponse(jobsState.job, failedOnly ? FAILED : null);
  let blob = await response.blob();
  if (failedOnly) {
    const lines = (await blob.text()).split("\n").filter((l) => l && FAILED.includes(JSON.parse(l).status));
    blob = new Blob(lines.map((l) => `${l}\n`), { type: "application/x-ndjson" });
  }
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: link.getAttribute("download") });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function jobAction(action) {
  const id = jobsState.job;
  try {
    if (action === "cancel") {
      const job = await send(`/jobs/${encodeURIComponent(id)}/cancel`, "POST");
      toast(`job ${id} canceled (${job.status})`);
    } else {
      const r = await send(`/jobs/${encodeURIComponent(id)}/retry`, "POST", { status: FAILED });
      const newId = r.job_id || r.id;
      toast(`the failed and expired requests of ${id} sent again as ${newId}`);
      if (newId) location.hash = href("jobs", newId);
    }
  } catch (e) {
    report(e);
  }
  await Promise.all([showJob(jobsState.job), refreshJobs()]);
}
