import { describe, expect, it } from "vitest";
import { ApiError } from "../../lib/errors";
import { AuthStore, type AuthTransport, type KeyValueStorage } from "./authStore";

class MemoryStorage implements KeyValueStorage {
  map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

function transport(): AuthTransport & { refreshes: string[] } {
  let n = 0;
  const refreshes: string[] = [];
  const answer = () => {
    n += 1;
    return { access_token: `a${n}`, refresh_token: `r${n}`, expires_in: 900, session_id: "s1", user_id: 7 };
  };
  return {
    refreshes,
    login: async (_u, p) => {
      if (p !== "pw") throw new ApiError(401, "invalid_credentials", "no");
      return answer();
    },
    refresh: async (token) => {
      refreshes.push(token);
      if (token === "dead") throw new ApiError(401, "refresh_invalid", "no");
      return answer();
    },
    logout: async () => undefined,
  };
}

describe("AuthStore", () => {
  it("logs in and keeps the session across a reload", async () => {
    const storage = new MemoryStorage();
    const t = transport();
    const a = new AuthStore({ transport: t, storage, now: () => 0 });
    await a.login("kim", "pw", "PC");
    const reloaded = new AuthStore({ transport: t, storage, now: () => 0 });
    expect(reloaded.userId).toBe(7);
    expect(await reloaded.accessToken()).toBe("a1");
  });

  it("refreshes once for many concurrent callers when the token is about to expire", async () => {
    const storage = new MemoryStorage();
    const t = transport();
    let now = 0;
    const a = new AuthStore({ transport: t, storage, now: () => now });
    await a.login("kim", "pw", "PC");
    now = 900_000;
    const tokens = await Promise.all([a.accessToken(), a.accessToken(), a.accessToken()]);
    expect(tokens).toEqual(["a2", "a2", "a2"]);
    expect(t.refreshes).toEqual(["r1"]);
  });

  it("uses the tokens another tab already refreshed instead of reusing the old refresh token", async () => {
    const storage = new MemoryStorage();
    const t = transport();
    const tab1 = new AuthStore({ transport: t, storage, now: () => 0 });
    await tab1.login("kim", "pw", "PC");
    const tab2 = new AuthStore({ transport: t, storage, now: () => 0 });
    await tab1.refresh();
    await tab2.refresh();
    expect(t.refreshes).toEqual(["r1"]);
    expect(await tab2.accessToken()).toBe("a2");
  });

  it("ends the session when the refresh token is refused", async () => {
    const storage = new MemoryStorage();
    storage.setItem(
      "sodam.auth",
      JSON.stringify({ accessToken: "x", refreshToken: "dead", expiresAt: 0, sessionId: "s", userId: 7 }),
    );
    const a = new AuthStore({ transport: transport(), storage, now: () => 10 });
    expect(await a.accessToken()).toBeNull();
    expect(a.getState()).toEqual({ tokens: null, endedReason: "session_expired" });
    expect(storage.map.size).toBe(0);
  });
});
