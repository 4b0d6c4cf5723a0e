// Writes dist/trusted-documents.json: the dashboard's operations by the SHA-256 of their
// text, as GraphQL Code Generator's client preset wrote them (src/gql/persisted-documents.json),
// in the shape `paygraph documents check` and PAYGRAPH_TRUSTED_DOCUMENTS read. Each id is
// checked against its text here, so a change of hashing in the generator fails the build
// rather than every request.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const source = new URL("../src/gql/persisted-documents.json", import.meta.url);
const target = new URL("../dist/trusted-documents.json", import.meta.url);
const documents = JSON.parse(readFileSync(source, "utf8"));
const manifest = {};
for (const [hash, text] of Object.entries(documents)) {
  const digest = createHash("sha256").update(text, "utf8").digest("hex");
  if (digest !== hash) {
    console.error(`trusted-documents: ${hash} is not the SHA-256 of its text (${digest})`);
    process.exit(1);
  }
  manifest[`sha256:${hash}`] = text;
}
writeFileSync(target, JSON.stringify(manifest, null, 2) + "\n");
console.log(`trusted-documents: ${Object.keys(manifest).length} documents -> dist/trusted-documents.json`);
