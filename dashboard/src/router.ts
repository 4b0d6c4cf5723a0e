import { useEffect, useState } from "react";

/** A route under the dashboard's base path (Vite's `base`, /dashboard/). */
export type Route =
  | { screen: "payments" }
  | { screen: "payment"; id: string }
  | { screen: "portfolio"; partnerId: string | null };

const BASE = import.meta.env.BASE_URL.replace(/\/$/, "");

export function parseRoute(pathname: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "payments" && parts[1]) return { screen: "payment", id: parts[1] };
  if (parts[0] === "portfolio") return { screen: "portfolio", partnerId: parts[1] ?? null };
  return { screen: "payments" };
}

export function hrefOf(route: Route): string {
  switch (route.screen) {
    case "payments":
      return `${BASE}/`;
    case "payment":
      return `${BASE}/payments/${encodeURIComponent(route.id)}`;
    case "portfolio":
      return `${BASE}/portfolio${route.partnerId ? `/${encodeURIComponent(route.partnerId)}` : ""}`;
  }
}

export function navigate(route: Route): void {
  window.history.pushState(null, "", hrefOf(route));
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return route;
}
