import type { PersonSummary, Profile } from "../../lib/model";
import { Store } from "../../lib/store";

export interface PeopleApi {
  listUsers(afterId: number, limit: number): Promise<PersonSummary[]>;
  profile(userId: number): Promise<Profile>;
}

export interface PeopleState {
  byId: Record<number, PersonSummary>;
  profiles: Record<number, Profile>;
  loaded: boolean;
}

/** The people directory (names for ids everywhere) and profiles fetched on demand. */
export class PeopleStore extends Store<PeopleState> {
  private readonly api: PeopleApi;
  private readonly pendingProfiles = new Set<number>();

  constructor(api: PeopleApi) {
    super({ byId: {}, profiles: {}, loaded: false });
    this.api = api;
  }

  async load(): Promise<void> {
    const byId: Record<number, PersonSummary> = {};
    let after = 0;
    for (;;) {
      const page = await this.api.listUsers(after, 200);
      for (const p of page) byId[p.id] = p;
      const last = page[page.length - 1];
      if (page.length < 200 || !last) break;
      after = last.id;
    }
    this.setState((s) => ({ ...s, byId, loaded: true }));
  }

  hydrate(people: readonly PersonSummary[]): void {
    if (this.getState().loaded) return;
    const byId: Record<number, PersonSummary> = {};
    for (const p of people) byId[p.id] = p;
    this.setState((s) => ({ ...s, byId }));
  }

  name(userId: number | null | undefined): string | null {
    if (userId === null || userId === undefined) return null;
    return this.getState().byId[userId]?.display_name ?? null;
  }

  async loadProfile(userId: number, force = false): Promise<Profile | null> {
    if (!force && this.getState().profiles[userId]) return this.getState().profiles[userId] ?? null;
    if (this.pendingProfiles.has(userId)) return null;
    this.pendingProfiles.add(userId);
    try {
      const profile = await this.api.profile(userId);
      this.setProfile(profile);
      return profile;
    } catch {
      return null;
    } finally {
      this.pendingProfiles.delete(userId);
    }
  }

  /** A profile.updated frame: name, work status and status message as they are now. */
  applyProfileUpdate(userId: number, update: { display_name?: string; work_status?: string; status_message?: string | null }): void {
    this.setState((s) => {
      const person = s.byId[userId];
      const profile = s.profiles[userId];
      return {
        ...s,
        byId: person && update.display_name ? { ...s.byId, [userId]: { ...person, display_name: update.display_name } } : s.byId,
        profiles: profile
          ? {
              ...s.profiles,
              [userId]: {
                ...profile,
                ...(update.display_name ? { display_name: update.display_name } : {}),
                ...(update.work_status ? { work_status: update.work_status } : {}),
                ...(update.status_message !== undefined ? { status_message: update.status_message } : {}),
              },
            }
          : s.profiles,
      };
    });
  }

  setProfile(profile: Profile): void {
    this.setState((s) => {
      const person = s.byId[profile.user_id];
      return {
        ...s,
        profiles: { ...s.profiles, [profile.user_id]: profile },
        byId: person ? { ...s.byId, [profile.user_id]: { ...person, display_name: profile.display_name } } : s.byId,
      };
    });
  }
}
