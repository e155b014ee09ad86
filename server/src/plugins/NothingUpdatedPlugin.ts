/**
 * A generated `update*` mutation that matches no row the caller may change would answer
 * `null` with HTTP 200, while `delete*` raises: the client could not tell "done" from
 * "nothing there or not allowed". This makes updates answer like deletes: 404 NOT_FOUND.
 * Row-level security is what hides the row; this only gives the answer a code.
 */
import { object, sideEffect, type ExecutableStep } from "postgraphile/grafast";
import { wrapPlans } from "postgraphile/utils";
import { codedError } from "../errors.ts";

interface PayloadStep extends ExecutableStep {
  get(key: "result"): ExecutableStep;
}

export const NothingUpdatedPlugin = wrapPlans(
  (context) =>
    context.scope.isRootMutation && (context.scope as { isPgUpdateMutation?: boolean }).isPgUpdateMutation
      ? true
      : null,
  () => (plan) => {
    const $result = (plan() as PayloadStep).get("result");
    sideEffect($result, (row) => {
      if (row == null) throw codedError("NOT_FOUND", "No record you can change matches this id.");
    });
    // Created after the check, so the payload fails with it (grafast's implicit side-effect order).
    return object({ result: $result });
  },
  { name: "NothingUpdatedPlugin", description: "Generated updates that match no visible row answer NOT_FOUND." },
);
