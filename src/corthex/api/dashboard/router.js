// Hash routes, so that every view has its own URL and a reload (or a shared link) opens it again:
//   #/chains  #/chains/ID  #/jobs  #/jobs/ID  #/queue  #/archive  #/archive/NAME  #/costs

const TABS = ["chains", "jobs", "queue", "archive", "costs"];

export function parse(hash = location.hash) {
  const [section, ...rest] = hash.replace(/^#\/?/, "").split("/");
  const tab = TABS.includes(section) ? section : "chains";
  const id = rest.length ? decodeURIComponent(rest.join("/")) : null;
  return { tab, id };
}

export function href(tab, id) {
  return id ? `#/${tab}/${encodeURIComponent(id)}` : `#/${tab}`;
}

export function go(tab, id) {
  const target = href(tab, id);
  if (location.hash !== target) location.hash = target;
}

export function onRoute(handler) {
  window.addEventListener("hashchange", () => handler(parse()));
}
