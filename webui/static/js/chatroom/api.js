// Provides calls to the JSON API: same-origin fetches, the CSRF header on every POST.
const token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

export class ApiError extends Error {
  constructor(status, message) {
    super(message || "HTTP " + status);
    this.status = status;
  }
}

async function answer(response) {
  if (response.status === 401) {
    window.location.assign("/login");
    throw new ApiError(401, "");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (ignored) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body && body.error);
  return body;
}

// Calls made while `quietly` runs are the page refreshing itself after a live change, not
// the user: the server does not count them as activity, so an idle tab still signs out.
let background = false;

export function quietly(work) {
  background = true;
  try {
    return work();
  } finally {
    background = false;
  }
}

function marked(headers) {
  return background ? Object.assign(headers, { "X-Gembok-Background": "1" }) : headers;
}

export async function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) query.set(key, value);
  }
  const url = query.toString() ? path + "?" + query : path;
  return answer(await fetch(url, { credentials: "same-origin",
                                   headers: marked({ Accept: "application/json" }) }));
}

export async function post(path, body = {}) {
  return answer(await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: marked({ "Content-Type": "application/json", Accept: "application/json",
                      "X-CSRFToken": token }),
    body: JSON.stringify(body),
  }));
}

export async function upload(path, form) {
  return answer(await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": token }, body: form,
  }));
}
