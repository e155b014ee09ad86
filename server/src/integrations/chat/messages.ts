/**
 * The same summary in each chat service's incoming-webhook format. Tenant text (titles,
 * update bodies) is escaped where the format has markup, and Discord is told to ping nobody,
 * so an incident titled "@everyone" stays text.
 */
import type { EventSummary } from "./eventSummary.ts";

export type ChatKind = "slack" | "discord" | "teams";

const COLORS: Record<EventSummary["tone"], { hex: string; teams: string }> = {
  critical: { hex: "#d93f0b", teams: "attention" },
  warning: { hex: "#f0ad4e", teams: "warning" },
  good: { hex: "#2da44e", teams: "good" },
  info: { hex: "#0969da", teams: "accent" },
};

export function chatMessage(kind: ChatKind, summary: EventSummary): object {
  switch (kind) {
    case "slack":
      return slackMessage(summary);
    case "discord":
      return discordMessage(summary);
    case "teams":
      return teamsMessage(summary);
  }
}

/** Slack's mrkdwn treats &, < and > as markup (links, mentions). */
const slackEscape = (value: string) => value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function slackMessage(summary: EventSummary): object {
  const blocks: object[] = [
    { type: "header", text: { type: "plain_text", text: summary.title.slice(0, 150), emoji: false } },
    { type: "section", text: { type: "mrkdwn", text: `*${slackEscape(summary.headline)}*` } },
  ];
  if (summary.facts.length > 0) {
    blocks.push({
      type: "section",
      fields: summary.facts.map((fact) => ({
        type: "mrkdwn",
        text: `*${slackEscape(fact.name)}*\n${slackEscape(fact.value)}`.slice(0, 2000),
      })),
    });
  }
  if (summary.body) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: slackEscape(summary.body).slice(0, 3000) } });
  }
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `${slackEscape(summary.organizationName)} · <${summary.link.url}|${summary.link.label}>`,
      },
    ],
  });
  // `text` is what notifications and screen readers show.
  return { text: slackEscape(`${summary.title}: ${summary.headline}`), blocks };
}

/** Discord markdown: escape the characters that format or quote. */
const discordEscape = (value: string) => value.replace(/([\\*_~`|>#[\]()-])/g, "\\$1");

function discordMessage(summary: EventSummary): object {
  return {
    content: `**${discordEscape(summary.title)}**: ${discordEscape(summary.headline)}`.slice(0, 2000),
    embeds: [
      {
        title: summary.title.slice(0, 256),
        description: (summary.body ? `${summary.headline}\n\n${summary.body}` : summary.headline).slice(0, 4096),
        url: summary.link.url,
        color: Number.parseInt(COLORS[summary.tone].hex.slice(1), 16),
        fields: summary.facts.map((fact) => ({ name: fact.name, value: fact.value.slice(0, 1024), inline: true })),
        footer: { text: summary.organizationName.slice(0, 2048) },
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

/** A Microsoft Teams message carrying an Adaptive Card (Workflows and connector webhooks accept it). */
function teamsMessage(summary: EventSummary): object {
  const body: object[] = [
    { type: "TextBlock", text: summary.title, weight: "Bolder", size: "Medium", wrap: true },
    { type: "TextBlock", text: summary.headline, color: COLORS[summary.tone].teams, wrap: true },
  ];
  if (summary.facts.length > 0) {
    body.push({ type: "FactSet", facts: summary.facts.map((fact) => ({ title: fact.name, value: fact.value })) });
  }
  if (summary.body) body.push({ type: "TextBlock", text: summary.body, wrap: true });
  body.push({ type: "TextBlock", text: summary.organizationName, isSubtle: true, size: "Small", wrap: true });
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body,
          actions: [{ type: "Action.OpenUrl", title: summary.link.label, url: summary.link.url }],
        },
      },
    ],
  };
}
