// Jobs: the list (status filter, search, chain steps hidden unless asked for, "show more") and
// the full-width detail of one job (#/jobs/ID): summary, providers, batches, results with a status
// filter, a search and pages, cancel / retry, and downloads (all, or the failed only).

import { send } from "./api.js";
import { columnDigits, count, esc, usd, when } from "./format.js";
import { st, t } from "./i18n.js";
import { FAILED, showResults } from "./results.js";
import { href } from "./router.js";
import { $, latest, latestFiltered, report, toast } from "./ui.js";

const PAGE = 30;
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
  $("jobs-list").innerHTML = page.map((j) => renderJob(j, digits)).join("") || `<p class="muted">${t(f.status || f.search ? "jobs.none_match" : "jobs.none")}</p>`;
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
        <div class="bar"><div class="ok" style="width:${ok}%"></div><div class="bad" style="width:${bad}%"></div><div class="canceled" style="width:${off}%" title="${esc(t("jobs.canceled_count", { count: canceled }))}"></div></div>
        <span class="muted">${c.succeeded + c.failed + canceled}/${c.requests}</span>${c.cut ? `<span class="cut" title="${esc(t("jobs.cut_title"))}">${esc(t("jobs.cut_count", { count: c.cut }))}</span>` : ""}</div>`;
    })
    .join("");
}

function renderJob(job, digits) {
  return `<a class="job" href="${href("jobs", job.id)}" data-job="${esc(job.id)}" data-source="${esc(job.source)}">
    <div class="job-head"><span class="mono">${esc(job.id)}</span><span class="badge ${esc(job.status)}">${esc(st(job.status))}</span>
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
  if (job.deadline) figures.push(["deadline", when(job.deadline)], ["deadline_cost", usd(job.deadline_cost_usd || 0)]);
  if (job.cache_saving_usd) figures.push(["cache_saving", usd(job.cache_saving_usd)]);
  return figures.map(([k, v]) => `<div><dt>${t(`fig.${k}`)}</dt><dd data-figure="${k}">${v}</dd></div>`).join("");
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
  return `<div class="table-scroll"><table class="list"><thead><tr><th>${t("col.provider")}</th>${["requests", "succeeded", "failed", "tokens_in", "tokens_out", "cost", "realtime", "saving"].map((h) => `<th class="num">${t(`col.${h}`)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table></div>`;
}

// Which tier answered (batch, flex, realtime: a deadline moves late requests to the faster ones),
// and what those results would have cost in a batch. Shown once anything left the batch tier.
function tierTable(job) {
  const rows = Object.entries(job.tiers || {});
  if (!rows.some(([tier]) => tier !== "batch")) return "";
  const digits = columnDigits(rows.flatMap(([, c]) => [c.cost_usd, c.batch_cost_usd]));
  const body = rows
    .map(
      ([tier, c]) => `<tr data-tier="${esc(tier)}"><td>${esc(t(`tier.${tier}`))}</td><td class="num">${count(c.results)}</td>
      <td class="num money">${usd(c.cost_usd, digits)}</td><td class="num money">${usd(c.batch_cost_usd, digits)}</td></tr>`,
    )
    .join("");
  return `<h4>${t("jobs.by_tier")}</h4><div class="table-scroll"><table class="list" id="job-tiers"><thead><tr><th>${t("col.tier")}</th>${["results", "cost", "in_batch"].map((h) => `<th class="num">${t(`col.${h}`)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table></div>`;
}

// "3 of 5 (shared with 1 other job)" when other jobs have requests in the batch; else "all".
function batchShare(b) {
  const others = b.shared_with_jobs || 0;
  if (!others) return t("jobs.share_all");
  const mine = b.job_requests ?? b.request_count;
  return t(others === 1 ? "jobs.share_one" : "jobs.share_many", { mine: count(mine), total: count(b.request_count), others });
}

// done_count counts the failed too (every adapter: finished = succeeded + failed)
function batchTable(job) {
  const rows = job.batch_list
    .map(
      (b) => `<tr><td class="mono">${esc(b.remote_id || b.id)}</td><td>${esc(b.provider)}</td><td>${esc(b.model || t("jobs.mixed"))}</td>
      <td>${esc(st(b.status))}${b.raw_status && b.raw_status !== b.status ? ` <span class="muted small">${esc(b.raw_status)}</span>` : ""}</td>
      <td class="num done">${b.done_count}/${b.request_count}${b.failed_count ? ` <span class="muted small">${esc(t("jobs.failed_count", { count: b.failed_count }))}</span>` : ""}</td><td class="share" data-shared="${b.shared_with_jobs || 0}">${esc(batchShare(b))}</td><td class="num">${b.poll_count}</td>
      <td>${esc(when(b.created_at))}</td><td>${esc(when(b.ended_at))}</td></tr>`,
    )
    .join("");
  return `<div class="table-scroll"><table class="list"><thead><tr>${["batch", "provider", "model", "status", "done", "ours", "polls", "created", "ended"].map((h) => `<th>${t(`col.${h}`)}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table></div>`;
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
  $("detail-title").innerHTML = `<span class="mono">${esc(job.id)}</span> <span class="badge ${esc(job.status)}" id="job-status" data-status="${esc(job.status)}">${esc(st(job.status))}</span>
    <span class="muted">${esc(job.label || "")} · ${esc(job.source)} · ${esc(t("jobs.created", { when: when(job.created_at) }))}${job.completed_at ? ` · ${esc(t("jobs.ended", { when: when(job.completed_at) }))}` : ""}</span>`;
  if (first) jobsState.resultsPage = 0;
  const keep = first ? null : { status: $("results-status")?.value, search: $("results-search")?.value };
  detail.innerHTML = `<div class="actions">
      <button id="job-cancel" class="danger" ${open ? "" : "hidden"}>${t("jobs.cancel")}</button>
      <button id="job-retry" ${retryable ? "" : "hidden"}>${t("jobs.retry")}</button>
      <a id="job-download" class="button" href="${link}" download="${esc(id)}-results.jsonl">${t("jobs.download")}</a>
      <a id="job-download-failed" class="button" href="${link}?status=failed,expired" download="${esc(id)}-failed.jsonl">${t("jobs.download_failed")}</a>
    </div>
    <dl class="figures wide">${summaryFigures(job)}</dl>
    <h4>${t("jobs.by_provider")}</h4>${providerTable(job)}
    ${tierTable(job)}
    <h4>${t("jobs.batches")}</h4>${batchTable(job)}
    <h4>${t("jobs.results")}</h4>
    <div class="row filters">
      <select id="results-status" aria-label="result status"><option value="">${t("filter.every_status")}</option>
        ${["succeeded", "failed", "expired", "canceled"].map((s) => `<option value="${s}">${esc(st(s))}</option>`).join("")}</select>
      <input id="results-search" type="search" placeholder="${esc(t("search.results"))}" aria-label="search results">
      <span id="results-range" class="muted"></span>
      <button id="results-prev">‹ ${t("results.prev")}</button><button id="results-next">${t("results.next")} ›</button>
    </div>
    <div id="job-results"></div>`;
  if (keep) {
    $("results-status").value = keep.status || "";
    $("results-search").value = keep.search || "";
  }
  await showResults();
}

export async function jobAction(action) {
  const id = jobsState.job;
  try {
    if (action === "cancel") {
      const job = await send(`/jobs/${encodeURIComponent(id)}/cancel`, "POST");
      toast(t("jobs.canceled_toast", { id, status: st(job.status) }));
    } else {
      const r = await send(`/jobs/${encodeURIComponent(id)}/retry`, "POST", { status: FAILED });
      const newId = r.job_id || r.id;
      toast(t("jobs.retried_toast", { id, new_id: newId }));
      if (newId) location.hash = href("jobs", newId);
    }
  } catch (e) {
    report(e);
  }
  await Promise.all([showJob(jobsState.job), refreshJobs()]);
}
