// The chains, queue and archive lists (each with its filter or search and "show more"), and an
// archived report in the full-width detail (#/archive/NAME).

import { ApiError, describe, request, send } from "./api.js";
import { columnDigits, esc, seconds, usd, when } from "./format.js";
import { st, stepName, t } from "./i18n.js";
import { renderMarkdown } from "./md.js";
import { href } from "./router.js";
import { $, latest, latestFiltered } from "./ui.js";
import { chainState } from "./chain.js";

const PAGE = 30;
export const listState = { chains: PAGE, archive: PAGE };

const lower = (id) => $(id).value.trim().toLowerCase();

export async function refreshChains() {
  const status = $("chains-status").value;
  const search = lower("chains-search");
  const query = new URLSearchParams({ limit: String(search ? 500 : listState.chains + 1) });
  const plain = `/chains?${query}`;
  if (status) query.set("status", status);
  const chains = await latestFiltered("chains", `/chains?${query}`, plain);
  if (!chains) return [];
  const matching = chains.filter((c) => (!status || c.status === status) && (!search || `${c.id} ${c.command}`.toLowerCase().includes(search)));
  const page = matching.slice(0, listState.chains);
  const digits = columnDigits(page.map((c) => c.cost_usd));
  $("chains-list").innerHTML = page
    .map(
      (c) => `<tr data-chain="${esc(c.id)}" class="${c.id === chainState.chainId ? "selected" : ""}">
      <td class="mono"><a href="${href("chains", c.id)}">${esc(c.id)}</a></td><td class="wrap">${esc(c.command.slice(0, 80))}</td>
      <td><span class="badge ${esc(c.status)}">${esc(c.status === "running" ? `${stepName(c.step)}…` : st(c.status))}</span>
      <div class="muted small">${t(c.broadcast ? "scope.broadcast" : "scope.single")} · ${t(c.realtime ? "mode.realtime" : "mode.batch")}</div></td>
      <td class="num money">${usd(c.cost_usd, digits)}</td><td>${seconds(c.elapsed_s)}<div class="muted small">${esc(when(c.created_at))}</div></td></tr>`,
    )
    .join("");
  $("chains-more").hidden = matching.length <= listState.chains;
  return chains;
}

export async function refreshQueue() {
  const queue = await latest("queue", "/queue");
  if (!queue) return;
  const search = lower("queue-search");
  $("queue-count").textContent = queue.requests;
  $("queue-badge").textContent = queue.requests;
  $("queue-age").textContent = queue.oldest_at ? t("queue.oldest", { when: when(queue.oldest_at) }) : "";
  $("queue-list").innerHTML = queue.jobs
    .filter((j) => !search || `${j.id} ${j.label || ""}`.toLowerCase().includes(search))
    .map(
      (j) => `<tr data-job="${esc(j.id)}"><td class="mono"><a href="${href("jobs", j.id)}">${esc(j.id)}</a></td><td>${esc(j.label || "")}</td><td>${j.total}</td><td>${when(j.created_at)}</td></tr>`,
    )
    .join("");
}

export async function upload(inputId, path) {
  const file = $(inputId).files[0];
  if (!file) throw new Error(t("upload.choose_file"));
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

async function armClear() {
  const button = $("queue-clear");
  if (button.dataset.armed) {
    delete button.dataset.armed;
    button.textContent = t("queue.clear");
    return true;
  }
  button.dataset.armed = "1";
  button.textContent = t("queue.really_clear");
  setTimeout(() => {
    delete button.dataset.armed;
    button.textContent = t("queue.clear");
  }, 4000);
  return false;
}

export async function queueAction(action, afterFlush) {
  try {
    if (action === "add") {
      const r = await upload("queue-file", "/queue/upload");
      queueMessage(t("queue.added", { total: r.total, job_id: r.job_id }));
    } else if (action === "flush") {
      const r = await send("/queue/flush", "POST");
      queueMessage(t("queue.flushed", { released: r.released }));
      afterFlush();
    } else if (action === "clear") {
      if (!(await armClear())) return;
      const r = await send("/queue", "DELETE");
      queueMessage(t("queue.cleared", { requests: r.canceled_requests, jobs: r.canceled_jobs.length }));
    }
    await refreshQueue();
  } catch (e) {
    queueMessage(e instanceof ApiError ? describe(e) : e.message);
  }
}

export async function refreshArchive() {
  const entries = await latest("archive", "/archive");
  if (!entries) return;
  const department = $("archive-department");
  const departments = [...new Set(entries.map((e) => e.department).filter(Boolean))].sort();
  const chosen = department.value;
  department.innerHTML = `<option value="">${t("archive.every_department")}</option>${departments.map((d) => `<option>${esc(d)}</option>`).join("")}`;
  department.value = departments.includes(chosen) ? chosen : "";
  const search = lower("archive-search");
  const matching = entries.filter(
    (e) => (!department.value || e.department === department.value) && (!search || `${e.name} ${e.command || ""}`.toLowerCase().includes(search)),
  );
  $("archive-list").innerHTML = matching
    .slice(0, listState.archive)
    .map(
      (e) => `<tr data-name="${esc(e.name)}"><td class="mono"><a href="${href("archive", e.name)}">${esc(e.chain_id || e.name)}</a></td><td>${esc(e.department || "")}</td>
      <td class="wrap">${esc((e.command || "").slice(0, 80))}</td><td>${when(e.modified_at)}</td></tr>`,
    )
    .join("");
  $("archive-more").hidden = matching.length <= listState.archive;
}

export async function showArchived(name) {
  const text = await (await request(`/archive/${encodeURIComponent(name)}`)).text();
  const body = text.replace(/^---\n[\s\S]*?\n---\n/, "");
  $("detail-title").innerHTML = `<span class="mono">${esc(name)}</span>`;
  $("detail-body").dataset.archive = name;
  $("detail-body").innerHTML = `<article class="report archived"><div id="archive-text" class="markdown">${renderMarkdown(body)}</div></article>`;
}
