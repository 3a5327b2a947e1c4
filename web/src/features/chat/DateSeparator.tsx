import { useTranslation } from "react-i18next";
import { formatDay } from "../../lib/time";

export function DateSeparator({ date }: { date: string }) {
  const { i18n } = useTranslation();
  return (
    <div className="date-separator" role="separator">
      <span>{formatDay(date, i18n.language)}</span>
    </div>
  );
}
