/**
 * Reading the addresses an admin pastes to import: one or many per line, separated by commas,
 * semicolons or spaces, also as `Name <address>` (how mail programs copy them). Duplicates
 * (ignoring case) are dropped; anything that is not an address is reported, not sent.
 */
import { emailProblem } from "../../lib/validation.ts";

/** The server's limit per importSubscribers call. */
export const IMPORT_LIMIT = 1000;

export interface ParsedImport {
  emails: string[];
  invalid: string[];
  duplicates: number;
}

const ANGLE_ADDRESS = /<([^<>]*)>/;

/** The candidate addresses of one entry (a line, or a part between commas or semicolons). */
function candidatesOf(entry: string): string[] {
  // `Ada Lovelace <ada@example.com>`: the name is not an address and not a mistake.
  const angle = ANGLE_ADDRESS.exec(entry);
  if (angle) return [angle[1]!.trim()];
  return entry.split(/\s+/).map((token) => token.replace(/^["'(]+|["')]+$/g, ""));
}

export function parseImportList(text: string): ParsedImport {
  const seen = new Set<string>();
  const result: ParsedImport = { emails: [], invalid: [], duplicates: 0 };
  for (const entry of text.split(/[\n,;]+/)) {
    for (const candidate of candidatesOf(entry.trim())) {
      if (!candidate) continue;
      if (emailProblem(candidate)) {
        result.invalid.push(candidate);
        continue;
      }
      const key = candidate.toLowerCase();
      if (seen.has(key)) {
        result.duplicates += 1;
        continue;
      }
      seen.add(key);
      result.emails.push(candidate);
    }
  }
  return result;
}
