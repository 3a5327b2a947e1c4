import { useTranslation } from "react-i18next";
import type { ConnectionStatus } from "../../realtime/connection";

/** Shown only while the live connection is not up: offline, or reconnecting. */
export function ConnectionBanner({ status, pending }: { status: ConnectionStatus; pending: number }) {
  const { t } = useTranslation();
  if (status === "online" || status === "stopped" || status === "connecting") return null;
  return (
    <div className={`connection-banner ${status}`} role="status" aria-live="polite" data-status={status}>
      {status === "offline" ? t("connection.offline") : t("connection.reconnecting")}
      {pending > 0 ? ` · ${t("connection.pending", { count: pending })}` : ""}
    </div>
  );
}
