import { useTranslation } from "react-i18next";
import type { ReactionKind, ReactionSummary } from "../../lib/model";
import { REACTION_EMOJI } from "./reactions";

export interface ReactionChipsProps {
  reactions: ReactionSummary[];
  myUserId: number;
  nameOf(userId: number): string | null;
  onToggle(reaction: ReactionKind, mine: boolean): void;
}

export function ReactionChips({ reactions, myUserId, nameOf, onToggle }: ReactionChipsProps) {
  const { t } = useTranslation();
  if (reactions.length === 0) return null;
  return (
    <div className="reactions" role="group" aria-label={t("chat.reactions")}>
      {reactions.map((r) => {
        const mine = r.user_ids.includes(myUserId);
        const who = r.user_ids.map((id) => nameOf(id) ?? "?").join(", ");
        return (
          <button
            key={r.reaction}
            type="button"
            className={`reaction-chip${mine ? " mine" : ""}`}
            aria-pressed={mine}
            title={who}
            aria-label={t("chat.reactionCount", { reaction: t(`reaction.${r.reaction}`), count: r.count })}
            onClick={() => onToggle(r.reaction, mine)}
          >
            <span aria-hidden="true">{REACTION_EMOJI[r.reaction]}</span> {r.count}
          </button>
        );
      })}
    </div>
  );
}
