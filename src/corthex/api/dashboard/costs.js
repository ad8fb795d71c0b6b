// Costs: today against the budget, cost per day, and beside the chart the same days' cost by
// provider, model and department.

import { columnDigits, esc, usd } from "./format.js";
import { t } from "./i18n.js";
import { $, latest } from "./ui.js";

export async function refreshCosts() {
  const costs = await latest("costs", "/costs?days=14");
  if (!costs) return;
  const budget = costs.budget_usd;
  const today = usd(costs.today_usd);
  $("budget-text").textContent = budget ? t("costs.of_budget", { spent: today, budget: usd(budget) }) : t("costs.no_budget_short", { spent: today });
  const bar = $("budget-bar");
  bar.style.width = budget ? `${Math.min(100, (100 * costs.today_usd) / budget)}%` : "0%";
  bar.classList.toggle("over", Boolean(budget && costs.today_usd > budget));
  // left = budget - spent - held by open jobs: what the next submission is checked against
  const held = costs.held_usd ? t("costs.held", { held: usd(costs.held_usd) }) : "";
  const rest = costs.remaining_usd >= 0 ? t("costs.left", { left: usd(costs.remaining_usd) }) : t("costs.over", { over: usd(-costs.remaining_usd) });
  const line = budget ? t("costs.today_budget", { budget: usd(budget), held, rest }) : t("costs.today_no_budget");
  $("costs-today").textContent = t("costs.today", { timezone: costs.timezone, spent: today }) + line;
  $("costs-chart").innerHTML = chart(costs.days, budget);
  $("costs-breakdown").innerHTML = breakdown(costs.breakdown, costs.days.length);
}

function shareTable(key, shares) {
  const rows = Object.entries(shares || {});
  if (!rows.length) return "";
  const total = rows.reduce((s, [, v]) => s + v, 0);
  const digits = columnDigits(rows.map(([, v]) => v));
  const body = rows
    .map(
      ([name, v]) => `<tr data-${key}="${esc(name)}"><td>${esc(name)}</td><td class="num money">${usd(v, digits)}</td>
      <td class="share"><div class="bar"><div class="ok" style="width:${total ? (100 * v) / total : 0}%"></div></div></td></tr>`,
    )
    .join("");
  return `<table class="list shares" data-by="${key}"><thead><tr><th>${t(`col.${key}`)}</th><th>${t("col.cost")}</th><th></th></tr></thead><tbody>${body}</tbody></table>`;
}

function breakdown(shares, days) {
  if (!shares) return ""; // an older server: the chart alone
  const tables = [shareTable("provider", shares.by_provider), shareTable("model", shares.by_model), shareTable("department", shares.by_department)].join("");
  return tables ? `<h4>${t("costs.breakdown", { days })}</h4>${tables}` : `<p class="muted">${t("costs.nothing", { days })}</p>`;
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
      return `<g data-day="${d.day}"><title>${t("costs.day_title", { day: d.day, cost: usd(d.cost_usd), realtime: usd(d.realtime_cost_usd), saving: usd(d.realtime_cost_usd - d.cost_usd) })}</title>
        <rect class="rt" x="${x}" y="${h - pad - rh}" width="${bw}" height="${rh}"></rect>
        <rect class="cost" x="${x}" y="${h - pad - ch}" width="${bw}" height="${ch}"></rect>${label}</g>`;
    })
    .join("");
  const axis = `<line class="axis" x1="${pad}" x2="${w - pad}" y1="${h - pad}" y2="${h - pad}"></line>`;
  let budgetLine = "";
  let budgetNote = "";
  if (budget && budget <= max) {
    const y = h - pad - scale(budget);
    budgetLine = `<line class="budget" x1="${pad}" x2="${w - pad}" y1="${y}" y2="${y}"><title>${t("costs.daily_budget", { budget: usd(budget) })}</title></line>`;
    budgetNote = ` <span class="budget"></span> ${t("costs.daily_budget", { budget: usd(budget) })}`;
  } else if (budget) budgetNote = ` · ${t("costs.budget_above", { budget: usd(budget) })}`;
  const saved = days.reduce((sum, d) => sum + d.realtime_cost_usd - d.cost_usd, 0);
  const spent = days.reduce((sum, d) => sum + d.cost_usd, 0);
  return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${t("costs.per_day")}"><text x="${pad}" y="12">${t("costs.scale", { max: usd(max) })}</text>${axis}${bars}${budgetLine}</svg>
    <p class="legend"><span class="cost"></span> ${t("fig.cost")} <span class="rt"></span> ${t("fig.realtime")}${budgetNote}</p>
    <p class="muted" id="costs-total">${t("costs.total", { days: days.length, spent: usd(spent), saved: usd(saved) })}</p>`;
}
