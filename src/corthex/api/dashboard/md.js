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
const split = (line) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());

function table(lines) {
  const [head, rule, ...body] = lines;
  const align = split(rule).map((r) => (r.endsWith(":") ? (r.startsWith(":") ? "center" : "right") : ""));
  const cell = (tag, text, i) => `<${tag}${align[i] ? ` style="text-align:${align[i]}"` : ""}>${inline(text)}</${tag}>`;
  const th = split(head).map((c, i) => cell("th", c, i)).join("");
  const rows = body.map((l) => `<tr>${split(l).map((c, i) => cell("td", c, i)).join("")}</tr>`).join("");
  return `<table><thead><tr>${th}</tr></thead><tbody>${rows}</tbody></table>`;
}

// Lists nest by indentation; an item may go on over indented lines; blank lines between
// items do not end the list (so "1." … "2." … stays one numbered list).
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const indentOf = (text) => text.replace(/\t/g, "    ").length;

function takeList(lines, i) {
  const items = [];
  while (i < lines.length) {
    const match = lines[i].match(LIST_ITEM);
    if (match) {
      const ordered = /\d/.test(match[2]);
      items.push({ indent: indentOf(match[1]), ordered, start: ordered ? parseInt(match[2], 10) : 1, text: [match[3]] });
      i++;
    } else if (lines[i].trim() === "") {
      let next = i;
      while (next < lines.length && lines[next].trim() === "") next++;
      if (next < lines.length && (LIST_ITEM.test(lines[next]) || /^\s{2,}\S/.test(lines[next]))) i = next;
      else break;
    } else if (/^\s{2,}\S/.test(lines[i])) {
      items[items.length - 1].text.push(lines[i].trim());
      i++;
    } else break;
  }
  const html = [];
  for (let at = 0; at < items.length; ) {
    const [block, next] = buildList(items, at);
    html.push(block);
    at = next;
  }
  return [html.join("\n"), i];
}

function buildList(items, at) {
  const { indent: base, ordered, start } = items[at];
  const lis = [];
  let i = at;
  while (i < items.length && items[i].indent >= base) {
    if (items[i].indent > base) {
      const [child, next] = buildList(items, i);
      lis[lis.length - 1] += child;
      i = next;
      continue;
    }
    if (items[i].ordered !== ordered) break; // another kind of list at this level
    lis.push(items[i].text.map(inline).join("<br>"));
    i++;
  }
  const tag = ordered ? "ol" : "ul";
  const first = ordered && start !== 1 ? ` start="${start}"` : "";
  return [`<${tag}${first}>${lis.map((li) => `<li>${li}</li>`).join("")}</${tag}>`, i];
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
    } else if (LIST_ITEM.test(line)) {
      const [block, next] = takeList(lines, i);
      html.push(block);
      i = next;
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
