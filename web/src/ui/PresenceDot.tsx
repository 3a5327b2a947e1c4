import { useTranslation } from "react-i18next";
import type { PresenceStatus } from "../lib/model";

export function PresenceDot({ status }: { status: PresenceStatus }) {
  const { t } = useTranslation();
  return <span className={`presence-dot presence-${status}`} role="img" aria-label={t(`presence.${status}`)} />;
}
