/** The document title with the unread total, KakaoTalk-style: "(3) 소담". */
export function titleWithUnread(base: string, unread: number): string {
  if (unread <= 0) return base;
  return `(${unread > 999 ? "999+" : unread}) ${base}`;
}

/** Draws the favicon with a red unread dot and count; returns a data URL (CSP allows data: images). */
export function faviconWithBadge(unread: number, size = 64): string | null {
  if (typeof document === "undefined") return null;
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.fillStyle = "#1f9e8f";
  roundRect(ctx, 0, 0, size, size, size * 0.22);
  ctx.fill();
  ctx.fillStyle = "#ffffff";
  ctx.beginPath();
  ctx.ellipse(size / 2, size * 0.47, size * 0.3, size * 0.24, 0, 0, Math.PI * 2);
  ctx.fill();
  if (unread > 0) {
    const r = size * 0.26;
    ctx.fillStyle = "#ff3b30";
    ctx.beginPath();
    ctx.arc(size - r, r, r, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = "#fff";
    ctx.font = `bold ${Math.round(r * (unread > 9 ? 1.0 : 1.3))}px sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(unread > 99 ? "99" : String(unread), size - r, r + 1);
  }
  return canvas.toDataURL("image/png");
}

function roundRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}
