// A small, safe Markdown renderer for reports: every character of the source is HTML-escaped
// first, so model output can never inject markup; then the common block and inline forms
// (headings, lists, tables, quotes, code, emphasis, http(s) links) become HTML.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function inline(text) {
  // `text` is already escaped. Code spans first, kept apart from the other rules.
  const codes = [];
  let out = text.replace(/`([^`]+)`/g, (_, code) => {
    codes.push(`<code>${code}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  out = out
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/__([^_]+)__/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/(^|[\s(])_([^_\s][^_]*)_(?=[\s).,;:!?]|$)/g, "$1<em>$2</em>")
    .replace(/~~([^~]+)~~/g, "<del>$1</del>")
    .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2" target="_blank" rel="noopener noreferrer">$1</a>');
  return out.replace(/\u0000(\d+)\u0000/g, (_, i) => codes[Number(i)]);
}

const isTableRow = (line) => /^\s*\|.*\|\s*$/.test(line);
const isTableRule = (line) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);
const cells = (line) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => inline(c.trim()));

function table(lines) {
  const [head, , ...body] = lines;
  const th = cells(head).map((c) => `<th>${c}</th>`).join("");
  const rows = body.map((l) => `<tr>${cells(l).map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${th}</tr></thead><tbody>${rows}</tbody></table>`;
}

function list(lines, ordered) {
  const tag = ordered ? "ol" : "ul";
  const marker = ordered ? /^\s*\d+[.)]\s+/ : /^\s*[-*+]\s+/;
  const items = lines.map((l) => `<li>${inline(l.replace(marker, ""))}</li>`).join("");
  return `<${tag}>${items}</${tag}>`;
}

export function renderMarkdown(source) {
  const lines = escapeHtml(source).replace(/\r\n?/g, "\n").split("\n");
  const html = [];
  let i = 0;
  const take = (test) => {
    const block = [];
    while (i < lines.length && test(lines[i])) block.push(lines[i++]);
    return block;
  };
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*```/.test(line)) {
      i++;
      const code = take((l) => !/^\s*```/.test(l));
      i++;
      html.push(`<pre><code>${code.join("\n")}</code></pre>`);
    } else if (/^#{1,6}\s/.test(line)) {
      const level = line.match(/^#+/)[0].length;
      html.push(`<h${level}>${inline(line.slice(level).trim())}</h${level}>`);
      i++;
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      html.push("<hr>");
      i++;
    } else if (/^\s*&gt;/.test(line)) {
      const quoted = take((l) => /^\s*&gt;/.test(l)).map((l) => l.replace(/^\s*&gt;\s?/, ""));
      html.push(`<blockquote>${renderMarkdownEscaped(quoted)}</blockquote>`);
    } else if (isTableRow(line) && i + 1 < lines.length && isTableRule(lines[i + 1])) {
      html.push(table(take(isTableRow)));
    } else if (/^\s*[-*+]\s+/.test(line)) {
      html.push(list(take((l) => /^\s*[-*+]\s+/.test(l)), false));
    } else if (/^\s*\d+[.)]\s+/.test(line)) {
      html.push(list(take((l) => /^\s*\d+[.)]\s+/.test(l)), true));
    } else if (line.trim() === "") {
      i++;
    } else {
      const para = take((l) => l.trim() !== "" && !/^(#{1,6}\s|\s*```|\s*[-*+]\s+|\s*\d+[.)]\s+|\s*&gt;)/.test(l));
      if (para.length === 0) para.push(lines[i++]);
      html.push(`<p>${para.map(inline).join("<br>")}</p>`);
    }
  }
  return html.join("\n");
}

// Quoted lines are already escaped: render them without escaping twice.
function renderMarkdownEscaped(lines) {
  const unescaped = lines.join("\n").replace(/&(amp|lt|gt|quot|#39);/g, (m) => {
    return { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" }[m];
  });
  return renderMarkdown(unescaped);
}
