import { type Attachment, UNSCANNED_REASONS } from "./types";

export type BadgeTone = "pending" | "ok" | "blocked" | "warn";

/** What the badge on a file card says: an i18n key, and for `unscanned` the reason's key. */
export interface ScanBadge {
  tone: BadgeTone;
  label: string;
  reason: string | null;
}

/**
 * Whether a file shows its scan badge (card, tile, viewer). `scanner_disabled` only where the
 * server is known to scan (server-info's `virus_scanning`): there it marks a file sent before the
 * scanner was set up, which must not look like a scanned one. On a server that scans nothing, or
 * before it has said, every file would say 검사 안 됨 and the badge would tell nothing.
 */
export function showScanBadge(a: Pick<Attachment, "scan_state" | "scan_reason">, scanning: boolean | null): boolean {
  return !(scanning !== true && a.scan_state === "unscanned" && a.scan_reason === "scanner_disabled");
}

/** 검사 중 / 안전 / 차단됨 / 검사 안 됨 (with why). */
export function scanBadge(a: Pick<Attachment, "scan_state" | "scan_reason">): ScanBadge {
  switch (a.scan_state) {
    case "pending":
      return { tone: "pending", label: "scan.pending", reason: null };
    case "clean":
      return { tone: "ok", label: "scan.clean", reason: null };
    case "infected":
      return { tone: "blocked", label: "scan.infected", reason: null };
    case "unscanned":
      return { tone: "warn", label: "scan.unscanned", reason: `scanReason.${knownReason(a.scan_reason)}` };
  }
}

/** The server's reason if the client has words for it; a reason added later reads as unknown. */
function knownReason(reason: string | null): string {
  return UNSCANNED_REASONS.find((r) => r === reason) ?? "unknown";
}

export interface DownloadPermission {
  allowed: boolean;
  /** Why not, as an i18n key. */
  reason: string | null;
}

/**
 * The server's rule (docs/files.md, "Downloads"), so the link is disabled with the reason instead
 * of failing: an infected file for no one; the uploader their own file at any time; the others
 * once the server says `downloadable`.
 */
export function downloadPermission(a: Pick<Attachment, "scan_state" | "downloadable">, mine: boolean): DownloadPermission {
  if (a.scan_state === "infected") return { allowed: false, reason: "downloadBlocked.infected" };
  if (mine || a.downloadable) return { allowed: true, reason: null };
  if (a.scan_state === "pending") return { allowed: false, reason: "downloadBlocked.scanning" };
  return { allowed: false, reason: "downloadBlocked.notScanned" };
}
