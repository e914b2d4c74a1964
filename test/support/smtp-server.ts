import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { getFreePort } from './free-port';

/**
 * A real SMTP server for one suite (npm's smtp-server, nodemailer's sibling), on a free loopback
 * port: the app's SMTP adapter delivers to it over the wire, and tests read what arrived.
 *
 *   const smtp = await startSmtp();                 // MAIL_URL: smtp.url
 *   const mail = await smtp.waitFor((m) => m.to.includes(email));
 *   smtp.refuse(2);                                 // the next 2 deliveries get 451
 *   await smtp.stop();
 *
 * Plain SMTP without STARTTLS, no AUTH (`secure: true` gives smtps:// with the package's built-in
 * test certificate: its URL then says `tls.rejectUnauthorized=false`).
 */
export interface ReceivedMail {
  readonly from: string;
  /** Envelope recipients. */
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The first http(s) link of the text part. */
  readonly link: string | undefined;
  readonly receivedAt: number;
}

export interface SmtpHarness {
  readonly url: string;
  readonly port: number;
  /** Every message accepted so far, oldest first. */
  readonly messages: readonly ReceivedMail[];
  /** DATA commands seen (accepted or refused): delivery attempts. */
  readonly attempts: number;
  /** The first message (already here or still to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Messages to `address` (envelope recipient), oldest first. */
  to(address: string): ReceivedMail[];
  /** Refuse the next `n` deliveries with this reply code (451: try again later). */
  refuse(n: number, code?: number): void;
  stop(): Promise<void>;
}

export async function startSmtp(opts: { secure?: boolean } = {}): Promise<SmtpHarness> {
  const messages: ReceivedMail[] = [];
  const waiters: Array<{ match: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }> = [];
  let attempts = 0;
  let refusals: { left: number; code: number } = { left: 0, code: 451 };

  const options: SMTPServerOptions = {
    secure: opts.secure ?? false,
    logger: false,
    authOptional: true,
    disabledCommands: opts.secure ? ['AUTH'] : ['STARTTLS', 'AUTH'],
    size: 1024 * 1024,
    onData(stream, session, callback) {
      attempts++;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refusals.left > 0) {
          refusals.left--;
          callback(Object.assign(new Error('Try again later'), { responseCode: refusals.code }));
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (parsed) => {
            const text = parsed.text ?? '';
            const mail: ReceivedMail = {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? '',
              text,
              html: typeof parsed.html === 'string' ? parsed.html : '',
              link: /https?:\/\/\S+/.exec(text)?.[0],
              receivedAt: Date.now(),
            };
            messages.push(mail);
            for (const w of [...waiters]) {
              if (w.match(mail)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve(mail);
              }
            }
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  };
  const server = new SMTPServer(options);
  const port = await getFreePort('127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

  return {
    url: opts.secure ? `smtps://127.0.0.1:${port}/?tls.rejectUnauthorized=false` : `smtp://127.0.0.1:${port}`,
    port,
    messages,
    get attempts() {
      return attempts;
    },
    waitFor(match, timeoutMs = 10_000) {
      const already = messages.find(match);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (m: ReceivedMail) => (clearTimeout(timer), resolve(m)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching mail within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    to: (address) => messages.filter((m) => m.to.includes(address)),
    refuse(n, code = 451) {
      refusals = { left: n, code };
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
