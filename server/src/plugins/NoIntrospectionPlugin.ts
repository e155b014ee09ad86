/**
 * In production the schema is not published: introspection queries fail validation.
 */
import { NoSchemaIntrospectionCustomRule } from "postgraphile/graphql";

export const NoIntrospectionPlugin: GraphileConfig.Plugin = {
  name: "NoIntrospectionPlugin",
  version: "1.0.0",
  description: "Refuses GraphQL introspection.",
  grafserv: {
    middleware: {
      setPreset(next, event) {
        event.validationRules.push(NoSchemaIntrospectionCustomRule);
        return next();
      },
    },
  },
};
