import { type Attachment, UNSCANNED_REASONS } from "./types";

export type BadgeTone = "pending" | "ok" | "blocked" | "warn";

/** What the badge on a file card says: an i18n key, and for `unscanned` the reason's key. */
export interface ScanBadge {
  tone: BadgeTone;
  label: string;
  reason: string | null;
}

/**
 * Whether a file shows its scan badge (card, tile, viewer). Not on a server that scans nothing
 * (`scanning === false`, from server-info): there every file would say 검사 안 됨 and the badge
 * tells nothing about the file. Once a scanner is set up, files sent before it keep
 * `scanner_disabled` and show it, so they never look like the scanned ones.
 */
export function showScanBadge(a: Pick<Attachment, "scan_state" | "scan_reason">, scanning: boolean | null): boolean {
  return !(scanning === false && a.scan_state === "unscanned" && a.scan_reason === "scanner_disabled");
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
