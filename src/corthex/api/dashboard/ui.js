// Shared page helpers: element lookup, the toast, and refreshes that keep only the latest answer.

import { ApiError, describe, json } from "./api.js";
import { t } from "./i18n.js";

export const $ = (id) => document.getElementById(id);
const timers = {};
const tickets = {};

// The answer to the latest request for `key`, or null when a later one was sent meanwhile: answers
// can come back out of order, and an older one (a chain still running) must not overwrite a newer
// one (the chain done) that no later event would ever correct.
export async function latest(key, path) {
  const ticket = (tickets[key] = (tickets[key] || 0) + 1);
  const body = await json(path);
  return ticket === tickets[key] ? body : null;
}

// `latest` of a filtered list; a server that refuses the filter (422: a status it does not know)
// is asked for the plain list, which the caller filters itself.
export async function latestFiltered(key, path, plainPath) {
  try {
    return await latest(key, path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 422 && path !== plainPath) return latest(key, plainPath);
    throw e;
  }
}

export function later(key, fn, ms) {
  // Many events in a burst → one refresh.
  clearTimeout(timers[key]);
  timers[key] = setTimeout(() => fn().catch(report), ms);
}

export function report(error) {
  if (error instanceof ApiError && error.status === 404) return;
  toast(error instanceof ApiError ? describe(error) : String(error?.message || error), { sticky: true });
}

// A note in the corner. Errors (`sticky`) stay until dismissed: a validation message naming
// ten lines cannot be read in five seconds.
export function toast(text, { sticky = false } = {}) {
  const box = $("toast");
  $("toast-text").textContent = text;
  box.hidden = false;
  box.dataset.sticky = sticky ? "1" : "";
  clearTimeout(timers.toast);
  if (!sticky) timers.toast = setTimeout(() => (box.hidden = true), 5000);
}

export function dismissToast() {
  clearTimeout(timers.toast);
  $("toast").hidden = true;
}

export function errorText(e) {
  return e instanceof ApiError ? describe(e) : String(e?.message || e);
}

// The EMULATOR badge: answers from the emulator must never be taken for real ones.
export async function showEmulated() {
  const health = await (await fetch("/healthz")).json();
  const emulated = Object.entries(health.emulated || {}).filter(([, yes]) => yes).map(([name]) => name);
  const badge = $("emulator");
  badge.hidden = !emulated.length;
  badge.title = t("emulator.title", { providers: emulated.join(", ") });
  badge.dataset.providers = emulated.join(",");
}
