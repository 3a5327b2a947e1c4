/**
 * Splits message text into plain text, links and mentions. Only http, https and mailto become
 * links (reliability.md §4); everything else, `javascript:` included, stays text. The UI renders
 * every segment as a text node: there is no HTML anywhere in this path.
 */
export type Segment =
  | { type: "text"; text: string }
  | { type: "link"; text: string; href: string }
  | { type: "mention"; userId: number | "all" };

const TOKEN_RE = /<@(all|\d{1,18})>|\b((?:https?:\/\/|mailto:)[^\s<>"'`]+|www\.[^\s<>"'`]+)/giu;
const TRAILING_PUNCT = /[.,;:!?)\]}'"。、·…]+$/u;

export function safeHref(raw: string): string | null {
  let candidate = raw;
  if (/^www\./i.test(candidate)) candidate = `https://${candidate}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:" && url.protocol !== "mailto:") return null;
  return url.href;
}

export function segment(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  const push = (t: string) => {
    if (!t) return;
    const prev = out[out.length - 1];
    if (prev?.type === "text") prev.text += t;
    else out.push({ type: "text", text: t });
  };
  for (const match of text.matchAll(TOKEN_RE)) {
    const start = match.index ?? 0;
    push(text.slice(last, start));
    if (match[1] !== undefined) {
      out.push({ type: "mention", userId: match[1].toLowerCase() === "all" ? "all" : Number(match[1]) });
      last = start + match[0].length;
      continue;
    }
    let link = match[2] ?? "";
    const trail = TRAILING_PUNCT.exec(link);
    if (trail) link = link.slice(0, link.length - trail[0].length);
    // Keep a closing parenthesis that belongs to the URL, as in wiki links.
    const href = safeHref(link);
    if (href && link.length > 0) {
      out.push({ type: "link", text: link, href });
      last = start + link.length;
    } else {
      push(match[0]);
      last = start + match[0].length;
    }
  }
  push(text.slice(last));
  return out;
}

/** The body as plain text for previews and notifications: mentions become "@name". */
export function plainText(body: string, nameOf: (userId: number) => string | null, allLabel: string): string {
  return segment(body)
    .map((s) => (s.type === "mention" ? `@${s.userId === "all" ? allLabel : (nameOf(s.userId) ?? "?")}` : s.text))
    .join("");
}
