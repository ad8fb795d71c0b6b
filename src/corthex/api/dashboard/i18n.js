// The dashboard's words, Korean or English: the catalogue is the server's (GET /i18n, from
// corthex/i18n.py), which also picks the default language (CORTHEX_LANGUAGE, else Korean in the
// Asia/Seoul time zone, else the browser's). The header's switch overrides it, remembered here.
// Static labels carry data-i18n (text), data-i18n-html (the few `_html` keys), data-i18n-
// placeholder, data-i18n-title and data-i18n-aria; app code calls t(key, {field: value}).
// Data (commands, reports, model names, ids) is never translated.

const KEY = "corthex.lang";
let strings = {};
let current = "en";

export const lang = () => current;

// The `key` string filled with `values` ({field} → value); the key itself when it is missing.
export function t(key, values) {
  const template = strings[key] ?? key;
  if (!values) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// A status as people read it (queued, running, …); an unknown one as it is.
export const st = (status) => (status ? (strings[`status.${status}`] ?? status) : "");

// A chain step's name (classify, specialists, …); a step the catalogue lacks keeps its id.
export const stepName = (step) => strings[`step.${step}`] ?? step;

export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-html]")) el.innerHTML = t(el.dataset.i18nHtml);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

// Load the chosen language (the remembered one, else the server's default) and relabel the page.
export async function loadLanguage() {
  const chosen = localStorage.getItem(KEY);
  const response = await fetch(`/i18n${chosen ? `?lang=${encodeURIComponent(chosen)}` : ""}`);
  const body = await response.json();
  strings = body.strings || {};
  current = body.lang;
  document.documentElement.lang = current;
  document.documentElement.dataset.lang = current;
  applyStatic();
  const select = document.getElementById("lang-switch");
  if (select) select.value = current;
  return current;
}

export function chooseLanguage(code) {
  localStorage.setItem(KEY, code);
  return loadLanguage();
}
