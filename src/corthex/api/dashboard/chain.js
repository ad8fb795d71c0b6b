// The live chain view: its steps, each agent's card (the prompt sent, the answer, the timing),
// the report, and the stop / run-again buttons.

import { send } from "./api.js";
import { esc, preview, seconds, usd, when } from "./format.js";
import { st, stepName, t } from "./i18n.js";
import { renderMarkdown } from "./md.js";
import { $, latest, report, toast } from "./ui.js";

const ICONS = { done: "✔", running: "◐", pending: "○", skipped: "–", stopped: "■" };
export const chainState = { chainId: null, chain: null, fetchedAt: 0, starting: false, open: {} };

export async function selectChain(id) {
  chainState.chainId = id;
  await refreshChain();
}

export async function refreshChain() {
  if (!chainState.chainId) return;
  const chain = await latest("chain", `/chains/${encodeURIComponent(chainState.chainId)}`);
  if (!chain || chain.id !== chainState.chainId) return;
  chainState.chain = chain;
  chainState.fetchedAt = performance.now();
  renderChain(chain);
}

function renderHead(chain) {
  $("chain-empty").hidden = true;
  $("chain-body").hidden = false;
  $("chain-view").dataset.status = chain.status;
  $("chain-view").dataset.chain = chain.id;
  $("chain-command").textContent = chain.command;
  $("chain-id").textContent = chain.id;
  $("chain-started").textContent = t("chain.started", { when: when(chain.created_at) });
  const badge = $("chain-status");
  badge.textContent = chain.status === "running" ? `${st("running")} · ${stepName(chain.step)}` : st(chain.status);
  badge.className = `badge ${chain.status}`;
  $("chain-mode").textContent = `${t(chain.broadcast ? "scope.broadcast" : "scope.single")} · ${t(chain.realtime ? "mode.realtime" : "mode.batch")}`;
  const departments = chain.departments.length ? chain.departments.join(", ") : t("chain.unclassified");
  $("chain-route").textContent = `→ ${departments}${chain.route_method ? ` (${chain.route_method})` : ""}`;
  $("chain-cost").textContent = usd(chain.cost_usd);
  $("chain-realtime").textContent = usd(chain.realtime_cost_usd);
  const pct = chain.realtime_cost_usd ? ` (${Math.round((100 * chain.saving_usd) / chain.realtime_cost_usd)}%)` : "";
  $("chain-saving").textContent = usd(chain.saving_usd) + pct;
  renderDeadline(chain);
  $("chain-stop").hidden = chain.status !== "running";
  $("chain-rerun").hidden = chain.status === "running";
}

// The chain's deadline and, while it runs, when it is predicted to finish (late: past the deadline).
function renderDeadline(chain) {
  const shown = $("chain-deadline");
  const parts = [];
  if (chain.deadline) parts.push(t("chain.deadline", { when: when(chain.deadline) }));
  if (chain.predicted_finish_at) parts.push(t("chain.predicted", { when: when(chain.predicted_finish_at) }));
  shown.hidden = !parts.length;
  shown.textContent = parts.join(" · ");
  const late = chain.deadline && chain.predicted_finish_at && chain.predicted_finish_at > chain.deadline;
  shown.classList.toggle("late", Boolean(late));
  shown.dataset.predicted = chain.predicted_finish_at ?? "";
}

// A step's predicted finish, for a step that has not finished (its time of day).
function eta(step) {
  if (!step.predicted_finish_at || !["running", "pending"].includes(step.state)) return "";
  const title = t("chain.predicted", { when: when(step.predicted_finish_at) });
  return ` <small class="eta" title="${esc(title)}">${esc(when(step.predicted_finish_at).slice(11))}</small>`;
}

export function renderChain(chain) {
  renderHead(chain);
  tick();
  // each step's state is the server's (GET /chains/{id} → ladder), not worked out here
  $("steps").innerHTML = chain.ladder
    .map((step) => {
      const { step: name, state: s } = step;
      const predicted = step.predicted_finish_at ?? "";
      return `<li class="step ${s}" data-step="${name}" data-state="${s}" data-predicted="${predicted}" title="${esc(stepName(name))}: ${esc(t(`ladder.${s}`))}"><span class="icon">${ICONS[s] || "○"}</span>${esc(stepName(name))}${eta(step)}</li>`;
    })
    .join("");
  // While the chain runs, the agents of its last two steps stay in view (earlier ones fold
  // up); once it is done the report comes first. A group the user opened or closed stays so.
  const groups = chain.steps.filter((s) => s.items.length);
  const recent = groups.slice(-2).map((s) => s.step);
  const open = (step) => chainState.open[`${chain.id}:${step}`] ?? (chain.status === "running" && recent.includes(step));
  $("step-details").innerHTML = groups.map((s) => renderStep(s, open(s.step))).join("");
  // Why a chain stopped or failed, unless its report already says it.
  const problem = chain.status !== "running" && chain.error && !(chain.report || "").includes(chain.error);
  $("chain-error").hidden = !problem;
  $("chain-error").textContent = problem ? chain.error : "";
  const box = $("report-box");
  box.hidden = !chain.report;
  if (chain.report) $("report").innerHTML = renderMarkdown(chain.report);
}

function stepTiming(step) {
  const end = step.finished_at ?? (step.status === "running" ? Date.now() / 1000 : null);
  const took = end ? ` · ${t(step.status === "running" ? "chain.running_for" : "chain.took", { seconds: seconds(end - step.started_at) })}` : "";
  return t("chain.started", { when: when(step.started_at) }) + took;
}

function renderStep(step, open) {
  const working = step.items.filter((i) => i.status === "working").length;
  const failed = step.items.filter((i) => !["working", "succeeded", "done"].includes(i.status)).length;
  const summary =
    t("chain.agents", { count: step.items.length }) + (working ? ` · ${t("chain.working_count", { count: working })}` : "") + (failed ? ` · ${t("chain.failed_count", { count: failed })}` : "");
  const cards = step.items.map((item) => renderItem(item, step)).join("");
  return `<details class="step-group" data-step="${esc(step.step)}" ${open ? "open" : ""}><summary><h4>${esc(stepName(step.step))} <small>${summary}</small></h4>
    <span class="step-timing muted">${esc(stepTiming(step))}</span></summary><div class="agents">${cards}</div></details>`;
}

function renderItem(item, step) {
  const content = item.content || item.error || "";
  // The preview is plain text: Markdown marks left out (the full text below is rendered).
  const body = content
    ? `<details class="answer"><summary>${esc(preview(content, 140))}</summary><div class="markdown">${renderMarkdown(content)}</div></details>`
    : `<div class="muted">${item.status === "working" ? t("chain.working") : ""}</div>`;
  const took = item.finished_at ? `<span class="agent-time" title="${esc(t("chain.answered", { when: when(item.finished_at) }))}">${seconds(item.finished_at - step.started_at)}</span>` : "";
  const sent = item.prompt
    ? `<details class="prompt"><summary>${t("chain.prompt_sent")}</summary>${item.system ? `<div class="muted small">${t("chain.system")}</div><pre>${esc(item.system)}</pre>` : ""}<pre>${esc(item.prompt)}</pre></details>`
    : "";
  return `<div class="agent ${esc(item.status)}" data-agent="${esc(item.agent)}" data-status="${esc(item.status)}">
    <div class="agent-head"><span class="agent-name">${esc(item.agent_name)}</span><span class="agent-status">${esc(st(item.status))}</span></div>
    <div class="agent-meta">${esc(item.department || "")} · ${esc(item.model)}${item.cost_usd ? ` · ${usd(item.cost_usd)}` : ""} ${took}</div>
    ${sent}${body}</div>`;
}

export function tick() {
  const chain = chainState.chain;
  if (!chain) return;
  const extra = chain.status === "running" ? (performance.now() - chainState.fetchedAt) / 1000 : 0;
  $("chain-elapsed").textContent = seconds(chain.elapsed_s + extra);
}

// Stop: cancels the chain's open batches and delivers what it has. Run again: a new chain with
// the same command; the view follows it (through `onStarted`).
export async function chainAction(action, onStarted) {
  const id = chainState.chainId;
  if (!id) return;
  const button = $(action === "cancel" ? "chain-stop" : "chain-rerun");
  button.disabled = true;
  try {
    const answer = await send(`/chains/${encodeURIComponent(id)}/${action}`, "POST");
    if (action === "rerun" && answer?.id) onStarted(answer.id);
    else await refreshChain();
    toast(action === "cancel" ? t("chain.stopped_toast", { id }) : t("chain.rerun_toast", { id, new_id: answer?.id ?? "?" }));
  } catch (e) {
    report(e);
  } finally {
    button.disabled = false;
  }
}

export function rememberFold(event) {
  // Remember the user's choice (re-renders would otherwise undo it); `open` flips after this.
  const summary = event.target.closest("details.step-group > summary");
  if (summary && chainState.chain) {
    chainState.open[`${chainState.chain.id}:${summary.parentElement.dataset.step}`] = !summary.parentElement.open;
  }
}
