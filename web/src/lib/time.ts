/** Time formatting in the user's locale and time zone (KakaoTalk style: 오후 3:04). */
export function formatTime(iso: string, locale: string): string {
  return new Date(iso).toLocaleTimeString(locale, { hour: "numeric", minute: "2-digit" });
}

export function formatDay(iso: string, locale: string): string {
  return new Date(iso).toLocaleDateString(locale, { year: "numeric", month: "long", day: "numeric", weekday: "long" });
}

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function minuteKey(iso: string): string {
  const d = new Date(iso);
  return `${dayKey(iso)} ${d.getHours()}:${d.getMinutes()}`;
}

/** Room-list time: the time today, "어제" yesterday, else the date. */
export function formatListTime(iso: string, locale: string, now: Date, yesterdayLabel: string): string {
  const d = new Date(iso);
  if (dayKey(iso) === dayKey(now.toISOString())) return formatTime(iso, locale);
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (dayKey(iso) === dayKey(y.toISOString())) return yesterdayLabel;
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString(locale, { month: "short", day: "numeric" });
  return d.toLocaleDateString(locale, { year: "numeric", month: "numeric", day: "numeric" });
}
