// REST calls with the API token (asked for once, on the first 401, and kept in localStorage).

const TOKEN_KEY = "corthex.apiToken";
let asking = null;

export function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export function askToken() {
  // One dialog at a time, however many calls were refused.
  if (!asking) {
    asking = new Promise((resolve) => {
      const dialog = document.getElementById("token-dialog");
      const input = document.getElementById("token-input");
      input.value = "";
      dialog.addEventListener(
        "close",
        () => {
          const value = input.value.trim();
          if (value) localStorage.setItem(TOKEN_KEY, value);
          asking = null;
          resolve(value);
        },
        { once: true },
      );
      dialog.showModal();
      input.focus();
    });
  }
  return asking;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function request(path, options = {}) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const used = token();
    const headers = new Headers(options.headers || {});
    if (used) headers.set("Authorization", `Bearer ${used}`);
    const response = await fetch(path, { ...options, headers });
    if (response.status === 401) {
      // Ask only if no newer token came in meanwhile (several calls may be refused at once).
      if (token() === used) {
        localStorage.removeItem(TOKEN_KEY);
        await askToken();
      }
      continue;
    }
    if (!response.ok) {
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = { detail: `HTTP ${response.status}` };
      }
      throw new ApiError(response.status, body);
    }
    return response;
  }
  throw new ApiError(401, { detail: "the API token was refused" });
}

export async function json(path, options = {}) {
  return (await request(path, options)).json();
}

export async function send(path, method, body) {
  const options = { method };
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  return json(path, options);
}

// "Line 3, field 'model': no provider serves …" for each problem the API named.
export function describe(error) {
  const problems = error?.body?.problems || [];
  if (!problems.length) return error.message;
  return problems
    .slice(0, 10)
    .map((p) => `${p.line ? `${p.unit} ${p.line}` : "input"}${p.field ? `, field '${p.field}'` : ""}: ${p.reason}`)
    .join("\n");
}
