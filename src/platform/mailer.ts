import nodemailer from 'nodemailer';

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** A stable Message-ID, so a mail server or client can drop a resend of the same report. */
  messageId: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** An SMTP mailer (smtp:// or smtps://, credentials in the URL). One connection at a time. */
export function smtpMailer(url: string, timeoutMs = 10_000): Mailer {
  const transport = nodemailer.createTransport(url, { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  return {
    async send(m) {
      await transport.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text, messageId: m.messageId });
    },
    close() {
      transport.close();
    },
  };
}
