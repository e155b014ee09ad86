import { describe, expect, it } from "vitest";
import { parseImportList } from "./importList.ts";

describe("parseImportList", () => {
  it("reads addresses separated by lines, commas, semicolons and spaces", () => {
    expect(
      parseImportList("ada@example.com\nbob@example.com, cy@example.com;dee@example.com eve@example.com\n\n"),
    ).toEqual({
      emails: ["ada@example.com", "bob@example.com", "cy@example.com", "dee@example.com", "eve@example.com"],
      invalid: [],
      duplicates: 0,
    });
  });

  it("takes the address of `Name <address>` entries, as mail programs copy them", () => {
    expect(parseImportList('Ada Lovelace <ada@example.com>, "Bob, Jr." <bob@example.com>').emails).toEqual([
      "ada@example.com",
      "bob@example.com",
    ]);
  });

  it("drops duplicates ignoring case and keeps the first spelling", () => {
    expect(parseImportList("Ada@Example.com\nada@example.com\nADA@EXAMPLE.COM")).toEqual({
      emails: ["Ada@Example.com"],
      invalid: [],
      duplicates: 2,
    });
  });

  it("reports what is not an address instead of sending it", () => {
    expect(parseImportList("ada@example.com\nbob\nnot x@example.org\ncy@example")).toEqual({
      emails: ["ada@example.com", "x@example.org"],
      invalid: ["bob", "not", "cy@example"],
      duplicates: 0,
    });
  });

  it("reads nothing from an empty text", () => {
    expect(parseImportList("  \n ,; ")).toEqual({ emails: [], invalid: [], duplicates: 0 });
  });
});
