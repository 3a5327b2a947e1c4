import { useStore } from "../../lib/store";
import { useSession } from "../shell/context";

/**
 * `<img src>` and download links cannot carry the bearer token: they use the HttpOnly media cookie
 * the server sets with each token (docs/files.md, "Downloads"), which expires with the token. These
 * keep it fresh at the moment it is needed.
 */
export interface MediaAccess {
  /** True when the cookie is about to expire (refresh before a download starts). */
  stale(): boolean;
  /** Refreshes the token (and with it the cookie); at most once a minute when `force`d. */
  freshen(force?: boolean): Promise<void>;
}

export function useMedia(): MediaAccess {
  return useSession().media;
}

/** Whether the server scans files for viruses; null until server-info has answered. */
export function useVirusScanning(): boolean | null {
  const session = useSession();
  return useStore(session.virusScanning, (v) => v);
}
