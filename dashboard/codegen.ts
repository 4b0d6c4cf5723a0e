import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed operations from the gateway's schema, and the persisted-documents manifest: each
// operation's text by its SHA-256, the shape `paygraph documents check` and
// PAYGRAPH_TRUSTED_DOCUMENTS read (gateway/manifest_file.py).
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { mode: "embedHashInDocument", hashAlgorithm: "sha256" },
      },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { BigInt: "string", Date: "string", DateTime: "string", Upload: "File" },
      },
    },
  },
};

export default config;
