// Provides the page's settings and words, read from its JSON data block (data, not script).
const data = JSON.parse(document.getElementById("chatroom-config").textContent);

export const config = data;

export function can(permission) {
  return data.permissions.includes(permission);
}

export function t(key, vars = {}) {
  const text = data.strings[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}
