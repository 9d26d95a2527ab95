import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';

/** An SMTP receiver on loopback that takes every message and counts it (the mail benches' far end). */
export async function countingSmtp(): Promise<{ url: string; received: () => number; lastAt: () => number; close: () => Promise<void> }> {
  let received = 0;
  let lastAt = Number.NaN;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // No reverse DNS per connection: on loopback it only waits for a resolver.
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received++;
        lastAt = performance.now();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, lastAt: () => lastAt, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Raw nodemailer: `n` mails like the payout reports, `inFlight` at a time, as one transport. Returns ms. */
export async function rawMails(url: string, n: number, inFlight: number): Promise<number> {
  const transport = nodemailer.createTransport(url);
  const startedAt = performance.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < n) {
          const i = next++;
          await transport.sendMail({ from: 'payouts@popug.local', to: `raw-${i}@bench.local`, subject: `Popug payout for bench: ${i}`, text: 'Hello,\n\nyour balance was paid out.\n\nPopug payments', messageId: `<raw-${i}@bench.local>` });
        }
      }),
    );
  } finally {
    transport.close();
  }
  return performance.now() - startedAt;
}
