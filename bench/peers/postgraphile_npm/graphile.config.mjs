// PostGraphile v5 for PayGraph's benchmark. bench/peers/postgraphile.py copies this file
// into the cache folder beside node_modules (so that the imports below resolve there) and
// runs `postgraphile -C graphile.config.mjs -p PORT -n 127.0.0.1` with Node 22.
//
// The environment says where to connect (DATABASE_URL, a plain postgresql:// URL) and how
// many connections to pool (POSTGRAPHILE_POOL_MAX). Production-ish: no GraphiQL, no watch
// mode, no plan/SQL explain, no websockets, no LISTEN client.
import { PgAggregatesPreset } from "@graphile/pg-aggregates";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  throw new Error("DATABASE_URL is not set");
}

export default {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset, PgAggregatesPreset],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public"],
      pubsub: false,
      poolConfig: { max: Number(process.env.POSTGRAPHILE_POOL_MAX ?? "20") },
    }),
  ],
  grafserv: { graphiql: false, watch: false, websockets: false },
  grafast: { explain: false },
  schema: {
    // W3 keeps the merchants that took a matching payment (`some` over a relation).
    connectionFilterRelations: true,
    // W2's fromDate / toDate are optional: a null or absent bound filters nothing.
    connectionFilterAllowNullInput: true,
    connectionFilterAllowEmptyObjectInput: true,
  },
};
