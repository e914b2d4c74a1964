import type { MailMessage } from './mail.port';

/** Which message: the audit trail and the outbox name them so. */
export type MailKind = 'email-verification' | 'password-reset';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** "30 minutes", "24 hours", "1 hour". */
export function duration(seconds: number): string {
  const [n, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : [Math.max(1, Math.round(seconds / 60)), 'minute'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

interface Template {
  readonly subject: string;
  readonly intro: string;
  readonly action: string;
  readonly ignore: string;
}

const TEMPLATES: Record<MailKind, Template> = {
  'email-verification': {
    subject: 'Verify your email address',
    intro: 'Please confirm that this address belongs to your account by opening this link:',
    action: 'Verify my email address',
    ignore: 'If you did not create an account, you can ignore this message.',
  },
  'password-reset': {
    subject: 'Reset your password',
    intro: 'Someone asked to reset the password of the account with this address. To choose a new password, open this link:',
    action: 'Choose a new password',
    ignore: 'If you did not ask for this, ignore this message: your password stays as it is.',
  },
};

/** Plain text and a simple HTML version of the same message, around one link. */
export function renderMail(kind: MailKind, to: string, link: string, validForSeconds: number): MailMessage {
  const t = TEMPLATES[kind];
  const validity = `The link works for ${duration(validForSeconds)} and only once.`;
  const text = `${t.intro}\n\n${link}\n\n${validity}\n\n${t.ignore}\n`;
  const html =
    '<!doctype html><html><body style="font-family: sans-serif">' +
    `<p>${escapeHtml(t.intro)}</p>` +
    `<p><a href="${escapeHtml(link)}">${escapeHtml(t.action)}</a></p>` +
    `<p>${escapeHtml(validity)}</p>` +
    `<p>${escapeHtml(t.ignore)}</p>` +
    '</body></html>';
  return { to, subject: t.subject, text, html, link };
}
