import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { PersonSummary } from "../../lib/model";
import { Avatar } from "../../ui/Avatar";

export interface PeoplePickerProps {
  people: PersonSummary[];
  selected: Set<number>;
  onToggle(userId: number): void;
}

/** A searchable checklist of people. */
export function PeoplePicker({ people, selected, onToggle }: PeoplePickerProps) {
  const { t } = useTranslation();
  const [query, setQuery] = useState("");
  const shown = useMemo(() => {
    const q = query.trim().toLocaleLowerCase();
    return q ? people.filter((p) => `${p.display_name} ${p.username}`.toLocaleLowerCase().includes(q)) : people;
  }, [people, query]);
  return (
    <div className="people-picker">
      <input
        type="search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder={t("people.search")}
        aria-label={t("people.search")}
      />
      <ul className="picker-list" aria-label={t("people.title")}>
        {shown.map((p) => (
          <li key={p.id}>
            <label className="picker-row">
              <input type="checkbox" checked={selected.has(p.id)} onChange={() => onToggle(p.id)} />
              <Avatar name={p.display_name} seed={p.id} size={32} />
              <span className="picker-name">{p.display_name}</span>
              <span className="picker-sub">{p.username}</span>
            </label>
          </li>
        ))}
      </ul>
    </div>
  );
}
