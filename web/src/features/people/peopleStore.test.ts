import { describe, expect, it } from "vitest";
import type { PersonSummary, Profile } from "../../lib/model";
import { PresenceStore } from "../presence/presenceStore";
import { PeopleStore } from "./peopleStore";

const person = (id: number): PersonSummary => ({
  id,
  username: `u${id}`,
  display_name: `사람${id}`,
  is_admin: false,
  is_bot: false,
  active: true,
  created_at: "2025-01-01T00:00:00Z",
});

const profile = (id: number): Profile => ({
  user_id: id,
  display_name: `사람${id}`,
  title: null,
  email: null,
  phone: null,
  status_message: null,
  work_status: "working",
  locale: "ko",
  last_seen_at: null,
});

describe("PeopleStore", () => {
  it("pages through the whole directory", async () => {
    const all = Array.from({ length: 450 }, (_, i) => person(i + 1));
    const asked: number[] = [];
    const s = new PeopleStore({
      listUsers: async (after, limit) => {
        asked.push(after);
        return all.filter((p) => p.id > after).slice(0, limit);
      },
      profile: async (id) => profile(id),
    });
    await s.load();
    expect(Object.keys(s.getState().byId)).toHaveLength(450);
    expect(asked).toEqual([0, 200, 400]);
    expect(s.name(7)).toBe("사람7");
  });

  it("applies profile.updated in place (name, work status, status message)", async () => {
    const s = new PeopleStore({ listUsers: async () => [person(1)], profile: async (id) => profile(id) });
    await s.load();
    await s.loadProfile(1);
    s.applyProfileUpdate(1, { display_name: "김민수 과장", work_status: "meeting", status_message: "외근 중" });
    expect(s.name(1)).toBe("김민수 과장");
    expect(s.getState().profiles[1]).toMatchObject({ work_status: "meeting", status_message: "외근 중" });
  });
});

describe("PresenceStore", () => {
  it("knows online, away and offline; anything else is offline", () => {
    const p = new PresenceStore();
    p.set(1, "online");
    p.set(2, "away");
    p.set(3, "weird");
    expect([p.status(1), p.status(2), p.status(3), p.status(4)]).toEqual(["online", "away", "offline", "offline"]);
    const before = p.getState();
    p.set(1, "online");
    expect(p.getState()).toBe(before);
  });
});
