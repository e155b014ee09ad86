/**
 * The small HTML pages behind subscription links. Following a link only shows a page with a
 * button: mail scanners fetch links in advance, so only the POST changes anything.
 */
import { escapeHtml } from "../public/feeds.ts";

function layout(title: string, content: string): string {
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>${escapeHtml(title)}</title>`,
    "<style>body{font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933;line-height:1.5}",
    "button{font-size:1rem;padding:.5rem 1rem;cursor:pointer}</style>",
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    content,
    "</body></html>",
  ].join("\n");
}

/** A page whose button POSTs the token back to the same address. */
export function actionPage(title: string, explanation: string, button: string, token: string): string {
  return layout(
    title,
    [
      `<p>${escapeHtml(explanation)}</p>`,
      '<form method="post">',
      `<input type="hidden" name="token" value="${escapeHtml(token)}">`,
      `<button type="submit">${escapeHtml(button)}</button>`,
      "</form>",
    ].join("\n"),
  );
}

export function messagePage(title: string, message: string, statusPageUrl?: string): string {
  const back = statusPageUrl ? `\n<p><a href="${escapeHtml(statusPageUrl)}">Back to the status page</a></p>` : "";
  return layout(title, `<p>${escapeHtml(message)}</p>${back}`);
}
