import { useTranslation } from "react-i18next";

export function TypingIndicator({ names }: { names: string[] }) {
  const { t } = useTranslation();
  return (
    <div className="typing-indicator" role="status" aria-live="polite">
      {names.length === 0
        ? ""
        : names.length === 1
          ? t("chat.typingOne", { name: names[0] })
          : t("chat.typingMany", { name: names[0], count: names.length - 1 })}
    </div>
  );
}
