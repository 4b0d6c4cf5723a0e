import type { CombinedError } from "urql";
import { readableErrors } from "../errors";

export function ErrorList({ error }: { error: CombinedError | undefined }) {
  if (!error) return null;
  return (
    <ul className="errors" role="alert" data-testid="errors">
      {readableErrors(error).map((item, index) => (
        <li key={index} data-code={item.code}>
          <code>{item.code}</code> {item.message}
        </li>
      ))}
    </ul>
  );
}

/** A subscription's failure: the page still works, only without live updates. */
export function LiveError({ error }: { error: CombinedError | undefined }) {
  if (!error) return null;
  return (
    <p className="hint" data-testid="live-error">
      Live updates are off: {readableErrors(error).map((item) => item.message).join(" ")}
    </p>
  );
}
