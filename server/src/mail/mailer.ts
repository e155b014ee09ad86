/**
 * Outgoing email through nodemailer: SMTP when SMTP_URL is set; otherwise every message is
 * written as an `.eml` file under DATA_DIR/mail with a log line, so a self-hosted install
 * without a mail server still works and shows what it would have sent.
 */
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer, { type Transporter } from "nodemailer";

export interface OutgoingMail {
  /** One recipient per message: subscribers never see each other's addresses. */
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. List-Unsubscribe. */
  headers?: Record<string, string>;
}

export interface Mailer {
  send(message: OutgoingMail): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl?: string | undefined;
  from: string;
  dataDir: string;
  log?: (line: string) => void;
}

export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl ? smtpMailer(options.smtpUrl, options.from) : fileMailer(options);
}

function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport: Transporter = nodemailer.createTransport(smtpUrl);
  return {
    async send(message) {
      await transport.sendMail({ from, ...message });
    },
    close: () => transport.close(),
  };
}

function fileMailer({ from, dataDir, log = console.log }: MailerOptions): Mailer {
  const folder = join(dataDir, "mail");
  const transport: Transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    async send(message) {
      const info = (await transport.sendMail({ from, ...message })) as { message: Buffer };
      await mkdir(folder, { recursive: true });
      const file = join(folder, `${new Date().toISOString().replace(/[:.]/g, "-")}-${randomUUID()}.eml`);
      await writeFile(file, info.message);
      log(`Mail to ${message.to} ("${message.subject}") written to ${file} (set SMTP_URL to send mail).`);
    },
    close: () => transport.close(),
  };
}
