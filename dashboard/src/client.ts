import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "urql";
import type { Exchange, Operation } from "urql";
import { createClient as createWsClient } from "graphql-ws";
import manifest from "./gql/persisted-documents.json";

/** The gateway's GraphQL endpoint: the same origin when `paygraph serve --dashboard`
 * serves the dashboard; `VITE_PAYGRAPH_URL` for `npm run dev` against a gateway with
 * PAYGRAPH_CORS_ORIGINS. */
export const graphqlUrl = new URL(
  import.meta.env.VITE_PAYGRAPH_URL ?? "/graphql",
  window.location.href,
).toString();

const TOKEN_KEY = "paygraph.token";

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const texts: Record<string, string> = manifest;

function hashOf(operation: Operation): string | undefined {
  const meta = (operation.query as { __meta__?: { hash?: string } }).__meta__;
  return meta?.hash;
}

/** Every operation is one of the gateway's trusted documents: it is sent by its SHA-256
 * (Apollo's `persistedQuery` extension, which urql sends without the text), so the
 * gateway runs exactly the text `paygraph documents check` passed. */
const trustedDocumentsExchange: Exchange = mapExchange({
  onOperation(operation) {
    const hash = hashOf(operation);
    if (!hash || operation.kind === "teardown") return operation;
    return {
      ...operation,
      extensions: { ...operation.extensions, persistedQuery: { version: 1, sha256Hash: hash } },
    };
  },
});

/** A client for `token`; `onUnauthenticated` runs when the gateway refuses it (expired,
 * revoked), so the user is asked for another instead of seeing every screen fail. */
export function makeClient(
  token: string,
  onUnauthenticated: () => void,
): { client: Client; close: () => void } {
  const ws = createWsClient({
    url: graphqlUrl.replace(/^http/, "ws"),
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 5,
  });
  const client = new Client({
    url: graphqlUrl,
    fetchOptions: () => ({ headers: { Authorization: `Bearer ${token}` } }),
    requestPolicy: "cache-and-network",
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((item) => item.extensions?.code === "UNAUTHENTICATED")) {
            onUnauthenticated();
          }
        },
      }),
      trustedDocumentsExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request, operation) {
          // graphql-transport-ws carries the text: the trusted one, by its hash.
          const hash = hashOf(operation);
          const query = (hash && texts[hash]) || request.query || "";
          return {
            subscribe: (sink) => ({
              unsubscribe: ws.subscribe({ ...request, query }, sink),
            }),
          };
        },
      }),
    ],
  });
  return { client, close: () => void ws.dispose() };
}
