/**
 * Tenant tables are keyed `(organization_id, id)` in the database (DESIGN.md §6), which makes
 * cross-tenant references impossible. In the API the tenant column is noise: every request
 * acts in one organization and row-level security shows only its rows, so the rest of the
 * key identifies a row among those the caller can see. This plugin drops the leading
 * `organization_id` from such keys (giving `incident(rowId)`, `updateIncident({rowId})`,
 * short node ids), names relations after their other key columns (`incidentUpdate.incident`,
 * `incident.incidentUpdates` rather than `…ByOrganizationIdAndIncidentId`), and keeps the
 * column out of inputs, conditions and ordering.
 */
const TENANT_COLUMN = "organization_id";
/**
 * Tables whose policies show rows of several organizations at once (a user sees their own
 * memberships everywhere, for the organization switcher): only their primary key is
 * shortened, since a shortened unique such as (user_id) would not be unique among them.
 */
const MULTI_ORGANIZATION_TABLES = new Set(["organization_memberships"]);

interface GatherUnique {
  attributes: string[];
}

interface DetailedKey {
  attributeName: string;
}

interface GatherAttribute {
  extensions?: { tags?: Record<string, unknown> };
}

export const TenantKeyPlugin: GraphileConfig.Plugin = {
  name: "TenantKeyPlugin",
  version: "1.0.0",
  description: "Hides organization_id from the keys, inputs, filters and ordering of tenant tables.",
  inflection: {
    replace: {
      // @graphile/simplify-inflection derives relation names from the foreign-key columns.
      _getBaseNameFromKeys(previous, _options, detailedKeys: DetailedKey[]) {
        const withoutTenant = detailedKeys.filter((key) => key.attributeName !== TENANT_COLUMN);
        const keys = withoutTenant.length > 0 ? withoutTenant : detailedKeys;
        return previous!(keys as never);
      },
    },
  },
  gather: {
    hooks: {
      pgTables_unique(_info, event) {
        const unique = event.unique as GatherUnique & { isPrimary?: boolean };
        if (MULTI_ORGANIZATION_TABLES.has(event.pgClass.relname) && !unique.isPrimary) return;
        if (unique.attributes.length > 1 && unique.attributes[0] === TENANT_COLUMN) {
          unique.attributes = unique.attributes.slice(1);
        }
      },
      pgCodecs_attribute(_info, event) {
        if (event.pgAttribute.attname !== TENANT_COLUMN || !event.pgClass.relrowsecurity) return;
        const attribute = event.attribute as GatherAttribute;
        const tags = (attribute.extensions ??= {}).tags ?? {};
        const existing = tags.behavior;
        const behaviors = Array.isArray(existing) ? existing : existing ? [existing] : [];
        tags.behavior = [...behaviors, "-insert", "-update", "-filterBy", "-orderBy"];
        attribute.extensions.tags = tags;
      },
    },
  },
};
