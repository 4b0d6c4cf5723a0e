import { useEffect, useMemo, useState } from "react";
import { Provider } from "urql";
import { makeClient, storeToken, storedToken } from "./client";
import { Link } from "./components/Link";
import { useRoute } from "./router";
import { Login } from "./screens/Login";
import { PaymentDetail } from "./screens/PaymentDetail";
import { Payments } from "./screens/Payments";
import { Portfolio } from "./screens/Portfolio";

export function App() {
  const [token, setToken] = useState(storedToken);
  const [reason, setReason] = useState<string | undefined>();
  const route = useRoute();
  const signIn = (value: string | null, why?: string) => {
    storeToken(value);
    setToken(value);
    setReason(why);
  };
  const connection = useMemo(
    () =>
      token
        ? makeClient(token, () => signIn(null, "The gateway refused your token (expired or revoked): paste a new one."))
        : null,
    [token],
  );
  useEffect(() => () => connection?.close(), [connection]);
  if (!connection) return <Login onToken={(value) => signIn(value)} reason={reason} />;
  return (
    <Provider value={connection.client}>
      <nav className="top">
        <strong>PayGraph</strong>
        <Link to={{ screen: "payments" }} testId="nav-payments">
          Payments
        </Link>
        <Link to={{ screen: "portfolio", partnerId: null }} testId="nav-portfolio">
          Partner portfolio
        </Link>
        <button type="button" className="sign-out" data-testid="sign-out" onClick={() => signIn(null)}>
          Sign out
        </button>
      </nav>
      <main>
        {route.screen === "payments" && <Payments />}
        {route.screen === "payment" && <PaymentDetail key={route.id} id={route.id} />}
        {route.screen === "portfolio" && <Portfolio partnerId={route.partnerId} />}
      </main>
    </Provider>
  );
}
