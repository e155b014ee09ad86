/**
 * Which files may be attached, decided from their bytes, not from what the browser claims:
 * binary formats by their signature (file-type), text formats by extension and by being
 * valid UTF-8 without NUL bytes. Anything else is refused.
 */
import { fileTypeFromBuffer } from "file-type";

const BINARY_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"]);
const TEXT_TYPES_BY_EXTENSION: Record<string, string> = {
  txt: "text/plain",
  log: "text/plain",
  csv: "text/csv",
  json: "application/json",
};
const TEXT_TYPES = new Set(Object.values(TEXT_TYPES_BY_EXTENSION));
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function isPlainText(content: Buffer): boolean {
  if (content.includes(0)) return false;
  try {
    strictUtf8.decode(content);
    return true;
  } catch {
    return false;
  }
}

/** The content type to store and serve, or null when the file is not allowed. */
export async function allowedContentType(filename: string, declared: string, content: Buffer): Promise<string | null> {
  const detected = await fileTypeFromBuffer(content);
  if (detected) return BINARY_TYPES.has(detected.mime) ? detected.mime : null;
  const extension = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  const byExtension = extension ? TEXT_TYPES_BY_EXTENSION[extension] : undefined;
  // A file with another extension (.html, .svg, …) is refused even if declared as text.
  const byDeclaration = !extension && TEXT_TYPES.has(declared) ? declared : undefined;
  const textType = byExtension ?? byDeclaration;
  return textType && isPlainText(content) ? textType : null;
}
