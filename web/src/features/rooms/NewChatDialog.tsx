import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../lib/errors";
import { errorText } from "../../lib/i18n";
import { useStore } from "../../lib/store";
import { Dialog } from "../../ui/Dialog";
import { PeoplePicker } from "../people/PeoplePicker";
import { useSession } from "../shell/context";

export interface NewChatDialogProps {
  onClose(): void;
  onCreated(roomId: number): void;
}

/** Pick people: one makes (or reopens) a 1:1 room, several make a group. */
export function NewChatDialog({ onClose, onCreated }: NewChatDialogProps) {
  const { t } = useTranslation();
  const session = useSession();
  const byId = useStore(session.people, (s) => s.byId);
  const people = Object.values(byId).filter((p) => p.id !== session.userId && p.active);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const group = selected.size > 1;

  async function create() {
    setBusy(true);
    setError(null);
    try {
      const ids = [...selected];
      const room =
        ids.length === 0
          ? await session.api.createRoom({ kind: "self" })
          : ids.length === 1 && ids[0] !== undefined
            ? await session.api.createRoom({ kind: "direct", user_id: ids[0] })
            : await session.api.createRoom({
                kind: "group",
                name: name.trim() || ids.map((id) => byId[id]?.display_name ?? "").join(", ").slice(0, 100),
                member_ids: ids,
              });
      session.rooms.upsert(room);
      session.sync.trackRooms([room]);
      onCreated(room.id);
    } catch (err) {
      setError(err instanceof ApiError ? err.code : "network_error");
      setBusy(false);
    }
  }

  return (
    <Dialog
      title={t("newChat.title")}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button type="button" className="primary" onClick={create} disabled={busy}>
            {selected.size === 0 ? t("newChat.self") : group ? t("newChat.createGroup", { count: selected.size + 1 }) : t("newChat.createDirect")}
          </button>
        </>
      }
    >
      {group ? (
        <label className="field">
          <span>{t("newChat.groupName")}</span>
          <input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} placeholder={t("newChat.groupNamePlaceholder")} />
        </label>
      ) : null}
      <PeoplePicker
        people={people}
        selected={selected}
        onToggle={(id) =>
          setSelected((prev) => {
            const next = new Set(prev);
            if (next.has(id)) next.delete(id);
            else next.add(id);
            return next;
          })
        }
      />
      {error ? (
        <p className="form-error" role="alert">
          {errorText(t, error)}
        </p>
      ) : null}
    </Dialog>
  );
}
