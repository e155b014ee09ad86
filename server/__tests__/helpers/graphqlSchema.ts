/**
 * The GraphQL schema as the generated tests see it: introspected from a running server, the
 * rows every connection lists per node type, documents built from a field and its arguments,
 * and the check every answer must pass whatever was sent (no 500, every error coded).
 */
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from "graphql";
import { expect } from "vitest";
import { graphql, type GraphQLResponse } from "./testServer.ts";

export async function introspectSchema(url: string): Promise<GraphQLSchema> {
  const introspection = await graphql(url, getIntrospectionQuery());
  expect(introspection.errors).toBeUndefined();
  return buildClientSchema(introspection.data as unknown as IntrospectionQuery);
}

/** Lower-case letters only: `maintenanceWindowId`, `MaintenanceWindow` and `maintenance_window` compare equal. */
export const normalize = (name: string) => name.toLowerCase().replace(/[^a-z]/g, "");

/** The wanted scalar fields of one listed row (e.g. id, rowId, name). */
export type ListedRow = Record<string, string>;

/**
 * Every connection the caller can list without arguments, by node type name: the rows with
 * their scalar fields `wanted` names, in the order the connections come in the schema.
 */
export async function listRowsByType(
  url: string,
  schema: GraphQLSchema,
  token: string,
  wanted: (field: string) => boolean,
): Promise<Map<string, ListedRow[]>> {
  const lists: { node: string; query: string; field: string }[] = [];
  for (const field of Object.values(schema.getQueryType()!.getFields())) {
    const type = getNamedType(field.type);
    if (!isObjectType(type) || !type.name.endsWith("Connection")) continue;
    if (field.args.some((arg) => isNonNullType(arg.type))) continue;
    const node = getNamedType(type.getFields().nodes?.type);
    if (!node || !isObjectType(node)) continue;
    const selection = Object.values(node.getFields())
      .filter((own) => wanted(own.name) && own.args.length === 0 && isScalarType(getNamedType(own.type)))
      .map((own) => own.name);
    if (selection.length === 0) continue;
    lists.push({ node: node.name, field: field.name, query: `{ ${field.name} { nodes { ${selection.join(" ")} } } }` });
  }
  // The lists are independent: asked at once, merged in schema order.
  const results = await Promise.all(lists.map(({ query }) => graphql(url, query, {}, { token })));
  const rows = new Map<string, ListedRow[]>();
  for (const [i, { node, field }] of lists.entries()) {
    const listed = (results[i]!.data?.[field]?.nodes ?? []) as ListedRow[];
    rows.set(node, [...(rows.get(node) ?? []), ...listed]);
  }
  return rows;
}

/** Scalars of an object type, one level into object fields, to see what comes back. */
export function selectionOf(type: GraphQLNamedType, depth = 0): string {
  if (!isObjectType(type)) return "";
  const parts: string[] = [];
  for (const field of Object.values((type as GraphQLObjectType).getFields())) {
    if (field.args.some((arg) => isNonNullType(arg.type))) continue;
    const named = getNamedType(field.type);
    if (isScalarType(named) || isEnumType(named)) parts.push(field.name);
    else if (depth < 2 && isObjectType(named)) {
      const inner = selectionOf(named, depth + 1);
      if (inner) parts.push(`${field.name} { ${inner} }`);
    }
  }
  return parts.join(" ");
}

export interface Probe {
  operation: "query" | "mutation";
  field: GraphQLField<unknown, unknown>;
  args: Record<string, unknown>;
}

/** An operation calling the probe's field with its arguments as variables, selecting what comes back. */
export function documentOf(probe: Probe): string {
  const vars = probe.field.args.filter((arg) => arg.name in probe.args);
  const declared = vars.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(", ");
  const passed = vars.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
  const named = getNamedType(probe.field.type);
  const selection = selectionOf(named);
  return `${probe.operation} Probe${declared ? `(${declared})` : ""} { ${probe.field.name}${passed ? `(${passed})` : ""}${
    selection ? ` { ${selection} }` : ""
  } }`;
}

/** The documented 5xx answers that are not the caller's doing (billing not set up, too slow). */
export const SERVER_SIDE_CODES = ["BILLING_NOT_CONFIGURED", "BILLING_UNAVAILABLE", "TIMEOUT"];

/** What no input may ever produce: a 5xx beyond SERVER_SIDE_CODES, an uncoded or internal error. */
export function expectCodedAnswer(label: string, result: GraphQLResponse) {
  if (result.status >= 500) expect(SERVER_SIDE_CODES, `${label}: HTTP ${result.status}`).toContain(result.code);
  for (const error of result.errors ?? []) {
    expect(error.extensions?.code, `${label}: uncoded error ${error.message}`).toBeTruthy();
    expect(error.extensions?.code, `${label}: ${error.message}`).not.toBe("INTERNAL_SERVER_ERROR");
  }
}
