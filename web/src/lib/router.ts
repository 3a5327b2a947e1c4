import { Store } from "./store";

export type Route =
  | { name: "login" }
  | { name: "chats"; roomId: number | null; info: boolean; files?: boolean }
  | { name: "people" }
  | { name: "settings" }
  | { name: "admin" };

export function parseRoute(path: string): Route {
  const parts = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
  const [first, second, third] = parts;
  if (first === "login") return { name: "login" };
  if (first === "people") return { name: "people" };
  if (first === "settings") return { name: "settings" };
  if (first === "admin") return { name: "admin" };
  if (first === "chats" && second && /^\d+$/.test(second)) {
    if (third === "files") return { name: "chats", roomId: Number(second), info: false, files: true };
    return { name: "chats", roomId: Number(second), info: third === "info" };
  }
  return { name: "chats", roomId: null, info: false };
}

export function routePath(route: Route): string {
  switch (route.name) {
    case "chats":
      if (route.roomId === null) return "/chats";
      return `/chats/${route.roomId}${route.info ? "/info" : route.files ? "/files" : ""}`;
    default:
      return `/${route.name}`;
  }
}

/** The address bar as a store: the app reads the route, links and actions call navigate. */
export class Router extends Store<Route> {
  private readonly history: History;

  constructor(location: Location, history: History, target: Window) {
    super(parseRoute(location.pathname));
    this.history = history;
    target.addEventListener("popstate", () => this.setState(parseRoute(location.pathname)));
  }

  navigate(route: Route, replace = false): void {
    const path = routePath(route);
    if (replace) this.history.replaceState(null, "", path);
    else this.history.pushState(null, "", path);
    this.setState(route);
  }
}
