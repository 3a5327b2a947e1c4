import { useTranslation } from "react-i18next";
import { scanBadge } from "./scan";
import type { Attachment } from "./types";

/** 검사 중 / 안전 / 차단됨 / 검사 안 됨 (with the reason). */
export function ScanBadge({ attachment }: { attachment: Pick<Attachment, "scan_state" | "scan_reason"> }) {
  const { t } = useTranslation();
  const badge = scanBadge(attachment);
  const reason = badge.reason ? t(badge.reason) : null;
  return (
    <span className={`scan-badge scan-${badge.tone}`} data-scan={attachment.scan_state} title={reason ?? undefined}>
      {t(badge.label)}
      {reason ? <span className="scan-reason"> ({reason})</span> : null}
    </span>
  );
}
