/**
 * Property-based isolation (reference/security.md, "Proving isolation", step 8): fast-check
 * draws an actor acting in A, a tenant table, a command and one of B's rows as the foreign
 * target (its id, keys and references copied into the statement), and the same property as
 * the matrix must hold: nothing of B seen, nothing of B changed. On failure fast-check prints
 * the seed and the shrunk case; replay with `FC_SEED=<seed>`.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { createFullWorld } from "./helpers/fullSeed.ts";
import {
  ACTORS,
  COMMANDS,
  checkCase,
  expectBUnchanged,
  inRolledBack,
  prepareMatrix,
  tenantTables,
  type MatrixContext,
} from "./helpers/isolationMatrix.ts";

const RUNS = Number(process.env.FC_RUNS ?? 300);
let db: TestDatabase;
let ctx: MatrixContext;
/** Every row of B per table, as JSON, to pick foreign targets from. */
const rowsOfB = new Map<string, Record<string, unknown>[]>();

beforeAll(async () => {
  db = await createTestDatabase();
  const full = await createFullWorld(db.rootPool);
  const tables = await tenantTables(db);
  ctx = await prepareMatrix(db, full, tables);
  for (const table of tables) {
    const { rows } = await db.rootPool.query<{ row: Record<string, unknown> }>(
      `select to_jsonb(t) as row from ${table.name} t where t."${table.orgColumn}" = $1`,
      [full.b.organizationId],
    );
    rowsOfB.set(
      table.name,
      rows.map((r) => r.row),
    );
  }
});
afterAll(async () => {
  await db?.drop();
});

describe("isolation, fuzzed", () => {
  it(`holds for ${RUNS} random (actor, table, command, row of B) cases`, { timeout: 60_000 }, async () => {
    const names = ctx.tables.map((t) => t.name);
    const property = fc.asyncProperty(
      fc.constantFrom(...ACTORS),
      fc.constantFrom(...names),
      fc.constantFrom(...COMMANDS),
      fc.nat(),
      async (actor, name, command, pick) => {
        const table = ctx.tables.find((t) => t.name === name)!;
        const candidates = rowsOfB.get(name)!;
        // The drawn row of B becomes the sample the statement copies its keys and references from.
        const saved = ctx.samples.get(name)!;
        ctx.samples.set(name, candidates[pick % candidates.length] ?? saved);
        try {
          await inRolledBack(db, async (client) => {
            await checkCase(client, ctx, table, actor, command, true);
            await expectBUnchanged(client, ctx, `${name} × ${actor} × ${command}`);
          });
        } finally {
          ctx.samples.set(name, saved);
        }
      },
    );
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
    await fc.assert(property, { numRuns: RUNS, seed, verbose: 1 });
    console.log(`isolation fuzz: ${RUNS} runs`);
    expect(RUNS).toBeGreaterThan(0);
  });
});
