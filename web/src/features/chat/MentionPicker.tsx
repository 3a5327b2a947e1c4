import { useTranslation } from "react-i18next";
import { Avatar } from "../../ui/Avatar";

export interface MentionCandidate {
  userId: number | "all";
  label: string;
}

export interface MentionPickerProps {
  candidates: MentionCandidate[];
  active: number;
  onPick(candidate: MentionCandidate): void;
}

export function MentionPicker({ candidates, active, onPick }: MentionPickerProps) {
  const { t } = useTranslation();
  if (candidates.length === 0) return null;
  return (
    <ul className="mention-picker" role="listbox" id="mention-picker" aria-label={t("chat.mentionPicker")}>
      {candidates.map((c, i) => (
        <li
          key={String(c.userId)}
          id={`mention-${String(c.userId)}`}
          role="option"
          aria-selected={i === active}
          className={i === active ? "active" : ""}
          onMouseDown={(e) => {
            e.preventDefault();
            onPick(c);
          }}
        >
          <Avatar name={c.label} seed={c.userId === "all" ? 0 : c.userId} size={26} group={c.userId === "all"} />
          <span>{c.userId === "all" ? t("chat.mentionAllHint", { label: c.label }) : c.label}</span>
        </li>
      ))}
    </ul>
  );
}
