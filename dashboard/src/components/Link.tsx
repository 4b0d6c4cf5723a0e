import type { MouseEvent, ReactNode } from "react";
import { hrefOf, navigate, type Route } from "../router";

export function Link({ to, children, testId }: { to: Route; children: ReactNode; testId?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={hrefOf(to)} onClick={onClick} data-testid={testId}>
      {children}
    </a>
  );
}
