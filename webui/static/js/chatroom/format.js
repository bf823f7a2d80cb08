// Provides dates in the appliance's time zone and the user's language, and the window's time left.
import { config, t } from "./config.js";

const timeOnly = new Intl.DateTimeFormat(config.lang, {
  timeZone: config.timezone, hour: "2-digit", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(config.lang, {
  timeZone: config.timezone, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const full = new Intl.DateTimeFormat(config.lang, {
  timeZone: config.timezone, dateStyle: "full", timeStyle: "short" });
const dayKey = new Intl.DateTimeFormat("en-CA", { timeZone: config.timezone });

// The server stores naive UTC ("2026-11-25 13:08:33.123456").
export function parseUtc(value) {
  if (!value) return null;
  const date = new Date(value.replace(" ", "T").slice(0, 23) + "Z");
  return Number.isNaN(date.getTime()) ? null : date;
}

export function when(value) {
  const date = parseUtc(value);
  if (!date) return "";
  const today = dayKey.format(new Date()) === dayKey.format(date);
  return (today ? timeOnly : dayAndTime).format(date);
}

export function whenFull(value) {
  const date = parseUtc(value);
  return date ? full.format(date) : "";
}

// Seconds left of the 24-hour window, as words: "3 h 20 min left", or "window closed".
export function windowLeft(seconds) {
  if (seconds <= 0) return t("window_closed");
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) return t("window_hours", { h: hours, m: minutes });
  return t("window_minutes", { m: Math.max(1, minutes) });
}
