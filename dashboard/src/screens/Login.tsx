import { useState, type FormEvent } from "react";

/** A bearer token pasted in (`paygraph token`, or the one `paygraph serve --demo`
 * prints); kept in sessionStorage, so it leaves with the tab. */
export function Login({ onToken, reason }: { onToken: (token: string) => void; reason?: string }) {
  const [token, setToken] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim().replace(/^Bearer\s+/i, "");
    if (value) onToken(value);
  };
  return (
    <section className="login">
      <h1>PayGraph dashboard</h1>
      {reason && (
        <p className="errors" role="alert">
          {reason}
        </p>
      )}
      <form onSubmit={submit}>
        <label>
          Bearer token
          <textarea
            rows={4}
            value={token}
            onChange={(event) => setToken(event.target.value)}
            placeholder="eyJ…"
            data-testid="login-token"
          />
        </label>
        <button type="submit" data-testid="login-submit">
          Sign in
        </button>
      </form>
      <p className="hint">
        Get one with <code>paygraph token</code>, or from the lines <code>paygraph serve --demo</code> prints.
      </p>
    </section>
  );
}
