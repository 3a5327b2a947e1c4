import { useTranslation } from "react-i18next";
import type { Route } from "../../lib/router";
import { Badge } from "../../ui/Badge";
import { Icon } from "../../ui/Icon";

export interface NavRailProps {
  route: Route;
  unread: number;
  isAdmin: boolean;
  onNavigate(route: Route): void;
}

/** KakaoTalk PC's left column: 친구, 채팅, 설정 (and 관리자 for admins). */
export function NavRail({ route, unread, isAdmin, onNavigate }: NavRailProps) {
  const { t } = useTranslation();
  const items: { route: Route; icon: string; label: string; badge?: number }[] = [
    { route: { name: "people" }, icon: "people", label: t("nav.people") },
    { route: { name: "chats", roomId: null, info: false }, icon: "chats", label: t("nav.chats"), badge: unread },
    { route: { name: "settings" }, icon: "settings", label: t("nav.settings") },
  ];
  if (isAdmin) items.push({ route: { name: "admin" }, icon: "admin", label: t("nav.admin") });
  return (
    <nav className="nav-rail" aria-label={t("nav.label")}>
      {items.map((item) => {
        const current = item.route.name === route.name;
        return (
          <button
            key={item.route.name}
            type="button"
            className={`nav-item${current ? " current" : ""}`}
            aria-current={current ? "page" : undefined}
            aria-label={item.label}
            title={item.label}
            onClick={() => onNavigate(item.route)}
          >
            <Icon name={item.icon} size={26} />
            <span className="nav-label">{item.label}</span>
            {item.badge ? <Badge count={item.badge} label={t("rooms.totalUnread", { count: item.badge })} /> : null}
          </button>
        );
      })}
    </nav>
  );
}
