import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { useStore } from "../../lib/store";
import { Avatar } from "../../ui/Avatar";
import { Dialog } from "../../ui/Dialog";
import { useSession } from "../shell/context";

export interface ProfileCardProps {
  userId: number;
  onClose(): void;
  onChat(): void;
}

export function ProfileCard({ userId, onClose, onChat }: ProfileCardProps) {
  const { t } = useTranslation();
  const session = useSession();
  const person = useStore(session.people, (s) => s.byId[userId]);
  const profile = useStore(session.people, (s) => s.profiles[userId]);
  const presence = useStore(session.presence, (s) => s.users[userId]);
  useEffect(() => {
    void session.people.loadProfile(userId, true);
  }, [session, userId]);
  const name = profile?.display_name ?? person?.display_name ?? "";
  return (
    <Dialog
      title={name}
      onClose={onClose}
      footer={
        <button type="button" className="primary" onClick={onChat}>
          {userId === session.userId ? t("people.chatSelf") : t("people.chat")}
        </button>
      }
    >
      <div className="profile-card">
        <Avatar name={name} seed={userId} size={88} presence={presence?.status ?? "offline"} />
        {profile?.status_message ? <p className="profile-status">{profile.status_message}</p> : null}
        <dl className="profile-fields">
          {profile ? (
            <>
              <dt>{t("profile.workStatus")}</dt>
              <dd>{t(`workStatus.${profile.work_status}`)}</dd>
            </>
          ) : null}
          {profile?.title ? (
            <>
              <dt>{t("profile.title")}</dt>
              <dd>{profile.title}</dd>
            </>
          ) : null}
          {profile?.email ? (
            <>
              <dt>{t("profile.email")}</dt>
              <dd>{profile.email}</dd>
            </>
          ) : null}
          {profile?.phone ? (
            <>
              <dt>{t("profile.phone")}</dt>
              <dd>{profile.phone}</dd>
            </>
          ) : null}
          <dt>{t("profile.presence")}</dt>
          <dd>{t(`presence.${presence?.status ?? "offline"}`)}</dd>
        </dl>
      </div>
    </Dialog>
  );
}
