// Numbers, money and times as the whole dashboard shows them.

export { escapeHtml as esc } from "./md.js";

const MIN_DIGITS = 2;
const MAX_DIGITS = 6;

// Decimals that show `n` with two significant digits ($0.0012, $0.050, $1.23), 2 to 6 of them.
function digitsFor(n) {
  const v = Math.abs(Number(n));
  if (!v || v >= 0.1) return MIN_DIGITS;
  return Math.min(MAX_DIGITS, Math.max(MIN_DIGITS, Math.ceil(-Math.log10(v)) + 1));
}

// Money: never "$0.000000" (a cost too small to show reads "<$0.000001"); `digits` fixes the
// precision, e.g. one precision for a whole column (columnDigits).
export function usd(n, digits) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return "–";
  const v = Number(n);
  if (v === 0) return "$0"; // nothing spent reads as nothing, whatever the column's precision
  if (Math.abs(v) < 10 ** -MAX_DIGITS) return `${v < 0 ? "-" : ""}<$0.000001`;
  const d = digits ?? digitsFor(v);
  return `${v < 0 ? "-" : ""}$${Math.abs(v).toFixed(d)}`;
}

// One precision for a column: enough for its smallest non-zero amount.
export function columnDigits(values) {
  const amounts = values.map((v) => Math.abs(Number(v))).filter((v) => v > 0);
  return amounts.length ? Math.max(...amounts.map(digitsFor)) : MIN_DIGITS;
}

const pad = (n) => String(n).padStart(2, "0");

// A date and a time, always both: "2026-12-03 14:05:09" (local time).
export function when(t) {
  if (!t) return "";
  const d = new Date(t * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function seconds(s) {
  if (s === null || s === undefined) return "–";
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
}

// A plain-text preview of Markdown: the marks left out, cut at `length` characters.
export function preview(text, length) {
  const plain = String(text ?? "")
    .replace(/(^|\s)(#{1,6}|>)\s/g, "$1")
    .replace(/\*\*|`/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return plain.length > length ? `${plain.slice(0, length)}…` : plain;
}

export const count = (n) => Number(n || 0).toLocaleString("en-US");
