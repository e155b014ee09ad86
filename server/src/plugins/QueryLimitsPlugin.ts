/**
 * Bounds on what one GraphQL operation may ask for, in every mode (db/ERROR_CODES.md):
 *
 * - depth: fields nested in fields, fragments followed (introspection's `__` fields aside);
 * - aliases: counted as the operation runs them, a fragment once per use, so repeating an
 *   aliased fragment cannot multiply the work unseen;
 * - page size: `first` and `last` at most GRAPHQL_MAX_PAGE_SIZE, as literals or variables.
 *
 * Depth and aliases are validation rules (checked once per document, then cached); the page
 * size needs the variables' values, so it is checked when the operation executes. All answer
 * 400 with a code, before any SQL runs.
 */
import {
  GraphQLError,
  Kind,
  type ASTNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  type ValueNode,
} from "postgraphile/graphql";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxPageSize: number;
}

interface Measure {
  depth: number;
  aliases: number;
}

/** Depth and alias count of each operation; fragments measured once (cycles count as nothing). */
function measurer(document: DocumentNode) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measured = new Map<string, Measure>();
  const inProgress = new Set<string>();
  const measure = (selectionSet: SelectionSetNode): Measure => {
    let depth = 0;
    let aliases = 0;
    for (const selection of selectionSet.selections) {
      let inner: Measure = { depth: 0, aliases: 0 };
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith("__")) continue;
        const below = selection.selectionSet ? measure(selection.selectionSet) : inner;
        inner = { depth: below.depth + 1, aliases: below.aliases + (selection.alias ? 1 : 0) };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = measure(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || inProgress.has(name)) continue;
        let known = measured.get(name);
        if (!known) {
          inProgress.add(name);
          known = measure(fragment.selectionSet);
          inProgress.delete(name);
          measured.set(name, known);
        }
        inner = known;
      }
      depth = Math.max(depth, inner.depth);
      aliases += inner.aliases;
    }
    return { depth, aliases };
  };
  return measure;
}

const tooComplex = (message: string, node: ASTNode) =>
  new GraphQLError(message, { nodes: [node], extensions: { code: "QUERY_TOO_COMPLEX" } });

export function queryComplexityRule(limits: Pick<QueryLimits, "maxDepth" | "maxAliases">): ValidationRule {
  return (context) => {
    const measure = measurer(context.getDocument());
    return {
      OperationDefinition(operation) {
        const { depth, aliases } = measure(operation.selectionSet);
        if (depth > limits.maxDepth) {
          context.reportError(
            tooComplex(
              `The operation is nested ${depth} fields deep; at most ${limits.maxDepth} are allowed.`,
              operation,
            ),
          );
        }
        if (aliases > limits.maxAliases) {
          context.reportError(
            tooComplex(`The operation uses ${aliases} aliases; at most ${limits.maxAliases} are allowed.`, operation),
          );
        }
      },
    };
  };
}

/** The first `first`/`last` argument above the cap, with its value, if any. */
export function oversizedPage(
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  maxPageSize: number,
): { argument: string; value: number } | null {
  const defaults = new Map<string, ValueNode>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      if (variable.defaultValue) defaults.set(variable.variable.name.value, variable.defaultValue);
    }
  }
  const valueOf = (node: ValueNode): unknown => {
    if (node.kind === Kind.INT) return Number(node.value);
    if (node.kind !== Kind.VARIABLE) return undefined;
    const name = node.name.value;
    if (variables && Object.hasOwn(variables, name)) return variables[name];
    const fallback = defaults.get(name);
    return fallback ? valueOf(fallback) : undefined;
  };
  let found: { argument: string; value: number } | null = null;
  const visit = (node: unknown): void => {
    if (found || !node || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const astNode = node as { kind?: string; name?: { value: string }; value?: ValueNode };
    if (astNode.kind === Kind.ARGUMENT && (astNode.name?.value === "first" || astNode.name?.value === "last")) {
      const value = valueOf(astNode.value!);
      if (typeof value === "number" && value > maxPageSize) found = { argument: astNode.name.value, value };
      return;
    }
    if (astNode.kind === Kind.FIELD || astNode.kind === Kind.INLINE_FRAGMENT || astNode.kind === Kind.SELECTION_SET) {
      for (const [key, child] of Object.entries(astNode)) if (key !== "loc") visit(child);
      return;
    }
    if (
      astNode.kind === Kind.DOCUMENT ||
      astNode.kind === Kind.OPERATION_DEFINITION ||
      astNode.kind === Kind.FRAGMENT_DEFINITION
    ) {
      for (const [key, child] of Object.entries(astNode)) if (key !== "loc") visit(child);
    }
  };
  visit(document);
  return found;
}

export function makeQueryLimitsPlugin(limits: QueryLimits): GraphileConfig.Plugin {
  return {
    name: "QueryLimitsPlugin",
    version: "1.0.0",
    description: "Caps GraphQL operations' depth, aliases and page sizes.",
    grafserv: {
      middleware: {
        setPreset(next, event) {
          event.validationRules.push(queryComplexityRule(limits));
          return next();
        },
      },
    },
    grafast: {
      middleware: {
        execute(next, event) {
          const oversized = oversizedPage(event.args.document, event.args.variableValues, limits.maxPageSize);
          if (!oversized) return next();
          return {
            errors: [
              new GraphQLError(
                `\`${oversized.argument}\` is ${oversized.value}; pages hold at most ${limits.maxPageSize} records.`,
                { extensions: { code: "PAGE_SIZE_TOO_LARGE", maxPageSize: limits.maxPageSize } },
              ),
            ],
          };
        },
      },
    },
  };
}
