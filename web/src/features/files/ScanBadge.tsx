import { useTranslation } from "react-i18next";
import { scanBadge } from "./scan";
import type { Attachment } from "./types";

/**
 * 검사 중 / 안전 / 차단됨 / 검사 안 됨 (with the reason). `compact` (on photo tiles, a few dozen
 * pixels wide) shows the label alone; the reason stays in the tooltip and for screen readers.
 */
export function ScanBadge({
  attachment,
  compact = false,
}: {
  attachment: Pick<Attachment, "scan_state" | "scan_reason">;
  compact?: boolean;
}) {
  const { t } = useTranslation();
  const badge = scanBadge(attachment);
  const reason = badge.reason ? t(badge.reason) : null;
  return (
    <span className={`scan-badge scan-${badge.tone}`} data-scan={attachment.scan_state} title={reason ?? undefined}>
      {t(badge.label)}
      {reason ? <span className={compact ? "sr-only" : "scan-reason"}> ({reason})</span> : null}
    </span>
  );
}
