import { describe, expect, it } from "vitest";
import { attachment } from "../../test/factories";
import { showScanBadge, downloadPermission, scanBadge } from "./scan";

describe("scan badge", () => {
  it("maps every scan state to its label and tone", () => {
    expect(scanBadge(attachment({ scan_state: "pending" }))).toEqual({ tone: "pending", label: "scan.pending", reason: null });
    expect(scanBadge(attachment({ scan_state: "clean" }))).toEqual({ tone: "ok", label: "scan.clean", reason: null });
    expect(scanBadge(attachment({ scan_state: "infected" }))).toEqual({ tone: "blocked", label: "scan.infected", reason: null });
    expect(scanBadge(attachment({ scan_state: "unscanned", scan_reason: "too_large" }))).toEqual({
      tone: "warn",
      label: "scan.unscanned",
      reason: "scanReason.too_large",
    });
    expect(scanBadge(attachment({ scan_state: "unscanned", scan_reason: "scanner_limit" })).reason).toBe("scanReason.scanner_limit");
    expect(scanBadge(attachment({ scan_state: "unscanned", scan_reason: null })).reason).toBe("scanReason.unknown");
    expect(scanBadge(attachment({ scan_state: "unscanned", scan_reason: "added_later" })).reason).toBe("scanReason.unknown");
  });

  it("is left off cards and tiles only on a server with no scanner, where it would be on every file", () => {
    const noScanner = attachment({ scan_state: "unscanned", scan_reason: "scanner_disabled" });
    expect(showScanBadge(noScanner, false)).toBe(false);
    // Sent before a scanner was set up: still marked. Before the server has said: not (the
    // default server has no scanner, and a badge that comes and goes is worse).
    expect(showScanBadge(noScanner, true)).toBe(true);
    expect(showScanBadge(noScanner, null)).toBe(false);
    for (const reason of ["too_large", "scanner_limit", "scanner_error", null]) {
      expect(showScanBadge(attachment({ scan_state: "unscanned", scan_reason: reason }), false)).toBe(true);
    }
    for (const state of ["pending", "clean", "infected"] as const) expect(showScanBadge(attachment({ scan_state: state }), false)).toBe(true);
  });
});

describe("download permission", () => {
  it("lets the uploader have their own file while it is scanned, and the others once downloadable", () => {
    const pending = attachment({ scan_state: "pending", downloadable: false });
    expect(downloadPermission(pending, true)).toEqual({ allowed: true, reason: null });
    expect(downloadPermission(pending, false)).toEqual({ allowed: false, reason: "downloadBlocked.scanning" });
    expect(downloadPermission(attachment({ scan_state: "clean", downloadable: true }), false).allowed).toBe(true);
    expect(downloadPermission(attachment({ scan_state: "unscanned", scan_reason: "scanner_disabled", downloadable: true }), false).allowed).toBe(true);
    expect(downloadPermission(attachment({ scan_state: "unscanned", scan_reason: "scanner_error", downloadable: false }), false)).toEqual({
      allowed: false,
      reason: "downloadBlocked.notScanned",
    });
  });

  it("blocks an infected file for everyone, the uploader included", () => {
    const infected = attachment({ scan_state: "infected", downloadable: false });
    expect(downloadPermission(infected, true)).toEqual({ allowed: false, reason: "downloadBlocked.infected" });
    expect(downloadPermission(infected, false)).toEqual({ allowed: false, reason: "downloadBlocked.infected" });
  });
});
