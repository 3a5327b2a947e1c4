import { createContext, useContext } from "react";
import type { AuthStore } from "../auth/authStore";
import type { Router } from "../../lib/router";
import type { ValueStore } from "../../lib/store";
import type { Session } from "./session";
import type { Locale } from "../../lib/i18n";

export type Theme = "system" | "light" | "dark";

export interface Preferences {
  locale: Locale;
  theme: Theme;
  notifications: boolean;
}

export interface AppServices {
  auth: AuthStore;
  router: Router;
  preferences: ValueStore<Preferences>;
}

export const AppContext = createContext<AppServices | null>(null);
export const SessionContext = createContext<Session | null>(null);

export function useApp(): AppServices {
  const value = useContext(AppContext);
  if (!value) throw new Error("AppContext missing");
  return value;
}

export function useSession(): Session {
  const value = useContext(SessionContext);
  if (!value) throw new Error("SessionContext missing");
  return value;
}
