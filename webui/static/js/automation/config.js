// Provides an Auto Reply page's settings and words, read from its JSON data block (data, not script).
const data = JSON.parse(document.getElementById("automation-config").textContent);

export const config = data;

export function t(key, vars = {}) {
  const text = data.strings[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// A <select>'s options from [value, text] pairs; `chosen` is selected (compared as text).
export function fill(select, pairs, chosen) {
  for (const [value, text] of pairs) {
    const option = document.createElement("option");
    option.value = value === null ? "" : String(value);
    option.textContent = text;
    option.selected = option.value === (chosen === null || chosen === undefined ? ""
                                                                                : String(chosen));
    select.append(option);
  }
  return select;
}

// A number from a select or input ("" is none).
export function numberOrNull(value) {
  return value === "" ? null : Number.parseInt(value, 10);
}
