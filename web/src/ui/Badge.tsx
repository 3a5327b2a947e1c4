export interface BadgeProps {
  count: number;
  label: string;
  tone?: "unread" | "mention";
}

export function Badge({ count, label, tone = "unread" }: BadgeProps) {
  if (count <= 0) return null;
  return (
    <span className={`badge badge-${tone}`} aria-label={label}>
      {tone === "mention" ? "@" : count > 999 ? "999+" : count}
    </span>
  );
}
