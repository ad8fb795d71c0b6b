// A job's results in its detail: a status filter, a search and pages of 100, read from the
// JSONL stream only as far as the page needs; and the downloads (all, or the failed only).

import { ApiError, request, token } from "./api.js";
import { columnDigits, esc, preview, usd } from "./format.js";
import { st, t } from "./i18n.js";
import { jobsState } from "./jobs.js";
import { $ } from "./ui.js";

const RESULTS_PAGE = 100;
export const FAILED = ["failed", "expired"];

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
  const range = more ? t("results.range", { from: start + 1, to: start + rows.length }) : t("results.range_of", { from: start + 1, to: start + rows.length, total: start + rows.length });
  $("results-range").textContent = rows.length ? range : t("results.none");
  $("results-prev").disabled = start === 0;
  $("results-next").disabled = !more;
  $("job-results").innerHTML = `<table class="list results"><thead><tr><th>custom_id</th><th>${t("col.status")}</th><th>${t("col.model")}</th><th>${t("col.content")}</th><th class="num">${t("col.cost")}</th></tr></thead><tbody>${rows
    .map(
      (r) => `<tr data-status="${esc(r.status)}"><td class="mono">${esc(r.custom_id)}</td><td><span class="badge ${esc(r.status)}">${esc(st(r.status))}</span></td><td>${esc(r.model || "")}</td>
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

