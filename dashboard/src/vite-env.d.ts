/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The gateway's /graphql URL for `npm run dev` (default: /graphql on this origin). */
  readonly VITE_PAYGRAPH_URL?: string;
}
